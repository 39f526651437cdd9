/**
 * The `fetch` the MCP SDK's client transports use for upstream servers: undici's `request` on a shared
 * keep-alive pool, wrapped in a WHATWG Response, at about three quarters of the global fetch's cost per
 * call. (Model providers use `http.ts` directly.)
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

// No cap on connections per origin: each MCP session's GET stream holds one, and a cap would queue every
// later request to that server behind them.
const dispatcher = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });

function plainHeaders(init: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/**
 * A web stream over a Node stream, with backpressure. Unlike `Readable.toWeb`, it never throws when the
 * Node side emits after the web side was cancelled or closed (a client gone mid-stream): that would be
 * an uncaught exception in the gateway.
 */
function toWebStream(body: Readable): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      body.on('data', (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) body.pause();
      });
      body.once('end', () => {
        if (done) return;
        done = true;
        controller.close();
      });
      body.once('error', (e) => {
        if (done) return;
        done = true;
        controller.error(e);
      });
    },
    pull() {
      body.resume();
    },
    cancel() {
      done = true;
      body.destroy();
    },
  });
}

export const providerFetch: typeof fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const body = init.body as string | Uint8Array | null | undefined;
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: plainHeaders(init.headers),
    body: body ?? undefined,
    signal: init.signal ?? undefined,
    dispatcher,
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : String(v));
  const nullBody = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
  if (nullBody) res.body.resume();
  return new Response(nullBody ? null : toWebStream(res.body), { status: res.statusCode, headers });
};
