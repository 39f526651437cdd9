/**
 * One small interface for every model provider. A provider turns a canonical `ModelRequest` into its
 * own wire form, and its answer back into canonical events (streamed) or output items (not streamed).
 */
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import type { Logger } from 'pino';
import type { ModelEvent, ModelOutput } from '../protocol/events.ts';
import type { ClientToolCalls } from '../protocol/client-tools.ts';
import type { ModelRequest } from '../protocol/model-request.ts';

/** A model's streamed answer: the events of each network chunk, in order. */
export type ModelStream = AsyncIterable<ModelEvent[]>;

export interface CallOptions {
  signal: AbortSignal;
  log: Logger;
}

export interface Provider {
  /** Which wire API it speaks, for logs and /v1/models. */
  readonly api: 'openai-responses' | 'openai-chat' | 'anthropic';
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

/** A failure talking to a provider, normalised across wire formats (see http.ts). */
export class ProviderError extends Error {
  /** HTTP status from the upstream; undefined for connection failures and timeouts. */
  readonly status: number | undefined;
  readonly kind: 'http' | 'timeout' | 'connection' | 'aborted';
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    init: { status?: number; kind: ProviderError['kind']; type?: string; code?: string; param?: string; retryAfterMs?: number },
  ) {
    super(message);
    this.status = init.status;
    this.kind = init.kind;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Worth another attempt, on this deployment or the next: rate limits, server errors, timeouts, refused connections. */
  get retryable(): boolean {
    if (this.kind === 'aborted') return false;
    if (this.kind !== 'http') return true;
    return this.status === 408 || this.status === 409 || this.status === 429 || (this.status ?? 0) >= 500;
  }
}

/** What a request builder could not send, for the provider's log (the same labels as `x-toolgate-dropped-params`). */
export type DroppedFeature = string;

/** A provider request, what it leaves out, and how to map the model's calls back (null: nothing to map). */
export interface ConvertedRequest<B> {
  body: B;
  dropped: DroppedFeature[];
  calls: ClientToolCalls | null;
}
