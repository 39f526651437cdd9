/** The Koa app: small layers in a fixed order, then the routes. */
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { ModelCalls } from '../providers/media.ts';
import type { Agent } from '../agent/agent.ts';
import { ApiError, bodyReadError } from '../protocol/errors.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import type { McpGateway } from '../mcp-server/gateway.ts';
import type { Router as ModelRouter } from '../providers/router.ts';
import { Lazy } from '../lazy.ts';
import type { Store } from '../store/types.ts';
import type { KeyCache } from '../access/key-cache.ts';
import type { SpendSink } from '../access/meter.ts';
import type { Limiter } from '../limits/index.ts';
import { requireKey } from './auth.ts';
import type { Drain } from './drain.ts';
import type { ToolCallAudit } from '../protocol/admin.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { metering } from './metering.ts';
import { checkParsedBody } from './body-checks.ts';
import { errorMiddleware, isMcpPath } from './errors.ts';
import { browserGuard } from './guard.ts';
import { isPlainJsonPost, readJsonBody } from './json-body.ts';
import { requestContext } from './request-context.ts';
import { adminRoutes } from './routes/admin.ts';
import { chatRoutes } from './routes/chat.ts';
import { healthRoutes } from './routes/health.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { mediaRoutes } from './routes/media.ts';
import { modelsRoutes } from './routes/models.ts';
import { responsesRoutes } from './routes/responses.ts';

export interface AppDeps {
  logger: Logger;
  agent: Agent;
  calls: ModelCalls;
  router: ModelRouter;
  pool: McpPool;
  mcp: Lazy<McpGateway>;
  store: Store;
  /** Virtual keys as this replica knows them (read through from the store). */
  keys: KeyCache;
  /** Rate limits and budgets (shared by the replicas through Redis, or in this process). */
  limiter: Limiter;
  /** Where finished requests' spend logs go. */
  spend: SpendSink;
  /** Refuses new requests while the gateway stops, and says when those in flight are done. */
  drain: Drain;
  metrics: Metrics;
  /** Where tool-call audit records go (written in batches). */
  audits: { add(record: ToolCallAudit): void };
  /** `general_settings.metrics_public`: /metrics without a key. */
  metricsPublic: boolean;
  masterKey: string | undefined;
  bindHost: string;
  maxRequestBytes: number;
  keepAliveMs: number;
  configSource: string;
}

/** Every route the server exposes, mounted in order; the openapi test compares these with openapi.yaml. */
export function buildRoutes(deps: AppDeps): Router[] {
  const startedAt = Math.floor(Date.now() / 1000);
  return [
    healthRoutes({ store: deps.store, pool: deps.pool, models: deps.router.modelNames.length, configSource: deps.configSource, drain: deps.drain }),
    modelsRoutes({ router: deps.router, startedAt }),
    responsesRoutes(deps),
    chatRoutes(deps),
    mediaRoutes(deps),
    mcpRoutes(deps),
    adminRoutes(deps),
    metricsRoutes(deps),
  ];
}

/** The methods koa-body reads a body for (its default `parsedMethods`). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  // Errors are rendered by errorMiddleware; Koa's default handler would print stacks.
  app.silent = true;
  const auth = requireKey(deps.masterKey, deps.keys);
  app.use(requestContext(deps.logger, deps.metrics));
  app.use(errorMiddleware);
  app.use(deps.drain.middleware());
  app.use(browserGuard({ keyRequired: deps.masterKey !== undefined, bindHost: deps.bindHost, isMcpPath }));
  const needsKey = (path: string) => path.startsWith('/v1/') || path === '/v1' || isMcpPath(path) || (path === '/metrics' && !deps.metricsPublic);
  app.use(async (ctx, next) => (needsKey(ctx.path) ? auth(ctx, next) : next()));
  const { admit, meter } = metering(deps.limiter, deps.spend, deps.metrics, deps.audits);
  app.use(admit);
  // koa-body (and formidable and co-body under it) loads with the first encoded body: most gateways never see one.
  const encodedBodyReader = new Lazy(async () => {
    const { koaBody } = await import('koa-body');
    return koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonStrict: true, jsonLimit: deps.maxRequestBytes });
  });
  // Plain JSON, the body of almost every request, takes the lean reader (koa-body's cost shows on a
  // quick MCP tool call or model answer); koa-body reads the rest (content encodings).
  // Whatever either reader throws is the client's body at fault: a 4xx (bodyReadError), never a 500.
  app.use(async (ctx, next) => {
    // Content codings are case-insensitive (RFC 9110 §8.4.1); the decoders know them in lower case.
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (encoding) ctx.req.headers['content-encoding'] = encoding;
    try {
      if (isPlainJsonPost(ctx.req)) ctx.request.body = (await readJsonBody(ctx.req, deps.maxRequestBytes)) as typeof ctx.request.body;
      else if (BODY_METHODS.has(ctx.method)) await (encodedBodyReader.value ?? (await encodedBodyReader.get()))(ctx, async () => {});
    } catch (e) {
      throw bodyReadError(e, encoding);
    }
    checkParsedBody(ctx.request.body);
    return next();
  });
  app.use(meter);
  // One router holding every route: a request is matched once, not once per route module.
  const routes = new Router();
  for (const r of buildRoutes(deps)) routes.use(r.routes());
  app.use(routes.routes());
  app.use(async (ctx) => {
    throw new ApiError(404, `Invalid URL (${ctx.method} ${ctx.path})`, { code: 'unknown_url' });
  });
  return app;
}
