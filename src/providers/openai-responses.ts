/** OpenAI Responses API (api.openai.com or any server speaking it). */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { modelRequestToResponses, responsesEventsToEvents } from '../protocol/convert/responses.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { fromOpenAIError } from './errors.ts';
import { guardStream } from './stream-guard.ts';
import type { CallOptions, Provider } from './types.ts';

export interface OpenAIClientOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  streamIdleMs: number;
  organization?: string;
  headers?: Record<string, string>;
}

export function openaiClient(o: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    apiKey: o.apiKey,
    baseURL: o.baseURL,
    organization: o.organization ?? null,
    timeout: o.timeoutMs,
    maxRetries: 0, // the router retries and fails over
    defaultHeaders: o.headers,
  });
}

export class OpenAIResponsesProvider implements Provider {
  readonly api = 'openai-responses' as const;
  readonly owner = 'openai';
  private readonly client: OpenAI;
  private readonly streamIdleMs: number;
  constructor(o: OpenAIClientOptions) {
    this.client = openaiClient(o);
    this.streamIdleMs = o.streamIdleMs;
  }

  async open(req: ModelRequest, opts: CallOptions) {
    const abort = new AbortController();
    const signal = AbortSignal.any([opts.signal, abort.signal]);
    let stream: AsyncIterable<ResponseStreamEvent>;
    try {
      stream = await this.client.responses.create(modelRequestToResponses(req), { signal });
    } catch (e) {
      throw fromOpenAIError(e);
    }
    return guardStream(responsesEventsToEvents(stream), this.streamIdleMs, abort);
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    return listOpenAIModels(this.client, signal);
  }
}

export async function listOpenAIModels(client: OpenAI, signal: AbortSignal): Promise<string[]> {
  try {
    const ids: string[] = [];
    for await (const m of client.models.list({ signal })) ids.push(m.id);
    return ids;
  } catch (e) {
    throw fromOpenAIError(e);
  }
}
