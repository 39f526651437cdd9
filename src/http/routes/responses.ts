/** /v1/responses: create (the canonical endpoint), retrieve, delete, and list a response's input items. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Agent } from '../../agent/agent.ts';
import { ApiError, failedResponseError } from '../../protocol/errors.ts';
import { droppedHeader } from '../../protocol/dropped-params.ts';
import { ResponsesRequest } from '../../protocol/responses.ts';
import type { Store } from '../../store/types.ts';
import { parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';
import { sseFor } from '../sse.ts';

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

export function responsesRoutes(deps: { agent: Agent; store: Store; keepAliveMs: number }): Router {
  const router = new Router();
  router.post('/v1/responses', async (ctx: Context) => {
    const req = parseBody(ResponsesRequest, ctx.request.body);
    const run = runContext(ctx);
    const prepared = await deps.agent.prepare(req, run);
    ctx.set(droppedHeader(prepared.dropped));
    if (req.stream) {
      const sse = sseFor(ctx, deps.keepAliveMs);
      try {
        await deps.agent.run(prepared, run, { write: (ev) => sse.send(JSON.stringify(ev), ev.type), drain: () => sse.drain() });
      } finally {
        sse.end();
      }
      return;
    }
    const final = await deps.agent.run(prepared, run);
    if (final.status === 'failed') throw failedResponseError(final.error);
    ctx.body = final;
  });

  router.get('/v1/responses/:id', (ctx: Context) => {
    const stored = deps.store.getResponse(ctx.params.id!);
    if (!stored) throw notFound(ctx.params.id!);
    ctx.body = stored.response;
  });

  router.delete('/v1/responses/:id', (ctx: Context) => {
    if (!deps.store.deleteResponse(ctx.params.id!)) throw notFound(ctx.params.id!);
    ctx.body = { id: ctx.params.id, object: 'response', deleted: true };
  });

  router.get('/v1/responses/:id/input_items', (ctx: Context) => {
    const q = parseBody(InputItemsQuery, ctx.query);
    const page = deps.store.listInputItems(ctx.params.id!, q);
    if (!page) throw notFound(ctx.params.id!);
    ctx.body = { object: 'list', ...page };
  });
  return router;
}
