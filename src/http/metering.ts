/**
 * A virtual key's limits at the edge: each model request (a POST under /v1) and each MCP request that calls
 * a tool is admitted once against the key's and its team's rpm, tpm and budget (one limiter call: one Redis
 * round trip), with OpenAI's `x-ratelimit-*` headers on the answer whatever it is; then metered, so every
 * model call of the run counts against tpm and budget as it ends, a non-streamed answer carries its cost
 * (`x-litellm-response-cost`, as LiteLLM sends it), and the request's spend log is written when it is over.
 */
import type { Context, Next } from 'koa';
import { Meter, type SpendSink } from '../access/meter.ts';
import { type Limiter, refusalError } from '../limits/index.ts';
import { isMcpPath } from './errors.ts';

/** A JSON-RPC message (or batch) that calls a tool. */
function callsTool(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(callsTool);
  return !!body && typeof body === 'object' && (body as { method?: unknown }).method === 'tools/call';
}

function metered(ctx: Context): boolean {
  if (ctx.method !== 'POST') return false;
  if (ctx.path.startsWith('/v1/')) return true;
  return isMcpPath(ctx.path) && callsTool(ctx.request.body);
}

export function metering(limiter: Limiter, spend: SpendSink) {
  return async (ctx: Context, next: Next) => {
    const caller = ctx.state.caller;
    if (!caller || !metered(ctx)) return next();
    if (caller.subjects.length) {
      const admission = await limiter.admit(caller.subjects);
      ctx.set(admission.headers);
      if (!admission.allowed) throw refusalError(admission);
    }
    const meter = new Meter(caller, limiter, spend, ctx.state.requestId);
    ctx.state.meter = meter;
    try {
      await next();
      if (!ctx.res.headersSent) ctx.set('x-litellm-response-cost', String(meter.cost));
    } finally {
      meter.end();
    }
  };
}
