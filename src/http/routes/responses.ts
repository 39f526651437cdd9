/** /v1/responses: create (the canonical endpoint), retrieve, delete, and list a response's input items. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Agent } from '../../agent/agent.ts';
import { ApiError, failedResponseError } from '../../protocol/errors.ts';
import type { StreamEvent } from '../../protocol/events.ts';
import { droppedHeader } from '../../protocol/dropped-params.ts';
import { ResponsesRequest } from '../../protocol/responses.ts';
import type { Store } from '../../store/types.ts';
import { parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';
import { sseFor } from '../sse.ts';
import type { Metrics } from '../../telemetry/metrics.ts';

const InputItemsQuery = z.strictObject({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  'include[]': z.unknown().optional(),
  include: z.unknown().optional(),
});

function notFound(id: string): ApiError {
  return new ApiError(404, `Response with id '${id}' not found.`, { param: 'response_id', code: 'not_found' });
}

export function responsesRoutes(deps: { agent: Agent; store: Store; keepAliveMs: number; metrics: Metrics }): Router {
  const router = new Router();
  router.post('/v1/responses', async (ctx: Context) => {
    const req = parseBody(ResponsesRequest, ctx.request.body);
    const run = runContext(ctx);
    const prepared = await deps.agent.prepare(req, run);
    ctx.set(droppedHeader(prepared.dropped));
    if (req.stream) {
      const sse = sseFor(ctx, deps.keepAliveMs, deps.metrics);
      // The terminal event is held until the run resolves, which is once the store has committed the
      // final response: a client that reads it may continue the response at once, on any replica.
      let terminal: StreamEvent | undefined;
      const write = (ev: StreamEvent) => {
        if (ev.type === 'response.completed' || ev.type === 'response.incomplete' || ev.type === 'response.failed') {
          terminal = ev;
          return true;
        }
        return sse.send(JSON.stringify(ev), ev.type);
      };
      try {
        await deps.agent.run(prepared, run, { write, drain: () => sse.drain() });
      } finally {
        if (terminal) sse.send(JSON.stringify(terminal), terminal.type);
        sse.end();
      }
      return;
    }
    const final = await deps.agent.run(prepared, run);
    if (final.status === 'failed') throw failedResponseError(final.error);
    ctx.body = final;
  });

  router.get('/v1/responses/:id', async (ctx: Context) => {
    const stored = await deps.store.getResponse(ctx.params.id!);
    if (!stored) throw notFound(ctx.params.id!);
    ctx.body = stored.response;
  });

  router.delete('/v1/responses/:id', async (ctx: Context) => {
    if (!(await deps.store.deleteResponse(ctx.params.id!))) throw notFound(ctx.params.id!);
    ctx.body = { id: ctx.params.id, object: 'response', deleted: true };
  });

  router.get('/v1/responses/:id/input_items', async (ctx: Context) => {
    const q = parseBody(InputItemsQuery, ctx.query);
    const page = await deps.store.listInputItems(ctx.params.id!, q);
    if (!page) throw notFound(ctx.params.id!);
    ctx.body = { object: 'list', ...page };
  });
  return router;
}
