/**
 * Server-Sent Events over the raw Node response: honours backpressure (waits for `drain`), sends
 * comment keep-alives while the producer is silent, and starts the HTTP response only on the first
 * event, so a failure before any output can still be answered with a normal HTTP error.
 */
import { once } from 'node:events';
import type { Context } from 'koa';

export class SseWriter {
  private readonly ctx: Context;
  private readonly keepAliveMs: number;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private corked = false;

  constructor(ctx: Context, keepAliveMs: number) {
    this.ctx = ctx;
    this.keepAliveMs = keepAliveMs;
  }

  get isStarted(): boolean {
    return this.started;
  }

  private get closed(): boolean {
    const res = this.ctx.res;
    return res.destroyed || res.writableEnded;
  }

  private start(): void {
    this.started = true;
    const { ctx } = this;
    ctx.respond = false;
    ctx.status = 200;
    ctx.res.writeHead(200, {
      ...(ctx.response.headers as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    ctx.req.socket.setNoDelay(true);
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closed) return;
      this.ctx.res.write(': keep-alive\n\n');
      this.arm();
    }, this.keepAliveMs);
    this.timer.unref();
  }

  /** Writes one event; resolves when the socket can take more. */
  async send(data: string, event?: string): Promise<void> {
    if (!this.started) this.start();
    if (this.closed) return;
    this.arm();
    const frame = event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
    const res = this.ctx.res;
    // Events produced in one tick (a provider chunk often yields several) go out in one write.
    if (!this.corked) {
      this.corked = true;
      res.cork();
      process.nextTick(() => this.uncork());
    }
    if (!res.write(frame)) {
      await Promise.race([once(this.ctx.res, 'drain'), once(this.ctx.res, 'close')]);
    }
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.ctx.res.uncork();
  }

  end(): void {
    clearTimeout(this.timer);
    this.uncork();
    if (this.started && !this.closed) this.ctx.res.end();
  }
}
