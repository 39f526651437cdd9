/**
 * The gateway as an MCP server over HTTP: Streamable HTTP at `/mcp` (aggregated) and `/mcp/<server>`
 * (one upstream as it is), and the legacy HTTP+SSE transport at `GET /sse` + `POST /messages`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Lazy } from '../../lazy.ts';
import type { McpGateway } from '../../mcp-server/gateway.ts';

export function mcpRoutes(deps: { mcp: Lazy<McpGateway> }): Router {
  const router = new Router();

  const aggregated = async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false; // the transport writes the response
    await mcp.sessions.handleStreamable(ctx.req, ctx.res, ctx.request.body, async () => mcp.aggregate(ctx.headers, ctx.state.log));
  };
  router.post('/mcp', aggregated);
  router.get('/mcp', aggregated);
  router.delete('/mcp', aggregated);

  const single = async (ctx: Context) => {
    const name = ctx.params.server!;
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    if (!mcp.hasServer(name)) ctx.throw(404, `No MCP server named '${name}'`);
    ctx.respond = false;
    await mcp.sessions.handleStreamable(ctx.req, ctx.res, ctx.request.body, (init) => mcp.passthrough(name, init, ctx.headers, ctx.state.log));
  };
  router.post('/mcp/:server', single);
  router.get('/mcp/:server', single);
  router.delete('/mcp/:server', single);

  router.get('/sse', async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false;
    await mcp.sessions.openLegacyStream(ctx.res, '/messages', async () => mcp.aggregate(ctx.headers, ctx.state.log));
  });
  router.post('/messages', async (ctx: Context) => {
    const mcp = deps.mcp.value ?? (await deps.mcp.get());
    ctx.respond = false;
    await mcp.sessions.postLegacy(typeof ctx.query.sessionId === 'string' ? ctx.query.sessionId : undefined, ctx.req, ctx.res, ctx.request.body);
  });
  return router;
}
