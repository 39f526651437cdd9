/**
 * What every OpenAI-API provider shares: its endpoint, the model list, embeddings and images. A host
 * that serves OpenAI's API under other paths or credentials (Azure OpenAI) gives its own `paths` and `auth`.
 */
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import { Endpoint } from './endpoint.ts';
import type { CallOptions } from './types.ts';

/** Where each call goes, relative to the base URL; a path may carry a query. `model` is the upstream model. */
export interface OpenAIPaths {
  chat(model: string): string;
  responses: string;
  /** null: the upstream lists nothing that can be called by name (Azure lists base models, not deployments). */
  models: string | null;
  embeddings(model: string): string;
  images(model: string): string;
}

/** OpenAI's own paths (and those of every compatible server). */
export const OPENAI_PATHS: OpenAIPaths = {
  chat: () => '/chat/completions',
  responses: '/responses',
  models: '/models',
  embeddings: () => '/embeddings',
  images: () => '/images/generations',
};

export interface OpenAIClientOptions {
  apiKey: string;
  baseURL: string;
  timeoutMs: number;
  streamIdleMs: number;
  organization?: string;
  headers?: Record<string, string>;
  /** Default: OpenAI's. */
  paths?: OpenAIPaths;
  /** The headers that authorise a call, in place of `authorization: Bearer <apiKey>` (Azure's `api-key`). */
  auth?: Record<string, string>;
}

export abstract class OpenAIProviderBase {
  protected readonly endpoint: Endpoint;
  protected readonly paths: OpenAIPaths;

  constructor(o: OpenAIClientOptions) {
    this.paths = o.paths ?? OPENAI_PATHS;
    this.endpoint = new Endpoint({
      baseURL: o.baseURL,
      headers: {
        ...(o.auth ?? { authorization: `Bearer ${o.apiKey}` }),
        ...(o.organization ? { 'openai-organization': o.organization } : {}),
        ...o.headers,
      },
      timeoutMs: o.timeoutMs,
      streamIdleMs: o.streamIdleMs,
    });
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    if (this.paths.models === null) return [];
    const page = await this.endpoint.get<{ data?: { id: string }[] }>(this.paths.models, signal);
    return (page.data ?? []).map((m) => m.id);
  }

  embed(body: EmbeddingCreateParams, opts: CallOptions): Promise<CreateEmbeddingResponse> {
    return this.endpoint.post(this.paths.embeddings(body.model), body, opts.signal);
  }

  generateImage(body: ImageGenerateParamsNonStreaming, opts: CallOptions): Promise<ImagesResponse> {
    return this.endpoint.post(this.paths.images(body.model ?? ''), body, opts.signal);
  }
}
