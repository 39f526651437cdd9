/**
 * The providers' HTTP client: undici's `request` on the gateway's keep-alive pool, with a body and headers
 * prepared by the caller. Every upstream failure (an HTTP status with its error body, a transport
 * error, a timeout, an abort) becomes a `ProviderError` here and nowhere else.
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { dispatcher } from '../net/http-client.ts';
import { ProviderError } from '../protocol/errors.ts';
import { injectTraceContext, tracingOn } from '../telemetry/spans.ts';

export interface SendOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Until the response headers arrive. */
  timeoutMs: number;
  /** Between body chunks; 0 leaves it to the caller (streams have their own idle guard). */
  bodyTimeoutMs: number;
}

/** The headers with the active trace context written in (a copy: the endpoint's headers are shared). */
function withTraceContext(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  injectTraceContext(out);
  return out;
}

/** Sends a request; resolves once the upstream answered 2xx with its headers, the body still to read. */
export async function send(url: string, o: SendOptions): Promise<Dispatcher.ResponseData> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: o.method,
      headers: tracingOn() ? withTraceContext(o.headers) : o.headers,
      body: o.body,
      signal: o.signal,
      dispatcher,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      // What is read ahead of a slow client, per response: the socket waits beyond it.
      highWaterMark: 16 * 1024,
    });
  } catch (e) {
    throw transportError(e, o.signal);
  }
  if (res.statusCode >= 400) throw await httpError(res.statusCode, res.headers, res.body);
  return res;
}

/** A JSON request whose JSON answer is read whole. */
export async function sendJson<T>(url: string, o: SendOptions): Promise<T> {
  const res = await send(url, o);
  try {
    return (await res.body.json()) as T;
  } catch (e) {
    if (e instanceof SyntaxError) throw new ProviderError(`the upstream answered with a body that is not JSON: ${e.message}`, { kind: 'http', status: 502 });
    throw transportError(e, o.signal);
  }
}

const MAX_ERROR_BODY = 64 * 1024;

async function readCapped(body: Readable): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += chunk;
      if (text.length > MAX_ERROR_BODY) {
        body.destroy();
        break;
      }
    }
  } catch {
    // what arrived is enough to name the error
  }
  return text;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function retryAfterMs(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header(headers, 'retry-after-ms')) return ms;
  const s = Number(header(headers, 'retry-after'));
  if (Number.isFinite(s) && s >= 0 && header(headers, 'retry-after')) return s * 1000;
  return undefined;
}

/**
 * An upstream's error answer. OpenAI and compatible servers send `{error: {message, type, code, param}}`;
 * Anthropic sends `{type: "error", error: {type, message}}`; Google sends `{error: {code, message, status}}`;
 * AWS sends `{message}` with the error's name in `x-amzn-errortype`; anything else is passed on as text.
 */
export async function httpError(status: number, headers: Dispatcher.ResponseData['headers'], body: Readable): Promise<ProviderError> {
  const text = await readCapped(body);
  let message = text.trim().slice(0, 2000) || `HTTP ${status}`;
  let type: string | undefined;
  let code: string | undefined;
  let param: string | undefined;
  try {
    const parsed = JSON.parse(text) as {
      error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown; status?: unknown } | string;
      message?: unknown;
    };
    const e = typeof parsed.error === 'object' && parsed.error ? parsed.error : undefined;
    if (typeof e?.message === 'string') message = e.message;
    else if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
    if (typeof e?.type === 'string') type = e.type;
    if (typeof e?.code === 'string') code = e.code;
    else if (type && (parsed as { type?: unknown }).type === 'error')
      code = type; // Anthropic names errors by type only
    else if (typeof e?.status === 'string') code = e.status; // Google: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...
    if (typeof e?.param === 'string') param = e.param;
  } catch {
    // not JSON: the text is the message
  }
  code ??= header(headers, 'x-amzn-errortype')?.split(':')[0] || undefined;
  return new ProviderError(message, { kind: 'http', status, type, code, param, retryAfterMs: retryAfterMs(headers) });
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export function requestAborted(): ProviderError {
  return new ProviderError('request aborted', { kind: 'aborted' });
}

/** Waits for `p` unless the request is cancelled first (a shared credential refresh itself goes on). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(requestAborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(requestAborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** A request that never got an HTTP answer: aborted by the caller, timed out, or could not connect. */
export function transportError(e: unknown, signal: AbortSignal): ProviderError {
  if (e instanceof ProviderError) return e;
  if (signal.aborted) return requestAborted();
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code;
  if (code && TIMEOUT_CODES.has(code)) return new ProviderError('the upstream did not answer in time', { kind: 'timeout' });
  if (err?.name === 'AbortError') return requestAborted();
  return new ProviderError(`cannot reach the upstream: ${err?.cause?.message ?? err?.message ?? String(e)}`, { kind: 'connection' });
}
