/** GET /v1/models and /v1/models/{model}, in OpenAI's list shape. */
import Router from '@koa/router';
import type { Context } from 'koa';
import { allowsModel } from '../../access/grants.ts';
import { modelNotFound } from '../../protocol/errors.ts';
import type { Router as ModelRouter } from '../../providers/router.ts';

export function modelsRoutes(deps: { router: ModelRouter; startedAt: number }): Router {
  const router = new Router();
  const shape = (m: { id: string; owned_by: string }) => ({ id: m.id, object: 'model', created: deps.startedAt, owned_by: m.owned_by });
  /** The models a virtual key may use (all, for the master key). */
  const visible = async (ctx: Context) => {
    const models = await deps.router.listModels(ctx.state.log);
    const grant = ctx.state.caller?.grant;
    return grant ? models.filter((m) => allowsModel(grant, m.id)) : models;
  };
  router.get('/v1/models', async (ctx: Context) => {
    ctx.body = { object: 'list', data: (await visible(ctx)).map(shape) };
  });
  router.get('/v1/models/:model', async (ctx: Context) => {
    const id = ctx.params.model!;
    const found = (await visible(ctx)).find((m) => m.id === id);
    const grant = ctx.state.caller?.grant;
    const route = found || (grant && !allowsModel(grant, id)) ? null : deps.router.resolve(id);
    if (!found && !route) throw modelNotFound(id);
    ctx.body = shape(found ?? { id, owned_by: route!.candidates[0]!.deployment.provider.owner });
  });
  return router;
}
