/**
 * The gateway's Prometheus metrics (prom-client), one registry per gateway. Names follow Prometheus's
 * conventions (`toolgate_` prefix, `_total` counters, `_seconds` histograms); label values are bounded:
 * routes as templates, models as their config entries' names, servers and tools as configured, teams by
 * alias, never an id of a request, a response or a key, nor free text.
 *
 * Children of each label set are kept (prom-client hashes the labels on every call otherwise): a request
 * costs a few map lookups and increments.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditOutcome } from '../protocol/admin.ts';

/** How an MCP tool call ended, as `toolgate_mcp_tool_calls_total{outcome}` counts it: the audit's outcomes of calls made or refused. */
export type ToolCallOutcome = Exclude<AuditOutcome, 'approval_requested' | 'not_run'>;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Child<T> = T extends Counter<string> ? ReturnType<T['labels']> : T extends Histogram<string> ? ReturnType<T['labels']> : never;

/** `metric.labels(...values)`, made once per label set. */
function cached<T extends Counter<string> | Histogram<string>>(metric: T): (...values: string[]) => Child<T> {
  const children = new Map<string, Child<T>>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (!child) {
      child = metric.labels(...values) as Child<T>;
      children.set(key, child);
    }
    return child;
  };
}

export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests = cached(
    new Counter({
      name: 'toolgate_http_requests_total',
      help: 'HTTP requests answered',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    }),
  );
  private readonly httpDuration = cached(
    new Histogram({
      name: 'toolgate_http_request_duration_seconds',
      help: 'Time from a request to the end of its answer (a stream: its end)',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    }),
  );
  private readonly modelDuration = cached(
    new Histogram({
      name: 'toolgate_model_call_duration_seconds',
      help: 'One model call, from the request to its last event',
      labelNames: ['model', 'provider'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    }),
  );
  private readonly modelTtft = cached(
    new Histogram({
      name: 'toolgate_model_time_to_first_token_seconds',
      help: 'A streamed model call, from the request to its first event',
      labelNames: ['model', 'provider'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    }),
  );
  private readonly modelTokens = cached(
    new Counter({ name: 'toolgate_model_tokens_total', help: 'Tokens of model calls', labelNames: ['model', 'direction'], registers: [this.registry] }),
  );
  private readonly toolCalls = cached(
    new Counter({
      name: 'toolgate_mcp_tool_calls_total',
      help: 'MCP tool calls the gateway made (or was denied), by outcome',
      labelNames: ['server', 'tool', 'outcome'],
      registers: [this.registry],
    }),
  );
  private readonly toolDuration = cached(
    new Histogram({
      name: 'toolgate_mcp_tool_call_duration_seconds',
      help: 'MCP tool calls the gateway made',
      labelNames: ['server', 'tool'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    }),
  );
  private readonly toolLists = cached(
    new Counter({
      name: 'toolgate_mcp_list_tools_total',
      help: 'Tool listings of an upstream, from its cache or listed',
      labelNames: ['server', 'cache'],
      registers: [this.registry],
    }),
  );
  private readonly teamRequests = cached(
    new Counter({ name: 'toolgate_team_requests_total', help: "Requests admitted for a team's keys", labelNames: ['team'], registers: [this.registry] }),
  );
  private readonly teamSpend = cached(
    new Counter({ name: 'toolgate_team_spend_dollars_total', help: "What a team's requests cost", labelNames: ['team'], registers: [this.registry] }),
  );
  private readonly streams = new Gauge({ name: 'toolgate_open_streams', help: 'SSE streams open now', registers: [this.registry] });
  private sessionsNow: () => number = () => 0;
  private upstreamsNow: () => Record<string, boolean> = () => ({});

  constructor() {
    const metrics = this;
    new Gauge({
      name: 'toolgate_mcp_sessions',
      help: 'Downstream MCP sessions open now (/mcp, /mcp/<server>, /sse)',
      registers: [this.registry],
      collect() {
        this.set(metrics.sessionsNow());
      },
    });
    new Gauge({
      name: 'toolgate_mcp_upstream_up',
      help: '1 when the gateway holds a live session with the upstream MCP server',
      labelNames: ['server'],
      registers: [this.registry],
      collect() {
        for (const [server, up] of Object.entries(metrics.upstreamsNow())) this.set({ server }, up ? 1 : 0);
      },
    });
  }

  /** Where the gauges read their values when scraped. */
  observe(sources: { sessions?: () => number; upstreams?: () => Record<string, boolean> }): void {
    if (sources.sessions) this.sessionsNow = sources.sessions;
    if (sources.upstreams) this.upstreamsNow = sources.upstreams;
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests(route, method, String(status)).inc();
    this.httpDuration(route).observe(seconds);
  }

  modelCall(
    model: string,
    provider: string,
    seconds: number,
    firstEventSeconds: number | undefined,
    tokens: { input: number; output: number } | undefined,
  ): void {
    this.modelDuration(model, provider).observe(seconds);
    if (firstEventSeconds !== undefined) this.modelTtft(model, provider).observe(firstEventSeconds);
    if (tokens) {
      this.modelTokens(model, 'input').inc(tokens.input);
      this.modelTokens(model, 'output').inc(tokens.output);
    }
  }

  toolCall(server: string, tool: string, outcome: ToolCallOutcome, seconds?: number): void {
    this.toolCalls(server, tool, outcome).inc();
    if (seconds !== undefined) this.toolDuration(server, tool).observe(seconds);
  }

  listTools(server: string, cache: 'hit' | 'miss'): void {
    this.toolLists(server, cache).inc();
  }

  teamRequest(team: string): void {
    this.teamRequests(team).inc();
  }

  teamCost(team: string, dollars: number): void {
    if (dollars > 0) this.teamSpend(team).inc(dollars);
  }

  streamOpened(): void {
    this.streams.inc();
  }

  streamClosed(): void {
    this.streams.dec();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
