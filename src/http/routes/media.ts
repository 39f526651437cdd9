/** POST /v1/embeddings and /v1/images/generations, passed to providers that offer them. */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ModelCalls } from '../../providers/media.ts';
import { allowsModel, type Grant } from '../../access/grants.ts';
import { EmbeddingsRequest, ImagesRequest } from '../../protocol/embeddings.ts';
import { modelNotFound } from '../../protocol/errors.ts';
import { parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';

export function mediaRoutes(deps: { calls: ModelCalls }): Router {
  const router = new Router();
  /** A model a virtual key may not use is answered as one that does not exist. */
  const allowed = (ctx: Context, model: string) => {
    const grant = ctx.state.grant as Grant | undefined;
    if (grant && !allowsModel(grant, model)) throw modelNotFound(model);
  };
  router.post('/v1/embeddings', async (ctx: Context) => {
    const req = parseBody(EmbeddingsRequest, ctx.request.body);
    allowed(ctx, req.model);
    ctx.body = await deps.calls.embed(req, runContext(ctx));
  });
  router.post('/v1/images/generations', async (ctx: Context) => {
    const req = parseBody(ImagesRequest, ctx.request.body);
    allowed(ctx, req.model);
    ctx.body = await deps.calls.generateImage(req, runContext(ctx));
  });
  return router;
}
