/** What every OpenAI-API provider shares: the client, the model list, embeddings and images. */
import OpenAI from 'openai';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import { fromOpenAIError } from './errors.ts';
import { providerFetch } from './fetch.ts';
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
  protected readonly client: OpenAI;
  protected readonly streamIdleMs: number;

  constructor(o: OpenAIClientOptions) {
    this.client = new OpenAI({
      apiKey: o.apiKey,
      baseURL: o.baseURL,
      organization: o.organization ?? null,
      timeout: o.timeoutMs,
      maxRetries: 0, // the router retries and fails over
      defaultHeaders: o.headers,
      fetch: providerFetch,
    });
    this.streamIdleMs = o.streamIdleMs;
  }

  async listModels(signal: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of this.client.models.list({ signal })) ids.push(m.id);
      return ids;
    } catch (e) {
      throw fromOpenAIError(e);
    }
  }

  async embed(body: EmbeddingCreateParams, opts: CallOptions): Promise<CreateEmbeddingResponse> {
    try {
      return await this.client.embeddings.create(body, { signal: opts.signal });
    } catch (e) {
      throw fromOpenAIError(e);
    }
  }

  async generateImage(body: ImageGenerateParamsNonStreaming, opts: CallOptions): Promise<ImagesResponse> {
    try {
      return await this.client.images.generate(body, { signal: opts.signal });
    } catch (e) {
      throw fromOpenAIError(e);
    }
  }
}
