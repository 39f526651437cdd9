/**
 * One small interface for every model provider. A provider turns a canonical `ModelRequest` into its
 * own wire form, and its answer back into canonical events (streamed) or output items (not streamed).
 */
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import type { Logger } from 'pino';
import type { LitellmParams } from '../config/schema.ts';
import type { ModelEvent, ModelOutput } from '../protocol/events.ts';
import type { ClientToolCalls } from '../protocol/client-tools.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import type { ProviderApi } from '../protocol/passthrough.ts';

/** A model's streamed answer: the events of each network chunk, in order. */
export type ModelStream = AsyncIterable<ModelEvent[]>;

export interface CallOptions {
  signal: AbortSignal;
  log: Logger;
}

export interface Provider {
  /** Which wire API it speaks, for logs and /v1/models. */
  readonly api: ProviderApi;
  /** The organisation behind it, for /v1/models `owned_by`. */
  readonly owner: string;
  /**
   * A streamed model call. Resolves once the upstream accepted it (HTTP headers received), so failures
   * that happen before any output can still be retried or answered with an HTTP error.
   */
  stream(req: ModelRequest, opts: CallOptions): Promise<ModelStream>;
  /** A model call without streaming: one JSON answer, converted once. */
  complete(req: ModelRequest, opts: CallOptions): Promise<ModelOutput>;
  /** The upstream's own model list (ids as the upstream names them). */
  listModels(signal: AbortSignal): Promise<string[]>;
  /** Embeddings, where the provider offers them (OpenAI's wire form). */
  embed?(body: EmbeddingCreateParams, opts: CallOptions): Promise<CreateEmbeddingResponse>;
  /** Image generation, where the provider offers it (OpenAI's wire form). */
  generateImage?(body: ImageGenerateParamsNonStreaming, opts: CallOptions): Promise<ImagesResponse>;
}

/** What a request builder could not send, for the provider's log (the same labels as `x-toolgate-dropped-params`). */
export type DroppedFeature = string;

/** A provider request, what it leaves out, and how to map the model's calls back (null: nothing to map). */
export interface ConvertedRequest<B> {
  body: B;
  dropped: DroppedFeature[];
  calls: ClientToolCalls | null;
}

/** What every provider factory is given: the entry, the name after its prefix, and the shared limits. */
export interface ProviderContext {
  params: LitellmParams;
  /** The model name after the provider prefix (`gpt-4o` of `azure/gpt-4o`). */
  name: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  streamIdleMs: number;
  headers: Record<string, string> | undefined;
}

export interface CreatedProvider {
  provider: Provider;
  upstreamModel: string;
}
