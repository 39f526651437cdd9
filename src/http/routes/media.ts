/** POST /v1/embeddings and /v1/images/generations, passed to providers that offer them. */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ModelCalls } from '../../providers/media.ts';
import { EmbeddingsRequest, ImagesRequest } from '../../protocol/embeddings.ts';
import { parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';

export function mediaRoutes(deps: { calls: ModelCalls }): Router {
  const router = new Router();
  router.post('/v1/embeddings', async (ctx: Context) => {
    const req = parseBody(EmbeddingsRequest, ctx.request.body);
    ctx.body = await deps.calls.embed(req, runContext(ctx));
  });
  router.post('/v1/images/generations', async (ctx: Context) => {
    const req = parseBody(ImagesRequest, ctx.request.body);
    ctx.body = await deps.calls.generateImage(req, runContext(ctx));
  });
  return router;
}
