/**
 * The gateway as an MCP server over HTTP: Streamable HTTP at `/mcp` (aggregated) and `/mcp/<server>`
 * (one upstream as it is), and the legacy HTTP+SSE transport at `GET /sse` + `POST /messages`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Lazy } from '../../lazy.ts';
import type { McpGateway } from '../../mcp-server/gateway.ts';
import type { McpRequestScope } from '../../mcp-server/request-scope.ts';
import { MASTER } from '../../access/caller.ts';

/** The request's caller (its grant binds what it sees) and meter, for the MCP handlers. */
function scopeOf(ctx: Context): McpRequestScope {
  return { caller: ctx.state.caller ?? MASTER, meter: ctx.state.meter, audit: ctx.state.audit };
}

export function mcpRoutes(deps: { mcp: Lazy<McpGateway> }): Router {
  const router = new Router();

  const aggregated = async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false; // the transport writes the response
    const scope = scopeOf(ctx);
    const modern = await mcp.modern.classify(ctx.req, ctx.request.body);
    if (modern) {
      const surface = mcp.aggregateSurface(ctx.headers, { caller: scope.caller, query: ctx.query });
      return mcp.modern.handle(modern, ctx.res, ctx.request.body, scope, surface);
    }
    await mcp.sessions.handleStreamable(
      ctx.req,
      ctx.res,
      ctx.request.body,
      async () => mcp.aggregate(ctx.headers, ctx.state.log, { caller: scope.caller, query: ctx.query }),
      scope,
      mcp.seal,
    );
  };
  router.post('/mcp', aggregated);
  router.get('/mcp', aggregated);
  router.delete('/mcp', aggregated);

  const single = async (ctx: Context) => {
    const name = ctx.params.server!;
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    const scope = scopeOf(ctx);
    if (!mcp.hasServer(name, scope.caller.grant)) ctx.throw(404, `No MCP server named '${name}'`);
    const modern = await mcp.modern.classify(ctx.req, ctx.request.body);
    if (modern) {
      const surface = await mcp.passthroughSurface(name, ctx.headers, ctx.state.log, scope.caller.grant);
      ctx.respond = false;
      const held = mcp.holdListenedResources(name, ctx.request.body);
      if (held) {
        ctx.res.once('close', held.release);
        await held.ready;
      }
      return mcp.modern.handle(modern, ctx.res, ctx.request.body, scope, surface);
    }
    ctx.respond = false;
    await mcp.sessions.handleStreamable(
      ctx.req,
      ctx.res,
      ctx.request.body,
      (init) => mcp.passthrough(name, init, ctx.headers, ctx.state.log, scope.caller.grant),
      scope,
    );
  };
  router.post('/mcp/:server', single);
  router.get('/mcp/:server', single);
  router.delete('/mcp/:server', single);

  router.get('/sse', async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false;
    const scope = scopeOf(ctx);
    await mcp.sessions.openLegacyStream(
      ctx.res,
      '/messages',
      async () => mcp.aggregate(ctx.headers, ctx.state.log, { caller: scope.caller, query: ctx.query }),
      scope.caller.id,
    );
  });
  router.post('/messages', async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false;
    await mcp.sessions.postLegacy(typeof ctx.query.sessionId === 'string' ? ctx.query.sessionId : undefined, ctx.req, ctx.res, ctx.request.body, scopeOf(ctx));
  });
  return router;
}
