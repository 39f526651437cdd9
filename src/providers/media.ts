/**
 * Model calls that are not responses: embeddings and image generation, routed like any model call
 * (groups, failover, retries). The HTTP routes and the gateway's own MCP tools both use them.
 */
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { ImagesResponse } from 'openai/resources/images';
import type { Logger } from 'pino';
import type { EmbeddingsRequest, ImagesRequest } from '../protocol/embeddings.ts';
import { ApiError, modelNotFound } from '../protocol/errors.ts';
import type { Route, Router } from './router.ts';

export interface CallContext {
  signal: AbortSignal;
  log: Logger;
}

export class ModelCalls {
  private readonly router: Router;
  constructor(router: Router) {
    this.router = router;
  }

  private route(model: string, can: 'embed' | 'generateImage', what: string): Route {
    const route = this.router.resolve(model);
    if (!route) throw modelNotFound(model);
    const able = route.candidates.filter((c) => typeof c.deployment.provider[can] === 'function');
    if (!able.length)
      throw new ApiError(400, `The model '${model}' cannot ${what}: its provider (${route.candidates[0]!.deployment.provider.api}) does not offer it.`, {
        param: 'model',
        code: 'model_not_supported',
      });
    return { ...route, candidates: able };
  }

  async embed(req: EmbeddingsRequest, ctx: CallContext): Promise<CreateEmbeddingResponse> {
    const route = this.route(req.model, 'embed', 'create embeddings');
    const res = await this.router.withFailover(route, ctx, (d, upstreamModel) => d.provider.embed!({ ...req, model: upstreamModel }, ctx));
    return { ...res, model: req.model };
  }

  async generateImage(req: ImagesRequest, ctx: CallContext): Promise<ImagesResponse> {
    const route = this.route(req.model, 'generateImage', 'generate images');
    return this.router.withFailover(route, ctx, (d, upstreamModel) => d.provider.generateImage!({ ...req, model: upstreamModel, stream: false } as never, ctx));
  }
}
