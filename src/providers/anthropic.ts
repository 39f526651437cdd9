/** Anthropic Messages API. */
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import { modelRequestToAnthropic } from '../protocol/convert/anthropic.ts';
import { anthropicEventsToEvents } from '../protocol/convert/anthropic-stream.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { fromAnthropicError } from './errors.ts';
import { providerFetch } from './fetch.ts';
import { guardStream } from './stream-guard.ts';
import type { CallOptions, Provider } from './types.ts';

export interface AnthropicOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  streamIdleMs: number;
  defaultMaxTokens: number;
  headers?: Record<string, string>;
}

export class AnthropicProvider implements Provider {
  readonly api = 'anthropic' as const;
  readonly owner = 'anthropic';
  private readonly client: Anthropic;
  private readonly o: AnthropicOptions;
  constructor(o: AnthropicOptions) {
    this.o = o;
    this.client = new Anthropic({
      apiKey: o.apiKey,
      baseURL: o.baseURL,
      timeout: o.timeoutMs,
      maxRetries: 0, // the router retries and fails over
      defaultHeaders: o.headers,
      fetch: providerFetch,
    });
  }

  async open(req: ModelRequest, opts: CallOptions) {
    const { body, dropped } = modelRequestToAnthropic(req, { defaultMaxTokens: this.o.defaultMaxTokens });
    if (dropped.length) opts.log.warn({ dropped, api: this.api }, 'request features the provider cannot serve were dropped');
    const abort = new AbortController();
    const signal = AbortSignal.any([opts.signal, abort.signal]);
    let stream: AsyncIterable<RawMessageStreamEvent>;
    try {
      stream = await this.client.messages.create(body, { signal });
    } catch (e) {
      throw fromAnthropicError(e);
    }
    return guardStream(anthropicEventsToEvents(stream), this.o.streamIdleMs, abort);
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of this.client.models.list({}, { signal })) ids.push(m.id);
      return ids;
    } catch (e) {
      throw fromAnthropicError(e);
    }
  }
}
