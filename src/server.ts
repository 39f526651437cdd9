/** Wires config, store, providers, agent and HTTP app together, and listens. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { ModelCalls } from './providers/media.ts';
import { Agent } from './agent/agent.ts';
import type { LoadedConfig } from './config/load.ts';
import { KeyCache } from './access/key-cache.ts';
import { createApp } from './http/app.ts';
import { Lazy } from './lazy.ts';
import { answerClientError } from './http/errors.ts';
import { Drain } from './http/drain.ts';
import { Metrics } from './telemetry/metrics.ts';
import { startTracing } from './telemetry/tracing.ts';
import { McpPool } from './mcp-client/pool.ts';
import type { McpGateway } from './mcp-server/gateway.ts';
import { buildDeployments } from './providers/deployments.ts';
import { Router, routerOptions } from './providers/router.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/types.ts';
import { VERSION } from './version.ts';
import { randomUUID } from 'node:crypto';
import { BatchWriter } from './store/batch-writer.ts';
import type { SpendLog, ToolCallAudit } from './protocol/admin.ts';
import { createLimits, type Limits, redisUrlFromRouterSettings, TOPICS } from './limits/index.ts';
import { shareAcrossReplicas } from './replicas.ts';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  gateway: Gateway;
  /**
   * Stops gracefully: readiness and new requests answer 503 at once, open responses and streams get
   * `graceMs` to finish (default 0), then what still runs ends `incomplete` (reason `shutdown`) and is
   * stored so; then connections, `/mcp` sessions, upstreams and the store close.
   */
  close(graceMs?: number): Promise<void>;
}

