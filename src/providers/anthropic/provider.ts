/** Anthropic's Messages API, direct or on a cloud that serves it under its own paths and credentials (Vertex AI). */
import type { Message } from '@anthropic-ai/sdk/resources/messages/messages';
import { modelRequestToAnthropic } from './request.ts';
import { AnthropicStreamDecoder, anthropicMessageToOutput } from './decode.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import { Endpoint, type RequestSigner } from '../endpoint.ts';
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
  /**
   * A cloud's form of the API (Vertex AI): the path of each call (the model named in it, not in the
   * body), the `anthropic_version` the body carries, and how requests are authorised.
   */
  cloud?: {
    path(model: string, stream: boolean): string;
    anthropicVersion: string;
    signer: RequestSigner;
    owner: string;
  };
}

type AnthropicBody = ReturnType<typeof modelRequestToAnthropic>['body'];

export class AnthropicProvider implements Provider {
  readonly api = 'anthropic' as const;
  readonly owner: string;
  private readonly endpoint: Endpoint;
  private readonly defaultMaxTokens: number;
  private readonly cloud: AnthropicOptions['cloud'];

  constructor(o: AnthropicOptions) {
    this.defaultMaxTokens = o.defaultMaxTokens;
    this.cloud = o.cloud;
    this.owner = o.cloud?.owner ?? 'anthropic';
    this.endpoint = new Endpoint({
      baseURL: o.cloud ? o.baseURL : `${o.baseURL.replace(/\/+$/, '')}/v1`,
      headers: o.cloud ? { ...o.headers } : { 'x-api-key': o.apiKey, 'anthropic-version': ANTHROPIC_VERSION, ...o.headers },
      timeoutMs: o.timeoutMs,
      streamIdleMs: o.streamIdleMs,
      signer: o.cloud?.signer,
    });
  }

  /** The call's path and body: a cloud names the model in the path and the API version in the body. */
  private call(body: AnthropicBody, stream: boolean): { path: string; body: object } {
    if (!this.cloud) return { path: '/messages', body: stream ? body : { ...body, stream: false } };
    const { model, ...rest } = body;
    return { path: this.cloud.path(model, stream), body: { ...rest, stream, anthropic_version: this.cloud.anthropicVersion } };
  }

  stream(req: ModelRequest, opts: CallOptions) {
    const converted = modelRequestToAnthropic(req, { defaultMaxTokens: this.defaultMaxTokens });
    const { path, body } = this.call(converted.body, true);
    return this.endpoint.stream(path, body, mapDecoder(new AnthropicStreamDecoder(), converted.calls), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const converted = modelRequestToAnthropic(req, { defaultMaxTokens: this.defaultMaxTokens });
    const { path, body } = this.call(converted.body, false);
    const out = anthropicMessageToOutput(await this.endpoint.post<Message>(path, body, opts.signal));
    return mapOutput(out, converted.calls);
  }

  /** Every page of GET /v1/models (a cloud lists its models elsewhere: none here). */
  async listModels(signal: AbortSignal): Promise<string[]> {
    if (this.cloud) return [];
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
