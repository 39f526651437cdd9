/**
 * The HTTP edge while the gateway stops: once draining, readiness answers 503 and every new request gets
 * 503 with `retry-after` (a balancer sends it elsewhere), while the requests already in flight go on.
 * `idle()` resolves once none is. MCP GET streams (a session's notification channel) are not waited for:
 * they end with their sessions.
 */
import type { Context, Next } from 'koa';
import { ApiError } from '../protocol/errors.ts';
import { isMcpPath } from './errors.ts';

export class Drain {
  private draining = false;
  private inflight = 0;
  private waiters: (() => void)[] = [];

  get isDraining(): boolean {
    return this.draining;
  }

  /** From now on, new requests are refused. */
  begin(): void {
    this.draining = true;
    if (this.inflight === 0) this.wake();
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  middleware() {
    return async (ctx: Context, next: Next) => {
      if (this.draining && !ctx.path.startsWith('/health'))
        throw new ApiError(503, 'The gateway is shutting down; send the request again (another replica will take it).', {
          type: 'server_error',
          code: 'shutting_down',
          headers: { 'retry-after': '1', connection: 'close' },
        });
      if (ctx.method === 'GET' && isMcpPath(ctx.path)) return next();
      this.inflight++;
      try {
        await next();
      } finally {
        if (--this.inflight === 0) this.wake();
      }
    };
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
