/**
 * The gateway's outbound HTTP client: one undici keep-alive pool for every upstream (model providers
 * call `request` on it directly, see providers/http.ts), and the `fetch` the MCP SDK's client transports
 * use: undici's `request` wrapped in a WHATWG Response, at about three quarters of the global fetch's
 * cost per call.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

// No cap on connections per origin: a cap would queue concurrent model streams behind each other, and
// every later request to an MCP server behind its sessions' GET streams.
export const dispatcher = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });

function plainHeaders(init: RequestInit['headers']): Record<string, string> {
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

export const outboundFetch: typeof fetch = async (input, init = {}) => {
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
