/** The gateway as an MCP server: its sessions, and how a new session's server is built. */
import type { InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { forwardedHeaders } from '../mcp-client/headers.ts';
import type { McpSettings } from '../config/schema.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import { buildAggregateServer, type AggregateDeps } from './aggregate.ts';
import { openPassthrough } from './passthrough.ts';
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

export class McpGateway {
  readonly sessions: McpSessions;
  /** Seals aggregated session ids, so that any replica sharing the master key serves them. */
  readonly seal: SessionSeal;
  private readonly deps: McpGatewayDeps;

  constructor(deps: McpGatewayDeps) {
    this.deps = deps;
    this.seal = new SessionSeal(deps.masterKey);
    this.sessions = new McpSessions({
      idleMs: deps.settings.session_idle_seconds * 1000,
      max: deps.settings.max_sessions,
      onDeleted: deps.onSessionDeleted,
    });
  }

  /** The upstreams a caller may see, by name. */
  private visible(grant: Grant | undefined): string[] {
    return grant ? this.deps.pool.names.filter((n) => allowsServer(grant, n)) : this.deps.pool.names;
  }

  /** `/mcp`: the gateway's tools and every upstream's the caller may use (or those `x-mcp-servers` names). */
  /**
   * `/mcp`, for one session: every upstream the caller may use (or those `x-mcp-servers` names), with tool
   * search when the request asks for it (or `toolSearch` says so).
   */
  aggregate(headers: Headers, log: Logger, opts: { caller?: Caller; query?: Record<string, unknown>; toolSearch?: boolean } = {}): SessionServer {
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
    return buildAggregateServer({ ...this.deps, log }, { servers: narrowed ?? visible, headers, toolSearch });
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

  close(): Promise<void> {
    return this.sessions.closeAll();
  }
}
