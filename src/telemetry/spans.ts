/**
 * What the gateway's layers use to trace: spans with the GenAI and MCP semantic conventions' attributes,
 * and the W3C trace context read from what comes in and written into what goes out. While tracing is off
 * (tracing.ts did not start it), every function returns at once and no span exists.
 */
import { type Attributes, type Context, context, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

let tracer: Tracer | null = null;
let contentCaptured = false;

/** Set by tracing.ts: the SDK's tracer, or null (off). */
export function setTracing(t: Tracer | null, captureContent: boolean): void {
  tracer = t;
  contentCaptured = captureContent;
}

export function tracingOn(): boolean {
  return tracer !== null;
}

/** Whether prompts and tool contents may go into spans (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`). */
export function captureContent(): boolean {
  return contentCaptured;
}

/** A span under the active one (or under `parent`), not yet active itself. */
export function startSpan(name: string, kind: 'server' | 'client' | 'internal', attributes: Attributes, parent?: Context): Span | undefined {
  if (!tracer) return undefined;
  const k = kind === 'server' ? SpanKind.SERVER : kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL;
  return tracer.startSpan(name, { kind: k, attributes }, parent ?? context.active());
}

/** Runs `fn` with `span` active (what it starts, and what it sends, descends from the span). */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

/**
 * The context a request continues: its W3C `traceparent`/`tracestate` (HTTP headers, or an MCP request's
 * `_meta`), else the active one.
 */
export function incomingContext(carrier: Record<string, unknown> | undefined): Context | undefined {
  if (!tracer || !carrier || typeof carrier.traceparent !== 'string') return undefined;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Ends a span: `error.type` and an error status when it failed (`error`: the type, e.g. `tool_error`, or the thrown value). */
export function endSpan(span: Span | undefined, attributes?: Attributes, error?: string | unknown): void {
  if (!span) return;
  if (attributes) span.setAttributes(attributes);
  if (error !== undefined) {
    const type = typeof error === 'string' ? error : (((error as { code?: unknown })?.code as string | undefined) ?? (error as Error)?.name ?? 'error');
    span.setAttribute('error.type', String(type));
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error === 'string' ? error : (error as Error)?.message });
  }
  span.end();
}

/** Writes the active trace context into outgoing HTTP headers (`traceparent`, `tracestate`). */
export function injectTraceContext(headers: Record<string, string>): void {
  if (tracer) propagation.inject(context.active(), headers);
}

/** The active trace context as an MCP request's `_meta` carries it, or undefined. */
export function traceMeta(): { traceparent: string; tracestate?: string } | undefined {
  if (!tracer) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? (carrier as { traceparent: string; tracestate?: string }) : undefined;
}

/** The active span's ids, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!tracer) return undefined;
  const sc = trace.getActiveSpan()?.spanContext();
  return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}
