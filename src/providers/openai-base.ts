/** What every OpenAI-API provider shares: its endpoint, the model list, embeddings and images. */
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import { Endpoint } from './endpoint.ts';
import type { CallOptions } from './types.ts';

export interface OpenAIClientOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  streamIdleMs: number;
  organization?: string;
  headers?: Record<string, string>;
}

export abstract class OpenAIProviderBase {
  protected readonly endpoint: Endpoint;

  constructor(o: OpenAIClientOptions) {
    this.endpoint = new Endpoint({
      baseURL: o.baseURL,
      headers: { authorization: `Bearer ${o.apiKey}`, ...(o.organization ? { 'openai-organization': o.organization } : {}), ...o.headers },
      timeoutMs: o.timeoutMs,
      streamIdleMs: o.streamIdleMs,
    });
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    const page = await this.endpoint.get<{ data?: { id: string }[] }>('/models', signal);
    return (page.data ?? []).map((m) => m.id);
  }

  embed(body: EmbeddingCreateParams, opts: CallOptions): Promise<CreateEmbeddingResponse> {
    return this.endpoint.post('/embeddings', body, opts.signal);
  }

  generateImage(body: ImageGenerateParamsNonStreaming, opts: CallOptions): Promise<ImagesResponse> {
    return this.endpoint.post('/images/generations', body, opts.signal);
  }
}
