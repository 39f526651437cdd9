/** The gateway as an MCP server: its sessions, and how a new session's server is built. */
import type { InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { forwardedHeaders } from '../mcp-client/headers.ts';
import type { McpSettings } from '../config/schema.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import { aggregateSurface, buildAggregateServer, tellListChanges, type AggregateDeps, type AggregateScope } from './aggregate.ts';
import { askingUpstream, forwardedHandlers, openPassthrough } from './passthrough.ts';
import type { McpHandler, McpSurface } from './handlers.ts';
import { InputBridge, MRTR_METHODS } from './input-bridge.ts';
import { listenedResources, ModernMcp, modernServer } from './modern-server.ts';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { mcpRefusal, RpcCode } from '../protocol/errors.ts';
import { McpSessions, type SessionServer } from './sessions.ts';
import { SessionSeal } from './session-seal.ts';
import { allowsServer, type Grant } from '../access/grants.ts';
import { type Caller, MASTER } from '../access/caller.ts';
import { wantsToolSearch } from './tool-search.ts';

export interface McpGatewayDeps extends Omit<AggregateDeps, 'log'> {
  pool: McpPool;
  settings: McpSettings;
  log: Logger;
  /** A client deleted an aggregated session here (the other replicas are told). */
  onSessionDeleted?: (id: string) => void;
}

type Headers = Record<string, string | string[] | undefined>;

/** Aggregated surfaces kept at once (see `aggregateSurface`). */
const MAX_SURFACES = 256;

interface AggregateOptions {
  caller?: Caller;
  query?: Record<string, unknown>;
  toolSearch?: boolean;
}

export class McpGateway {
  readonly sessions: McpSessions;
  /** Seals aggregated session ids, so that any replica sharing the master key serves them. */
  readonly seal: SessionSeal;
  /** 2026-07-28 requests: no sessions, one server per request. */
  readonly modern: ModernMcp;
  /** 2026-07-28 calls through `/mcp/<server>` parked on their upstream's questions. */
  private readonly inputs: InputBridge;
  /** Upstream resource subscriptions held for 2026-07-28 `subscriptions/listen` streams, by server and URI. */
  private readonly watches = new Map<string, { streams: number; stop: Promise<() => Promise<void>> }>();
  /** The aggregated surfaces 2026-07-28 requests are served with, by the servers they see. */
  private readonly surfaces = new Map<string, McpSurface>();
  private readonly deps: McpGatewayDeps;

  constructor(deps: McpGatewayDeps) {
    this.deps = deps;
    this.seal = new SessionSeal(deps.masterKey);
    this.sessions = new McpSessions({
      idleMs: deps.settings.session_idle_seconds * 1000,
      max: deps.settings.max_sessions,
      onDeleted: deps.onSessionDeleted,
    });
    this.modern = new ModernMcp(deps.log);
    this.inputs = new InputBridge({ max: deps.settings.max_sessions });
    // Open `subscriptions/listen` streams hear of every upstream's list changes.
    deps.pool.on('tools_changed', () => this.modern.listChanged('tools'));
    deps.pool.on('list_changed', (_name, kind) => this.modern.listChanged(kind));
    deps.pool.on('resource_updated', (_name, uri) => this.modern.resourceUpdated(uri));
  }

  /** The upstreams a caller may see, by name. */
  private visible(grant: Grant | undefined): string[] {
    return grant ? this.deps.pool.names.filter((n) => allowsServer(grant, n)) : this.deps.pool.names;
  }

  /**
   * `/mcp`, for one 2025-era session: every upstream the caller may use (or those `x-mcp-servers` names),
   * with tool search when the request asks for it (or `toolSearch` says so).
   */
  aggregate(headers: Headers, log: Logger, opts: AggregateOptions = {}): SessionServer {
    return buildAggregateServer({ ...this.deps, log }, this.aggregateScope(headers, opts));
  }

  /**
   * `/mcp` for 2026-07-28 requests (and stdio): as `aggregate`, but one surface serves every request that
   * sees the same servers, each request's headers coming with it (`McpCall.headers`), so that what the
   * surface caches (its index of tool names) outlives the request.
   */
  aggregateSurface(headers: Headers, opts: AggregateOptions = {}): McpSurface {
    const scope = this.aggregateScope(headers, opts);
    const key = `${scope.toolSearch ? 'search' : 'tools'}:${scope.servers?.join(',')}`;
    let surface = this.surfaces.get(key);
    if (!surface) {
      // Keys are subsets of the servers (a grant's, an x-mcp-servers'): few, but bounded all the same.
      if (this.surfaces.size >= MAX_SURFACES) this.surfaces.clear();
      surface = aggregateSurface(this.deps, { ...scope, headers: {} });
      this.surfaces.set(key, surface);
    }
    return surface;
  }

  private aggregateScope(headers: Headers, opts: AggregateOptions): AggregateScope {
    const caller = opts.caller ?? MASTER;
    const grant = caller.grant;
    const toolSearch = opts.toolSearch ?? wantsToolSearch(headers, opts.query ?? {}, caller);
    const visible = this.visible(grant);
    const narrowed =
      typeof headers['x-mcp-servers'] === 'string'
        ? headers['x-mcp-servers']
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined;
    const unknown = narrowed?.filter((n) => !visible.includes(n));
    if (unknown?.length)
      throw mcpRefusal(400, RpcCode.InvalidParams, `x-mcp-servers names unknown servers: ${unknown.join(', ')}; registered: ${visible.join(', ') || 'none'}`);
    return { servers: narrowed ?? visible, headers, toolSearch };
  }

  /**
   * `/mcp/<server>` for one 2026-07-28 request: the upstream's methods through the pool's shared session
   * with it, each with this request's headers (there is no downstream session to open one for).
   */
  async passthroughSurface(name: string, headers: Headers, log: Logger, grant?: Grant): Promise<McpSurface> {
    const upstream = this.visible(grant).includes(name) ? this.deps.pool.get(name) : undefined;
    if (!upstream) throw mcpRefusal(404, RpcCode.InvalidParams, `No MCP server named '${name}'; registered: ${this.visible(grant).join(', ') || 'none'}`);
    let intro: Awaited<ReturnType<typeof upstream.introduction>>;
    try {
      intro = await upstream.introduction();
    } catch (e) {
      throw mcpRefusal(502, RpcCode.InternalError, `The MCP server '${name}' is unavailable: ${(e as Error).message}`);
    }
    const { tasks: _tasks, ...offered } = intro.capabilities;
    const upstreamHeaders = forwardedHeaders(name, upstream.config.extra_headers, headers, this.deps.masterKey);
    const deps = { settings: this.deps.settings, log, metrics: this.deps.metrics };
    const handlers = forwardedHandlers(name, upstream, offered, deps, { headersOf: () => upstreamHeaders });
    // A call the upstream may answer with questions, for a client that can be asked them: see input-bridge.ts.
    for (const method of MRTR_METHODS) {
      const direct = handlers[method] as McpHandler<typeof method> | undefined;
      if (!direct) continue;
      const bridged: McpHandler<typeof method> = (params, call) =>
        this.inputs.handle(params, call, direct, (ask, capabilities) =>
          askingUpstream(name, upstream.config, upstreamHeaders, offered, method, deps, { info: call.client?.info, capabilities }, ask),
        ) as never;
      (handlers as Record<string, unknown>)[method] = bridged;
    }
    return { info: intro.info, capabilities: offered, instructions: intro.instructions, handlers };
  }

  /**
   * `/mcp/<server>`, a 2026-07-28 `subscriptions/listen` request: while its stream is open, the upstream is
   * subscribed to the resources it asks for (once, however many streams ask), and their changes reach the
   * streams through the SDK's listen router. Undefined when it asks for none; else `ready` once the upstream
   * subscriptions are in place (so that the stream's acknowledgement means what it says), and the release.
   */
  holdListenedResources(name: string, body: unknown): { ready: Promise<void>; release(): void } | undefined {
    const uris = listenedResources(body);
    const upstream = this.deps.pool.get(name);
    if (!uris.length || !upstream) return undefined;
    const keys = uris.map((uri) => `${name}\n${uri}`);
    for (const [i, uri] of uris.entries()) {
      const key = keys[i]!;
      const held = this.watches.get(key);
      if (held) {
        held.streams++;
        continue;
      }
      const stop = upstream.watchResource(uri);
      stop.catch((e: unknown) => {
        this.deps.log.warn({ mcp_server: name, uri, err: (e as Error).message }, 'subscribing to a resource upstream failed');
        if (this.watches.get(key)?.stop === stop) this.watches.delete(key);
      });
      this.watches.set(key, { streams: 1, stop });
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const held = this.watches.get(key);
        if (!held || --held.streams > 0) continue;
        this.watches.delete(key);
        void held.stop.then((stop) => stop()).catch(() => {});
      }
    };
    const ready = Promise.allSettled(keys.map((key) => this.watches.get(key)?.stop)).then(() => {});
    return { ready, release };
  }

  /** `/mcp/<server>`: that upstream exactly as it is, through a session of its own. */
  async passthrough(name: string, init: InitializeRequest, headers: Headers, log: Logger, grant?: Grant): Promise<SessionServer> {
    const visible = this.visible(grant);
    const upstream = visible.includes(name) ? this.deps.pool.get(name) : undefined;
    if (!upstream) throw mcpRefusal(404, RpcCode.SessionNotFound, `No MCP server named '${name}'; registered: ${visible.join(', ') || 'none'}`);
    try {
      return await openPassthrough(name, upstream.config, init, forwardedHeaders(name, upstream.config.extra_headers, headers, this.deps.masterKey), {
        settings: this.deps.settings,
        log,
        metrics: this.deps.metrics,
      });
    } catch (e) {
      throw mcpRefusal(502, RpcCode.InternalError, `The MCP server '${name}' is unavailable: ${(e as Error).message}`);
    }
  }

  hasServer(name: string, grant?: Grant): boolean {
    return this.deps.pool.get(name) !== undefined && (!grant || allowsServer(grant, name));
  }

  /**
   * `toolgate mcp`: the aggregated server on this process's stdio, for both generations. The SDK's
   * `serveStdio` tells the connection's generation from its first message (`server/discover` or
   * `initialize`) and serves it with one SDK 2.x server for as long as it lasts; a 2025-era connection
   * hears of its upstreams' list changes.
   */
  serveStdio(log: Logger, opts: { toolSearch?: boolean } = {}): { close(): Promise<void> } {
    let unwatch = () => {};
    const handle = serveStdio(
      ({ era }) => {
        const server = modernServer(this.aggregateSurface({}, opts));
        if (era === 'legacy') unwatch = tellListChanges(this.deps.pool, server, this.deps.pool.names);
        return server;
      },
      { onerror: (err) => log.debug({ err: err.message }, 'stdio') },
    );
    return {
      close: async () => {
        unwatch();
        await handle.close();
      },
    };
  }

  async close(): Promise<void> {
    this.inputs.close();
    await Promise.all([this.sessions.closeAll(), this.modern.close()]);
  }
}
