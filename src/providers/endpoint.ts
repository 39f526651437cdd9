/**
 * One upstream API as a provider calls it: its base URL, the headers every call carries (prepared
 * once), how each request is authorised when a fixed header is not enough (a refreshed token, a
 * signature over the body), and its time limits. Streams come back decoded into canonical event batches.
 */
import { ProviderError } from '../protocol/errors.ts';
import type { StreamDecoder } from '../protocol/stream-decoder.ts';
import { send, sendJson, type SendOptions } from './http.ts';
import { decodeStream, type Framing } from './stream-body.ts';
import type { ModelStream } from './types.ts';

/** A request about to be sent, as a signer sees it. */
export interface OutgoingRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * Authorises one request: returns the headers to send (the request's own plus its credentials).
 * Synchronous while a cached token serves; a promise only when it must fetch or refresh one.
 */
export type RequestSigner = (req: OutgoingRequest, signal: AbortSignal) => Record<string, string> | Promise<Record<string, string>>;

export interface EndpointOptions {
  baseURL: string;
  headers: Record<string, string>;
  timeoutMs: number;
  streamIdleMs: number;
  signer?: RequestSigner;
}

export class Endpoint {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly streamIdleMs: number;
  private readonly signer: RequestSigner | undefined;

  constructor(o: EndpointOptions) {
    this.base = o.baseURL.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json', ...o.headers };
    this.timeoutMs = o.timeoutMs;
    this.streamIdleMs = o.streamIdleMs;
    this.signer = o.signer;
  }

  /** The full URL of a path (which may carry a query). */
  url(path: string): string {
    return this.base + path;
  }

  /**
   * POSTs `body` and decodes the streamed answer (SSE unless another framing is given); resolves once
   * the upstream accepted the request.
   */
  async stream(path: string, body: unknown, decoder: StreamDecoder, signal: AbortSignal, framing?: Framing): Promise<ModelStream> {
    const res = await send(this.base + path, await this.prepare('POST', path, JSON.stringify(body), signal, 0));
    return decodeStream(res.body, decoder, this.streamIdleMs, framing);
  }

  async post<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    return sendJson<T>(this.base + path, await this.prepare('POST', path, JSON.stringify(body), signal, this.timeoutMs));
  }

  async get<T>(path: string, signal: AbortSignal): Promise<T> {
    return sendJson<T>(this.base + path, await this.prepare('GET', path, undefined, signal, this.timeoutMs));
  }

  private prepare(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal,
    bodyTimeoutMs: number,
  ): SendOptions | Promise<SendOptions> {
    const opts = { method, headers: this.headers, body, signal, timeoutMs: this.timeoutMs, bodyTimeoutMs };
    if (!this.signer) return opts;
    let signed: Record<string, string> | Promise<Record<string, string>>;
    try {
      signed = this.signer({ method, url: this.base + path, headers: this.headers, body }, signal);
    } catch (e) {
      throw authError(e);
    }
    if (!(signed instanceof Promise)) return { ...opts, headers: signed };
    return signed.then(
      (headers) => ({ ...opts, headers }),
      (e) => {
        throw authError(e);
      },
    );
  }
}

/** Credentials that could not be had (a token exchange refused, no credentials found): the gateway's, so not retried. */
function authError(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  return new ProviderError(`cannot authenticate to the model provider: ${(e as Error)?.message ?? String(e)}`, {
    kind: 'http',
    status: 401,
    type: 'authentication_error',
  });
}
