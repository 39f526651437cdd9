/**
 * A virtual key's limits at the edge: each model request (a POST under /v1) and each MCP request that calls
 * a tool is admitted once against the key's and its team's rpm, tpm and budget (one limiter call: one Redis
 * round trip), with OpenAI's `x-ratelimit-*` headers on the answer whatever it is; then metered, so every
 * model call of the run counts against tpm and budget as it ends, a non-streamed answer carries its cost
 * (`x-litellm-response-cost`, as LiteLLM sends it), and the request's spend log is written when it is over.
 */
import type { Context, Next } from 'koa';
import { Meter, type SpendSink } from '../access/meter.ts';
import { RequestAudit } from '../access/audit.ts';
import type { ToolCallAudit } from '../protocol/admin.ts';
import { type Admission, type Limiter, refusalError } from '../limits/index.ts';
import type { ToolAudit } from '../access/audit.ts';

declare module 'koa' {
  interface DefaultState {
    /** A model request's admission, started before its body is read. */
    admission?: Promise<Admission>;
    /** Where the request's MCP tool calls are recorded. */
    audit?: ToolAudit;
  }
}
import { isMcpPath } from './errors.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/** A JSON-RPC message (or batch) that calls a tool. */
function callsTool(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(callsTool);
  return !!body && typeof body === 'object' && (body as { method?: unknown }).method === 'tools/call';
}

/**
 * Two layers around the body reader. `admit` starts a /v1 model request's admission before the body is
 * read, so that Redis answers while the body arrives and is parsed; `meter` awaits it (an MCP request's
 * starts there: whether it calls a tool is in its body), answers a refusal, and meters what passes.
 */
export function metering(
  limiter: Limiter,
  spend: SpendSink,
  metrics?: Pick<Metrics, 'teamRequest' | 'teamCost'>,
  audits?: { add(record: ToolCallAudit): void },
) {
  const admit = (ctx: Context, next: Next) => {
    const caller = ctx.state.caller;
    if (caller?.subjects.length && ctx.method === 'POST' && ctx.path.startsWith('/v1/')) ctx.state.admission = limiter.admit(caller.subjects);
    return next();
  };
  const meter = async (ctx: Context, next: Next) => {
    const caller = ctx.state.caller;
    if (!caller || ctx.method !== 'POST') return next();
    if (!ctx.path.startsWith('/v1/') && !(isMcpPath(ctx.path) && callsTool(ctx.request.body))) return next();
    const admission = ctx.state.admission ?? (caller.subjects.length ? limiter.admit(caller.subjects) : undefined);
    let budgetLeft: number | undefined;
    if (admission) {
      const admitted = await admission;
      ctx.set(admitted.headers);
      if (!admitted.allowed) throw refusalError(admitted);
      budgetLeft = admitted.budgetLeft;
    }
    const team = caller.teamName;
    if (team) metrics?.teamRequest(team);
    const m = new Meter(caller, limiter, spend, ctx.state.requestId);
    ctx.state.meter = m;
    if (audits) ctx.state.audit = new RequestAudit(audits, ctx.state.requestId, caller);
    if (admission) {
      // What the run used goes to the limiter's store once the answer is out: off its path, yet before the
      // client can send another request to any replica.
      let flushed = false;
      const flush = () => {
        if (flushed) return;
        flushed = true;
        void limiter.flush();
      };
      ctx.res.once('finish', flush);
      ctx.res.once('close', flush);
    }
    try {
      await next();
      if (!ctx.res.headersSent) {
        ctx.set('x-litellm-response-cost', String(m.cost));
        // This answer spends what was left of a budget: its spend reaches the limiter's store before the answer
        // does, so that the client's next request is refused whichever replica gets it. (Otherwise the spend
        // goes once the answer is out, off its path.)
        if (budgetLeft !== undefined && m.cost >= budgetLeft) await limiter.flush();
      }
    } finally {
      m.end();
      if (team) metrics?.teamCost(team, m.cost);
    }
  };
  return { admit, meter };
}
