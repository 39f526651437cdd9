/**
 * One upstream API as a provider calls it: its base URL, the headers every call carries (prepared
 * once), and its time limits. Streams come back decoded into canonical event batches.
 */
import type { StreamDecoder } from '../protocol/stream-decoder.ts';
import { send, sendJson } from './http.ts';
import { decodeSse } from './sse.ts';
import type { ModelStream } from './types.ts';

export interface EndpointOptions {
  baseURL: string;
  headers: Record<string, string>;
  timeoutMs: number;
  streamIdleMs: number;
}

export class Endpoint {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly streamIdleMs: number;

  constructor(o: EndpointOptions) {
    this.base = o.baseURL.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json', ...o.headers };
    this.timeoutMs = o.timeoutMs;
    this.streamIdleMs = o.streamIdleMs;
  }

  /** POSTs `body` and decodes the SSE answer; resolves once the upstream accepted the request. */
  async stream(path: string, body: unknown, decoder: StreamDecoder, signal: AbortSignal): Promise<ModelStream> {
    const res = await send(this.base + path, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(body),
      signal,
      timeoutMs: this.timeoutMs,
      bodyTimeoutMs: 0,
    });
    return decodeSse(res.body, decoder, this.streamIdleMs);
  }

  post<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    return sendJson<T>(this.base + path, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(body),
      signal,
      timeoutMs: this.timeoutMs,
      bodyTimeoutMs: this.timeoutMs,
    });
  }

  get<T>(path: string, signal: AbortSignal): Promise<T> {
    return sendJson<T>(this.base + path, { method: 'GET', headers: this.headers, signal, timeoutMs: this.timeoutMs, bodyTimeoutMs: this.timeoutMs });
  }
}
