/**
 * Per-request context: the `x-request-id` (taken from the client when sane), a logger that stamps it on
 * every line, an AbortSignal that fires when the client goes away, and one access-log line.
 */
import type { Context, Next } from 'koa';
import type { Caller } from '../access/caller.ts';
import type { Grant } from '../access/grants.ts';
import type { Meter } from '../access/meter.ts';
import type { ToolAudit } from '../access/audit.ts';
import type { Logger } from 'pino';
import { newId } from '../protocol/ids.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { endSpan, incomingContext, startSpan, tracingOn, withSpan } from '../telemetry/spans.ts';

const SANE_ID = /^[\x21-\x7e]{1,128}$/;

declare module 'koa' {
  interface DefaultState {
    log: Logger;
    requestId: string;
    signal: AbortSignal;
    /** Set by the key check on the paths that need a key. */
    caller?: Caller;
    /** Set on requests that count against the caller's limits (model and MCP tool calls). */
    meter?: Meter;
  }
}

/** The route a request matched, as its template (`/v1/responses/:id`), or `unmatched`: a bounded label. */
function routeOf(ctx: Context): string {
  return (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute?.toString() ?? 'unmatched';
}

export function requestContext(logger: Logger, metrics?: Pick<Metrics, 'httpRequest'>) {
  return async (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id');
    const requestId = SANE_ID.test(given) ? given : newId('req');
    // One span per request, continuing the client's `traceparent`; its trace id goes on every line the request logs.
    const span = tracingOn()
      ? startSpan(ctx.method, 'server', { 'http.request.method': ctx.method, 'url.path': ctx.path }, incomingContext(ctx.headers))
      : undefined;
    const log = logger.child(span ? { req_id: requestId, trace_id: span.spanContext().traceId } : { req_id: requestId });
    const abort = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) abort.abort();
    });
    ctx.state.requestId = requestId;
    ctx.state.log = log;
    ctx.state.signal = abort.signal;
    ctx.set('x-request-id', requestId);
    const started = performance.now();
    try {
      await withSpan(span, next);
    } finally {
      const elapsed = performance.now() - started;
      const route = routeOf(ctx);
      metrics?.httpRequest(route, ctx.method, ctx.status, elapsed / 1000);
      if (span) {
        span.updateName(`${ctx.method} ${route}`);
        endSpan(span, { 'http.route': route, 'http.response.status_code': ctx.status }, ctx.status >= 500 ? String(ctx.status) : undefined);
      }
      const ms = Math.round(elapsed * 10) / 10;
      const { meter, caller } = ctx.state;
      log.info(
        {
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          ms,
          aborted: abort.signal.aborted || undefined,
          model: meter?.model,
          tokens: meter?.model === undefined ? undefined : { input: meter.promptTokens, output: meter.completionTokens },
          tool_calls: meter?.toolCalls || undefined,
          key: caller?.key ? caller.name : undefined,
        },
        'request',
      );
    }
  };
}

/** What a route hands the agent: the request's cancellation, logger and headers, a virtual key's grant, its meter and audit. */
export function runContext(ctx: Context): {
  signal: AbortSignal;
  log: Logger;
  requestHeaders: Context['headers'];
  grant?: Grant;
  meter?: Meter;
  audit?: ToolAudit;
} {
  const { signal, log, caller, meter, audit } = ctx.state;
  return { signal, log, requestHeaders: ctx.headers, grant: caller?.grant, meter, audit };
}
