/**
 * OpenTelemetry traces: off unless the standard variables ask for them (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp`; `OTEL_TRACES_EXPORTER=none` or
 * `OTEL_SDK_DISABLED=true` keep them off). Then the SDK loads and registers globally: spans go out over
 * OTLP/HTTP (JSON) in batches, the W3C trace context is read from requests and written into what the
 * gateway sends. The exporter reads its own `OTEL_EXPORTER_OTLP_*` variables (endpoint, headers, timeout,
 * compression); this module reads the sampler (`OTEL_TRACES_SAMPLER`, `_ARG`), the batch processor
 * (`OTEL_BSP_*`) and the resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`).
 *
 * Everything else reaches the API through `spans.ts`, which does nothing while tracing is off.
 */
import { VERSION } from '../version.ts';
import { setTracing } from './spans.ts';

export interface Tracing {
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none') return false;
  return exporter === 'otlp' || !!env.OTEL_EXPORTER_OTLP_ENDPOINT || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
}

const num = (v: string | undefined) => (v && Number.isFinite(Number(v)) ? Number(v) : undefined);

export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | null> {
  if (!tracingWanted(env)) return null;
  const [api, { AsyncLocalStorageContextManager }, core, sdk, resources, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const ratio = num(env.OTEL_TRACES_SAMPLER_ARG) ?? 1;
  const samplers: Record<string, () => import('@opentelemetry/sdk-trace').Sampler> = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => new sdk.TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
  };
  const sampler = (samplers[env.OTEL_TRACES_SAMPLER ?? ''] ?? samplers.parentbased_always_on!)();
  const detected = await resources.detectResources({ detectors: [resources.envDetector] });
  const resource = resources.resourceFromAttributes({ 'service.name': 'toolgate', 'service.version': VERSION }).merge(detected);
  const processor = new sdk.BatchSpanProcessor({
    exporter: new OTLPTraceExporter(),
    scheduledDelayMillis: num(env.OTEL_BSP_SCHEDULE_DELAY),
    maxQueueSize: num(env.OTEL_BSP_MAX_QUEUE_SIZE),
    maxExportBatchSize: num(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
    exportTimeoutMillis: num(env.OTEL_BSP_EXPORT_TIMEOUT),
  });
  const provider = new sdk.TracerProvider({ resource, sampler, spanProcessors: [processor] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  api.trace.setGlobalTracerProvider(provider);
  setTracing(api.trace.getTracer('toolgate', VERSION), env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true');
  return {
    shutdown: async () => {
      setTracing(null, false);
      await provider.shutdown();
    },
  };
}
