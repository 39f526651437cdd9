/**
 * Server-Sent Events over a raw Node response. Writing is synchronous and reports backpressure: the
 * producer waits on `drain()` only when `send` said the socket is full. Comment keep-alives go out while
 * the producer is silent; the HTTP response starts only with the first event, so a failure before any
 * output can still be answered with a normal HTTP error. Events sent in one turn of the event loop go out in one write.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Context } from 'koa';

/** Characters queued for the next write beyond which the producer is asked to wait (as a socket's high-water mark). */
const PENDING_LIMIT = 16 * 1024;

export class SseWriter {
  private readonly res: ServerResponse;
  private readonly keepAliveMs: number;
  private readonly headers: () => OutgoingHttpHeaders;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** Frames of this turn of the event loop, written together once its I/O is handled (one socket write for everything that arrived). */
  private pending = '';
  /** Something was written since the keep-alive timer last fired. */
  private wrote = false;
  private draining: Promise<void> | undefined;

  /** `headers` is asked once, when the stream starts (the edge's own headers, e.g. x-request-id). */
  constructor(res: ServerResponse, keepAliveMs: number, headers: () => OutgoingHttpHeaders) {
    this.res = res;
    this.keepAliveMs = keepAliveMs;
    this.headers = headers;
  }

  get isStarted(): boolean {
    return this.started;
  }

  private get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  private start(): void {
    this.started = true;
    this.res.writeHead(200, {
      ...this.headers(),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.socket?.setNoDelay(true);
    // One timer per stream, refreshed: a comment goes out only after a whole period without data.
    this.timer = setTimeout(() => {
      if (this.closed) return;
      if (!this.wrote) this.res.write(': keep-alive\n\n');
      this.wrote = false;
      this.timer!.refresh();
    }, this.keepAliveMs);
    this.timer.unref();
  }

  /** Queues one event. Returns false when the socket is full: wait for `drain()` before sending more. */
  send(data: string, event?: string): boolean {
    if (!this.started) this.start();
    if (this.closed) return true;
    if (this.pending === '') setImmediate(this.flush);
    this.pending += event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
    return this.pending.length < PENDING_LIMIT && !this.res.writableNeedDrain;
  }

  private readonly flush = (): void => {
    const frames = this.pending;
    if (frames === '') return;
    this.pending = '';
    this.wrote = true;
    if (!this.closed) this.res.write(frames);
  };

  /** Resolves when the socket takes writes again, or is gone. One pair of listeners, however often it is called. */
  drain(): Promise<void> {
    const res = this.res;
    this.flush();
    if (this.closed || !res.writableNeedDrain) return Promise.resolve();
    this.draining ??= new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        this.draining = undefined;
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    return this.draining;
  }

  end(): void {
    clearTimeout(this.timer);
    this.flush();
    if (this.started && !this.closed) this.res.end();
  }
}

/**
 * An SSE writer for a Koa request: Koa stands aside once the stream starts; its headers go out with it.
 * `streams` counts it open until its response closes.
 */
export function sseFor(ctx: Context, keepAliveMs: number, streams?: { streamOpened(): void; streamClosed(): void }): SseWriter {
  if (streams) {
    streams.streamOpened();
    ctx.res.once('close', () => streams.streamClosed());
  }
  return new SseWriter(ctx.res, keepAliveMs, () => {
    ctx.respond = false;
    ctx.status = 200;
    return ctx.response.headers;
  });
}
