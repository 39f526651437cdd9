/**
 * Model calls that are not responses: embeddings and image generation, routed like any model call
 * (groups, failover, retries, fallbacks). The HTTP routes and the gateway's own MCP tools both use them.
 */
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { ImagesResponse } from 'openai/resources/images';
import type { Logger } from 'pino';
import type { EmbeddingsRequest, ImagesRequest } from '../protocol/embeddings.ts';
import { ApiError, modelNotFound } from '../protocol/errors.ts';
import type { Deployment } from './deployments.ts';
import type { Route, Router } from './router.ts';
import { allowsModel, type Grant } from '../access/grants.ts';
import type { UsageMeter } from '../access/meter.ts';

export interface CallContext {
  signal: AbortSignal;
  log: Logger;
  /** A virtual key's grant: a model outside it is answered as one that does not exist. */
  grant?: Grant | undefined;
  meter?: UsageMeter | undefined;
}

type Capability = 'embed' | 'generateImage';

const able = (can: Capability) => (d: Deployment) => typeof d.provider[can] === 'function';

export class ModelCalls {
  private readonly router: Router;
  constructor(router: Router) {
    this.router = router;
  }

  private route(model: string, can: Capability, what: string, ctx: CallContext): Route {
    const route = ctx.grant && !allowsModel(ctx.grant, model) ? null : this.router.resolve(model);
    if (!route) throw modelNotFound(model);
    const candidates = route.candidates.filter((c) => able(can)(c.deployment));
    if (!candidates.length)
      throw new ApiError(400, `The model '${model}' cannot ${what}: its provider (${route.candidates[0]!.deployment.provider.api}) does not offer it.`, {
        param: 'model',
        code: 'model_not_supported',
      });
    return { ...route, candidates };
  }

  async embed(req: EmbeddingsRequest, ctx: CallContext): Promise<CreateEmbeddingResponse> {
    const route = this.route(req.model, 'embed', 'create embeddings', ctx);
    const { answer, model, deployment } = await this.router.withFailover(route, { ...ctx, usable: able('embed') }, (d, upstreamModel) =>
      d.provider.embed!({ ...req, model: upstreamModel }, ctx),
    );
    ctx.meter?.record(model, { input_tokens: answer.usage?.prompt_tokens ?? 0, output_tokens: 0 }, deployment.prices);
    return { ...answer, model };
  }

  async generateImage(req: ImagesRequest, ctx: CallContext): Promise<ImagesResponse> {
    const route = this.route(req.model, 'generateImage', 'generate images', ctx);
    const { answer } = await this.router.withFailover(route, { ...ctx, usable: able('generateImage') }, (d, upstreamModel) =>
      d.provider.generateImage!({ ...req, model: upstreamModel, stream: false } as never, ctx),
    );
    return answer;
  }
}
