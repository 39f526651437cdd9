/** GET /metrics: Prometheus's text format, for the master key (or anyone, with general_settings.metrics_public). */
import Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../../protocol/errors.ts';
import type { Metrics } from '../../telemetry/metrics.ts';

export function metricsRoutes(deps: { metrics: Metrics; metricsPublic: boolean; masterKey: string | undefined }): Router {
  const router = new Router();
  router.get('/metrics', async (ctx: Context) => {
    // The key check has run (a virtual key passes it): the metrics are the operator's.
    if (deps.masterKey && !deps.metricsPublic && ctx.state.caller?.id !== 'master')
      throw new ApiError(403, 'Only the master key may read the metrics.', { code: 'forbidden' });
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.render();
  });
  return router;
}
