/**
 * Node's HTTP objects in and out of the SDK's web-standard Streamable HTTP transport, in place of the
 * SDK's own Node wrapper (@hono/node-server). That wrapper, to learn whether a streamed body ends at
 * once, waits a timer tick (a millisecond or more) before writing anything, even when the answer is
 * already there: once the rest of a proxied tool call got fast, that wait was its floor. Here an event
 * stream's first write waits only until its answer is there (see FIRST_WRITE_WAIT_MS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The `Headers` methods the transport calls, over Node's parsed header record (names already lower-case). */
class RequestHeaders {
  private readonly byName: Record<string, string>;
  constructor(byName: Record<string, string>) {
    this.byName = byName;
  }
  get(name: string): string | null {
    return this.byName[name.toLowerCase()] ?? null;
  }
  entries(): IterableIterator<[string, string]> {
    return Object.entries(this.byName)[Symbol.iterator]();
  }
}

/**
 * The request as the transport reads it: method, URL and headers (its body is always passed parsed,
 * so it never reads one). Not a full `Request`: building one, with its abort signal, finalizer and
 * header copies, cost some 30 µs per message. Throws on a malformed URL or Host.
 */
export function toWebRequest(req: IncomingMessage, overrides: Record<string, string> = {}, signal?: AbortSignal): Request {
  const url = `http://${req.headers.host}${req.url}`;
  if (!URL.canParse(url)) throw new TypeError(`Invalid URL: ${url}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const request = { method: req.method ?? 'GET', url, headers: new RequestHeaders(Object.assign(headers, overrides)), ...(signal ? { signal } : {}) };
  return request as unknown as Request;
}

/** Writes the transport's response; an event stream stays open until the transport or the client ends it. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (response.body && headers['content-type']?.startsWith('text/event-stream')) {
    res.writeHead(response.status, headers);
    await pipeEvents(response.body, res);
    return;
  }
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  if (body) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers).end(body);
}

/**
 * How long the head and first event of a stream may wait for more. The first event is the priming one
 * (an id to resume from), written before the request is even handled; its answer, on a fast tool call,
 * follows a fraction of a millisecond later, and then both go out in one write. Writing the priming
 * event at once would cost a write of its own, at the moment the upstream call is being sent.
 */
const FIRST_WRITE_WAIT_MS = 5;

async function pipeEvents(events: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = events.getReader();
  // A client that goes away cancels the stream, so the transport forgets it (and a resume may take its place).
  const cancel = () => void reader.cancel().catch(() => {});
  res.once('close', cancel);
  const socket = res.socket;
  let held = socket !== null;
  socket?.cork();
  const stopHolding = () => {
    held = false;
    clearTimeout(timer);
  };
  const release = () => {
    if (!held) return;
    stopHolding();
    if (!res.headersSent && !res.destroyed) res.flushHeaders();
    socket!.uncork();
  };
  const timer = setTimeout(release, FIRST_WRITE_WAIT_MS);
  let written = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      const accepted = res.write(value);
      // A second event: the answer is here or under way. Released after this tick, so an end that follows at once shares the write.
      if (++written === 2) process.nextTick(release);
      if (!accepted) {
        release();
        await drained(res);
      }
    }
    if (res.destroyed) release();
    else {
      stopHolding(); // end() uncorks the connection itself, after its last bytes
      res.end();
    }
  } catch {
    res.destroy();
  } finally {
    release();
    res.off('close', cancel);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
