/** GET /health (liveness) and /health/readiness (config loaded, store open, each MCP upstream's state). */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { McpPool } from '../../mcp-client/pool.ts';
import type { Store } from '../../store/types.ts';
import type { Drain } from '../drain.ts';

export function healthRoutes(deps: { store: Store; pool: McpPool; models: number; configSource: string; drain: Pick<Drain, 'isDraining'> }): Router {
  const router = new Router();
  router.get('/health', (ctx: Context) => {
    ctx.body = { status: 'ok' };
  });
  // The store is asked each time: a PostgreSQL replica that cannot reach its database is not ready.
  router.get('/health/readiness', async (ctx: Context) => {
    // A gateway that is stopping is not ready, at once: a balancer stops sending it requests.
    const stopping = deps.drain.isDraining;
    const storeOk = !stopping && (await deps.store.ready());
    ctx.status = storeOk ? 200 : 503;
    ctx.body = {
      status: stopping ? 'stopping' : storeOk ? 'ready' : 'not_ready',
      config: { status: 'loaded', source: deps.configSource, models: deps.models },
      store: { status: storeOk ? 'open' : 'closed', backend: deps.store.description },
      // An upstream that is down makes its own tools unavailable; it does not make the gateway unready.
      mcp_servers: deps.pool.status(),
    };
  });
  return router;
}
