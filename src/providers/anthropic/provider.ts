/** Anthropic Messages API. */
import type { Message } from '@anthropic-ai/sdk/resources/messages/messages';
import { modelRequestToAnthropic } from './request.ts';
import { AnthropicStreamDecoder, anthropicMessageToOutput } from './decode.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import { Endpoint } from '../endpoint.ts';
import type { CallOptions, Provider } from '../types.ts';

/** The API version every request names (Anthropic's only stable one). */
const ANTHROPIC_VERSION = '2023-06-01';

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
  private readonly endpoint: Endpoint;
  private readonly defaultMaxTokens: number;

  constructor(o: AnthropicOptions) {
    this.defaultMaxTokens = o.defaultMaxTokens;
    this.endpoint = new Endpoint({
      baseURL: `${o.baseURL.replace(/\/+$/, '')}/v1`,
      headers: { 'x-api-key': o.apiKey, 'anthropic-version': ANTHROPIC_VERSION, ...o.headers },
      timeoutMs: o.timeoutMs,
      streamIdleMs: o.streamIdleMs,
    });
  }

  stream(req: ModelRequest, opts: CallOptions) {
    const { body, calls } = modelRequestToAnthropic(req, { defaultMaxTokens: this.defaultMaxTokens });
    return this.endpoint.stream('/messages', body, mapDecoder(new AnthropicStreamDecoder(), calls), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const { body, calls } = modelRequestToAnthropic(req, { defaultMaxTokens: this.defaultMaxTokens });
    const out = anthropicMessageToOutput(await this.endpoint.post<Message>('/messages', { ...body, stream: false }, opts.signal));
    return mapOutput(out, calls);
  }

  /** Every page of GET /v1/models. */
  async listModels(signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const query: string = after ? `&after_id=${encodeURIComponent(after)}` : '';
      const page = await this.endpoint.get<{ data?: { id: string }[]; has_more?: boolean; last_id?: string | null }>(`/models?limit=1000${query}`, signal);
      for (const m of page.data ?? []) ids.push(m.id);
      after = page.has_more && page.last_id ? page.last_id : null;
    } while (after);
    return ids;
  }
}
