/** POST /v1/responses: the canonical endpoint. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { ResponseEmitter } from '../../agent/emitter.ts';
import type { Agent } from '../../agent/run.ts';
import { ApiError } from '../../protocol/errors.ts';
import { newId } from '../../protocol/ids.ts';
import { newResponseObject } from '../../protocol/response-object.ts';
import { ResponsesRequest } from '../../protocol/responses.ts';
import { parseBody } from '../errors.ts';
import { SseWriter } from '../sse.ts';

export function responsesRoutes(deps: { agent: Agent; keepAliveMs: number }): Router {
  const router = new Router();
  router.post('/v1/responses', async (ctx: Context) => {
    const req = parseBody(ResponsesRequest, ctx.request.body);
    const prepared = deps.agent.prepare(req);
    const response = newResponseObject(newId('resp'), req, { model: req.model, store: req.store ?? true });
    const run = { signal: ctx.state.signal, log: ctx.state.log };
    if (req.stream) {
      const sse = new SseWriter(ctx, deps.keepAliveMs);
      const emitter = new ResponseEmitter(response, (ev) => sse.send(JSON.stringify(ev), ev.type));
      try {
        await deps.agent.run(prepared, emitter, run);
      } finally {
        sse.end();
      }
      return;
    }
    const emitter = new ResponseEmitter(response, () => {});
    const final = await deps.agent.run(prepared, emitter, run);
    if (final.status === 'failed') throw new ApiError(502, final.error?.message ?? 'The response failed', { type: 'api_error', code: final.error?.code ?? 'upstream_error' });
    ctx.body = final;
  });
  return router;
}
