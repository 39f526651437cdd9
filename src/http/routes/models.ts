/** GET /v1/models and /v1/models/{model}, in OpenAI's list shape. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { modelNotFound } from '../../protocol/errors.ts';
import type { Router as ModelRouter } from '../../providers/router.ts';

export function modelsRoutes(deps: { router: ModelRouter; startedAt: number }): Router {
  const router = new Router();
  const shape = (m: { id: string; owned_by: string }) => ({ id: m.id, object: 'model', created: deps.startedAt, owned_by: m.owned_by });
  router.get('/v1/models', async (ctx: Context) => {
    const models = await deps.router.listModels(ctx.state.log);
    ctx.body = { object: 'list', data: models.map(shape) };
  });
  router.get('/v1/models/:model', async (ctx: Context) => {
    const id = ctx.params.model!;
    const models = await deps.router.listModels(ctx.state.log);
    const found = models.find((m) => m.id === id);
    const route = found ? null : deps.router.resolve(id);
    if (!found && !route) throw modelNotFound(id);
    ctx.body = shape(found ?? { id, owned_by: route!.candidates[0]!.deployment.provider.owner });
  });
  return router;
}