export interface ServeOptions {
  loaded: LoadedConfig;
  port: number;
  host: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

/** Everything behind the HTTP app, built from the config: store, model router, MCP pool, agent, keys and limits. */
export interface Gateway {
  store: Store;
  /** Virtual keys as this replica knows them. */
  keys: KeyCache;
  /** Rate limits, budgets and the replicas' bus. */
  limits: Limits;
  spend: BatchWriter<SpendLog>;
  audits: BatchWriter<ToolCallAudit>;
  metrics: Metrics;
  router: Router;
  pool: McpPool;
  agent: Agent;
  calls: ModelCalls;
  /** The gateway as an MCP server (`/mcp`, stdio), built on first use. */
  mcp: Lazy<McpGateway>;
  masterKey: string | undefined;
  /** Ends every run still going: each ends `incomplete` (reason `shutdown`). */
  stopRuns(): void;
  close(): Promise<void>;
}

/** Resolves once the store is open and migrated, and what a stopped process left in progress is failed. */
export async function buildGateway(loaded: LoadedConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Gateway> {
  const { config, warnings } = loaded;
  for (const w of warnings) log.warn(`config: ${w}`);
  // Before the store opens: a fallback or alias naming no model is a config error, and nothing is left open.
  const router = new Router(buildDeployments(config, env), routerOptions(config));
  // Traces, when the standard OTEL_* variables ask for them (the exporter reads its own from the process).
  const tracing = await startTracing(env);
  if (tracing) log.info('OpenTelemetry traces on: spans go out over OTLP/HTTP');
  const store = await openStore(config.general_settings.database_url);
  let interrupted: number;
  let limits: Limits;
  try {
    interrupted = await store.failInterrupted();
    limits = await createLimits({
      redisUrl: config.general_settings.redis_url ?? redisUrlFromRouterSettings(config.router_settings),
      prefix: config.general_settings.redis_prefix,
      log,
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  if (interrupted) log.warn({ count: interrupted }, 'responses cut off by the last stop were marked failed');
  const metrics = new Metrics();
  const pool = new McpPool(config.mcp_servers, config.mcp_settings, log, {}, metrics);
  pool.warmUp();
  const keys = new KeyCache(store, { announce: (what) => void limits.bus.publish(TOPICS.keys, what) });
  const spend = new BatchWriter<SpendLog>((logs) => store.recordSpend(logs), { what: 'spend logs', log });
  const audits = new BatchWriter<ToolCallAudit>((records) => store.recordAudit(records), { what: 'audit records', log });
  const replica = randomUUID();
  const masterKey = config.general_settings.master_key;
  const stopping = new AbortController();
  const agent = new Agent({
    router,
    pool,
    store,
    settings: config.mcp_settings,
    masterKey,
    dropParams: config.litellm_settings.drop_params,
    shutdown: stopping.signal,
    metrics,
  });
  const calls = new ModelCalls(router);
  // The MCP server edge (and the SDK's server modules under it) loads with its first session, so a
  // gateway no MCP client uses does not hold it in memory.
  const mcp = new Lazy(async () => {
    const { McpGateway } = await import('./mcp-server/gateway.ts');
    return new McpGateway({
      agent,
      calls,
      router,
      pool,
      settings: config.mcp_settings,
      masterKey,
      log,
      uploadDir: config.mcp_settings.upload_dir,
      version: VERSION,
      onSessionDeleted: (id) => void limits.bus.publish(TOPICS.sessions, id),
      metrics,
    });
  });
  metrics.observe({
    sessions: () => mcp.value?.sessions.size ?? 0,
    upstreams: () => Object.fromEntries(Object.entries(pool.status()).map(([name, s]) => [name, s.state === 'ready'])),
  });
  const off = await shareAcrossReplicas({
    bus: limits.bus,
    keys,
    pool,
    store,
    replica,
    log,
    mcpSessions: async () => (await mcp.get()).sessions,
    auditRetentionMs: config.general_settings.audit_retention_days * 86_400_000,
  });
  return {
    store,
    keys,
    limits,
    spend,
    audits,
    metrics,
    router,
    pool,
    agent,
    calls,
    mcp,
    masterKey,
    stopRuns: () => stopping.abort(),
    close: async () => {
      await off();
      if (mcp.started) await (await mcp.get()).close();
      await pool.close();
      await spend.flush();
      await audits.flush();
      await limits.close();
      await store.close();
      await tracing?.shutdown();
    },
  };
}

/** How long requests that are not runs may outlive the shutdown grace. */
const FORCE_CLOSE_MS = 5000;

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { config, source } = opts.loaded;
  const log = opts.logger;
  const gw = await buildGateway(opts.loaded, log, opts.env);
  const { store, router, pool, agent, calls, mcp, masterKey, keys, limits, spend, metrics, audits } = gw;
  const drain = new Drain();
  const app = createApp({
    drain,
    logger: log,
    agent,
    calls,
    router,
    pool,
    mcp,
    store,
    keys,
    limiter: limits.limiter,
    spend,
    audits,
    metrics,
    metricsPublic: config.general_settings.metrics_public,
    masterKey,
    bindHost: opts.host,
    maxRequestBytes: Math.floor(config.general_settings.max_request_size_mb * 1024 * 1024),
    keepAliveMs: config.general_settings.sse_keepalive_seconds * 1000,
    configSource: source,
  });
  const server = app.listen(opts.port, opts.host);
  server.on('clientError', answerClientError);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (e) {
    await gw.close(); // the store's pool and heartbeat would otherwise outlive the failed start
    throw e;
  }
  // Streams can be long; Node's default request timeout (5 min) would cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  log.info(
    {
      url,
      models: router.modelNames,
      mcp_servers: pool.names,
      store: store.description,
      config: source,
      auth: masterKey ? 'master_key' : 'none',
      hint: opts.loaded.hint,
    },
    `toolgate listening on ${url}`,
  );
  if (!masterKey) log.warn('no general_settings.master_key: the gateway is open to anyone who can reach it; serving local clients only');
  return {
    url,
    port,
    server,
    gateway: gw,
    close: async (graceMs = 0) => {
      // The listener stays open through the grace: readiness and new requests are answered 503 (with
      // `connection: close`), not refused, so a balancer learns of the stop from the answers themselves.
      drain.begin();
      server.closeIdleConnections();
      // Past the grace, runs end `incomplete`; a request that is not a run (an upstream call that hangs) gets
      // a few seconds more before its connection is cut.
      let force: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        force = setTimeout(resolve, graceMs + FORCE_CLOSE_MS);
      });
      const grace = setTimeout(() => gw.stopRuns(), graceMs);
      await Promise.race([drain.idle(), cut]);
      clearTimeout(grace);
      clearTimeout(force);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await gw.close();
    },
  };
}
