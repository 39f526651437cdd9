/**
 * One upstream MCP server and its one live connection, reused across requests. It connects lazily (or
 * when the pool warms it up), reconnects after the session is lost, restarts a crashed stdio process,
 * caches the tool, prompt, resource and template listings (every page) until the matching
 * `notifications/.../list_changed` or the TTL, and calls tools with a timeout and cancellation. Its
 * failures are `McpUpstreamError`s (errors.ts); what it sends as headers is in headers.ts.
 *
 * Both MCP generations: the SDK 2.x client asks `server/discover` first and speaks 2026-07-28 (no
 * session; each request carries the gateway's version and capabilities) to a server that offers it,
 * else opens a 2025-era session with `initialize` (`mcp_servers.<x>.protocol_version` pins either).
 * A 2026-07-28 server's `input_required` results are answered through the client's own request
 * handlers (sampling, elicitation, roots), the ones a 2025 server's requests reach.
 */
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Client, SdkHttpError, SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import {
  CallToolResultSchema,
  CompleteResultSchema,
  EmptyResultSchema,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  ReadResourceResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type {
  CallToolResult,
  ClientCapabilities,
  Implementation,
  Progress,
  Prompt,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { McpServerEntry } from '../config/schema.ts';
import { VERSION } from '../version.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { injectTraceContext, traceMeta } from '../telemetry/spans.ts';
import { McpUpstreamError, RpcCode } from '../protocol/errors.ts';
import { toUpstreamError } from './errors.ts';
import { configuredHeaders, fetchWithRequestHeaders, withRequestHeaders } from './headers.ts';
import { useLeanSseReader } from './sse-reader.ts';

export type { CallToolResult, Tool };

/** The SDK 2.x spelling of client capabilities (the two generations type `experimental` apart; the wire shape is one). */
type ModernClientCapabilities = NonNullable<NonNullable<ConstructorParameters<typeof Client>[1]>['capabilities']>;

/** `protocol_version` in an upstream's config as the client's negotiation mode: `auto` unless pinned. */
function negotiation(pinned: string | undefined): 'auto' | 'legacy' | { pin: string } {
  if (!pinned || pinned === 'auto') return 'auto';
  return pinned >= '2026-07-28' ? { pin: pinned } : 'legacy';
}

export type UpstreamState = 'idle' | 'connecting' | 'ready' | 'error' | 'closed';

type Listing = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** The requests the gateway sends upstream. */
export type UpstreamMethod =
  | 'tools/list'
  | 'tools/call'
  | 'prompts/list'
  | 'prompts/get'
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read'
  | 'resources/subscribe'
  | 'resources/unsubscribe'
  | 'completion/complete'
  | 'logging/setLevel';

/** A request's result as the server sent it, checked against its method's result schema. */
export type UpstreamResult = Record<string, unknown>;

/**
 * Each method's result schema, passed to `request` with it. Without one, SDK 2.x (2.4) first checks
 * whether the method exists in the connection's generation by validating `undefined` against its result
 * schema and formatting the failure: some 0.1 ms of every proxied call, measured (`npm run bench`, mcp.call).
 */
const RESULT_SCHEMAS = {
  'tools/list': ListToolsResultSchema,
  'tools/call': CallToolResultSchema,
  'prompts/list': ListPromptsResultSchema,
  'prompts/get': GetPromptResultSchema,
  'resources/list': ListResourcesResultSchema,
  'resources/templates/list': ListResourceTemplatesResultSchema,
  'resources/read': ReadResourceResultSchema,
  'resources/subscribe': EmptyResultSchema,
  'resources/unsubscribe': EmptyResultSchema,
  'completion/complete': CompleteResultSchema,
  'logging/setLevel': EmptyResultSchema,
} satisfies Record<UpstreamMethod, unknown>;

/** A whole listing, and how long the server says it may be reused (2026-07-28 `ttlMs`; none before). */
interface Listed<T> {
  items: T[];
  ttlMs: number | undefined;
}

/** Every page of a list request (`tools/list`, `prompts/list`, ...). */
async function allPages<T>(client: Client, method: UpstreamMethod, key: string, timeout: number): Promise<Listed<T>> {
  const items: T[] = [];
  let ttlMs: number | undefined;
  let cursor: string | undefined;
  do {
    const page = (await client.request({ method, params: cursor ? { cursor } : {} } as never, RESULT_SCHEMAS[method], { timeout })) as UpstreamResult & {
      nextCursor?: string;
    };
    items.push(...(page[key] as T[]));
    // The listing lives as long as its shortest-lived page.
    if (typeof page.ttlMs === 'number' && page.ttlMs >= 0) ttlMs = Math.min(ttlMs ?? page.ttlMs, page.ttlMs);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, ttlMs };
}

export interface UpstreamOptions {
  name: string;
  config: McpServerEntry;
  log: Logger;
  toolTimeoutMs: number;
  toolsCacheMs: number;
  /** Try Streamable HTTP, then legacy SSE (for remote servers whose transport is unknown). */
  fallbackToSse?: boolean;
  /** How the gateway introduces itself; a pass-through session uses its downstream client's. */
  clientInfo?: { name: string; version: string; [k: string]: unknown };
  /** Capabilities declared upstream: none by default (the shared session cannot relay server requests). */
  clientCapabilities?: ClientCapabilities;
  /** Installs request and notification handlers on a new client before it connects (SDK 2.x `Client`). */
  configure?: (client: Client) => void;
  /** Closes the session after this long without a request (it reopens on the next one). Default: never. */
  idleMs?: number;
  /** Counts tool listings served from the cache and listed. */
  metrics?: Pick<Metrics, 'listTools'>;
}

export class Upstream extends EventEmitter<{
  tools_changed: [relayed: boolean];
  list_changed: [kind: 'prompts' | 'resources'];
  /** A resource subscribed to changed (`notifications/resources/updated`). */
  resource_updated: [uri: string];
}> {
  readonly name: string;
  readonly config: McpServerEntry;
  private readonly log: Logger;
  private readonly opts: UpstreamOptions;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private readonly lists = new Map<Listing, { at: number; list: Promise<unknown[]>; ttlMs?: number | undefined }>();
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private busy = 0;
  private restarts = 0;
  state: UpstreamState = 'idle';
  lastError: string | undefined;

  constructor(opts: UpstreamOptions) {
    super();
    this.opts = opts;
    this.name = opts.name;
    this.config = opts.config;
    this.log = opts.log.child({ mcp_server: opts.name });
  }

  get transportKind(): 'http' | 'sse' | 'stdio' {
    return this.config.transport ?? (this.config.command ? 'stdio' : 'http');
  }

  private makeTransport(kind: 'http' | 'sse' | 'stdio'): Transport {
    const c = this.config;
    if (kind === 'stdio') {
      const t = new StdioClientTransport({ command: c.command!, args: c.args, env: { ...getDefaultEnvironment(), ...c.env }, cwd: c.cwd, stderr: 'pipe' });
      const stderr = t.stderr as Readable | null;
      if (stderr) createInterface({ input: stderr }).on('line', (line) => this.log.info({ stderr: line }, 'upstream stderr'));
      return t;
    }
    const url = new URL(c.url!);
    const requestInit = { headers: configuredHeaders(c) };
    if (kind === 'sse') return new SSEClientTransport(url, { requestInit, fetch: fetchWithRequestHeaders });
    const transport = new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchWithRequestHeaders });
    useLeanSseReader(transport);
    return transport;
  }

  private async open(kind: 'http' | 'sse' | 'stdio'): Promise<Client> {
    // The shared session cannot relay sampling or elicitation, so unless told otherwise it declares neither.
    const client = new Client(this.opts.clientInfo ?? { name: 'toolgate', version: VERSION }, {
      capabilities: (this.opts.clientCapabilities ?? {}) as ModernClientCapabilities,
      versionNegotiation: { mode: negotiation(this.config.protocol_version) },
    });
    this.opts.configure?.(client);
    client.setNotificationHandler('notifications/tools/list_changed', async (n) => {
      this.lists.delete('tools');
      this.log.info('tools/list_changed: tool cache dropped');
      this.emit('tools_changed', false);
      await client.fallbackNotificationHandler?.(n);
    });
    client.setNotificationHandler('notifications/prompts/list_changed', async (n) => {
      this.lists.delete('prompts');
      this.emit('list_changed', 'prompts');
      await client.fallbackNotificationHandler?.(n);
    });
    client.setNotificationHandler('notifications/resources/updated', async (n) => {
      this.emit('resource_updated', n.params.uri);
      await client.fallbackNotificationHandler?.(n);
    });
    client.setNotificationHandler('notifications/resources/list_changed', async (n) => {
      this.lists.delete('resources');
      this.lists.delete('resourceTemplates');
      this.emit('list_changed', 'resources');
      await client.fallbackNotificationHandler?.(n);
    });
    const transport = this.makeTransport(kind);
    try {
      await client.connect(transport, { timeout: this.opts.toolTimeoutMs });
    } catch (e) {
      await client.close().catch(() => {});
      throw e;
    }
    client.onclose = () => this.onClientClosed(client);
    return client;
  }

  /** The live client, connecting first if needed. Concurrent callers share one connection attempt. */
  connect(): Promise<Client> {
    if (this.closed) return Promise.reject(new McpUpstreamError('mcp_protocol_error', RpcCode.ConnectionClosed, `${this.name}: the gateway is shutting down`));
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    this.state = 'connecting';
    const kind = this.transportKind;
    const attempt = (async () => {
      try {
        const client = await this.open(kind).catch(async (e) => {
          if (!this.opts.fallbackToSse || kind !== 'http' || !(e instanceof SdkHttpError) || ![400, 404, 405].includes(e.status)) throw e;
          return this.open('sse');
        });
        this.client = client;
        this.state = 'ready';
        this.lastError = undefined;
        this.restarts = 0;
        this.log.info({ transport: kind }, 'upstream connected');
        return client;
      } catch (e) {
        const err = toUpstreamError(e, this.name);
        this.state = 'error';
        this.lastError = err.message;
        this.log.warn({ err: err.message }, 'upstream connection failed');
        throw err;
      } finally {
        this.connecting = null;
      }
    })();
    this.connecting = attempt;
    return attempt;
  }

  private onClientClosed(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.lists.clear();
    if (this.closed) return;
    this.state = 'error';
    this.lastError = `${this.name}: the connection closed`;
    this.log.warn('upstream connection closed');
    // A crashed stdio server is restarted (with backoff); HTTP servers reconnect on next use.
    if (this.transportKind === 'stdio') {
      const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => void this.connect().catch(() => {}), delay);
      this.restartTimer.unref();
    }
  }

  private drop(client: Client): void {
    if (this.client === client) {
      this.client = null;
      this.lists.clear();
    }
    void client.close().catch(() => {});
  }

  /** Runs `fn` on the session; a lost session (HTTP 404) is re-initialized and `fn` tried once more. */
  private async withSession<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    this.busy++;
    clearTimeout(this.idleTimer);
    try {
      const client = await this.connect();
      try {
        return await fn(client);
      } catch (e) {
        if (e instanceof SdkHttpError && e.status === 404) {
          this.log.info('upstream session expired; re-initializing');
          this.drop(client);
          return await fn(await this.connect());
        }
        throw e;
      }
    } finally {
      if (--this.busy === 0 && this.opts.idleMs !== undefined) {
        this.idleTimer = setTimeout(() => void this.closeSession(), this.opts.idleMs);
        this.idleTimer.unref();
      }
    }
  }

  /** Ends the session (telling an HTTP server so); the next request opens a new one. */
  async closeSession(): Promise<void> {
    clearTimeout(this.idleTimer);
    const client = this.client;
    if (!client || this.busy) return;
    this.client = null;
    this.lists.clear();
    this.state = 'idle';
    const transport = client.transport;
    if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
    this.log.info('upstream session closed');
  }

  /** Another replica heard this server's tools change: drop the tool cache, as if this session had heard it. */
  toolsChangedElsewhere(): void {
    this.lists.delete('tools');
    this.emit('tools_changed', true);
  }

  /** The connection with the server, while there is one: its session id (2025-era Streamable HTTP) and protocol version. */
  get session(): { id: string | undefined; protocolVersion: string | undefined } | undefined {
    const client = this.client;
    if (!client) return undefined;
    return { id: (client.transport as { sessionId?: string } | undefined)?.sessionId, protocolVersion: client.getNegotiatedProtocolVersion() };
  }

  /**
   * Whether a listing may be served from the cache: while it is being listed, and then for as long as the
   * server said (2026-07-28 `ttlMs`, 0 meaning not at all), else `tools_cache_seconds`.
   */
  private fresh(kind: Listing): boolean {
    const hit = this.lists.get(kind);
    return hit !== undefined && (hit.ttlMs === undefined ? Date.now() - hit.at < this.opts.toolsCacheMs : Date.now() - hit.at <= hit.ttlMs && hit.ttlMs > 0);
  }

  /** A listing from the cache, or listed (every page) and cached until its list_changed or the TTL. */
  private cached<T>(kind: Listing, load: (client: Client) => Promise<Listed<T>>): Promise<T[]> {
    if (this.fresh(kind)) return this.lists.get(kind)!.list as Promise<T[]>;
    const entry: { at: number; list: Promise<T[]>; ttlMs?: number | undefined } = { at: Date.now(), list: Promise.resolve([]) };
    const list = this.withSession(load).then(
      (listed) => {
        entry.ttlMs = listed.ttlMs;
        return listed.items;
      },
      (e) => {
        throw toUpstreamError(e, this.name);
      },
    );
    entry.list = list;
    this.lists.set(kind, entry);
    list.catch(() => {
      if (this.lists.get(kind) === entry) this.lists.delete(kind);
    });
    return list;
  }

  /** Every tool, with the server's allowed/disallowed filters and without task-only tools. */
  listTools(): Promise<Tool[]> {
    const metrics = this.opts.metrics;
    if (metrics) {
      metrics.listTools(this.name, this.fresh('tools') ? 'hit' : 'miss');
    }
    return this.cached('tools', async (client) => {
      const listed = await allPages<Tool>(client, 'tools/list', 'tools', this.opts.toolTimeoutMs);
      const { allowed_tools: allow, disallowed_tools: deny } = this.config;
      const items = listed.items.filter(
        (t) => t.execution?.taskSupport !== 'required' && (!allow || allow.includes(t.name)) && (allow || !deny?.includes(t.name)),
      );
      return { items, ttlMs: listed.ttlMs };
    });
  }

  listPrompts(): Promise<Prompt[]> {
    return this.cached('prompts', (client) => allPages(client, 'prompts/list', 'prompts', this.opts.toolTimeoutMs));
  }

  listResources(): Promise<Resource[]> {
    return this.cached('resources', (client) => allPages(client, 'resources/list', 'resources', this.opts.toolTimeoutMs));
  }

  listResourceTemplates(): Promise<ResourceTemplate[]> {
    return this.cached('resourceTemplates', (client) => allPages(client, 'resources/templates/list', 'resourceTemplates', this.opts.toolTimeoutMs));
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    opts: { signal?: AbortSignal; headers?: Record<string, string>; onprogress?: (p: Progress) => void } = {},
  ): Promise<CallToolResult> {
    const timeoutMs = this.config.timeout ? this.config.timeout * 1000 : this.opts.toolTimeoutMs;
    try {
      // request, not client.callTool: results are passed on as the server sent them, not checked against the tool's output schema.
      return (await this.request({ method: 'tools/call', params: { name, arguments: args } }, { ...opts, timeoutMs })) as CallToolResult;
    } catch (e) {
      throw toUpstreamError(e, this.name);
    }
  }

  /** What the server said it can do (connecting first if needed). */
  async capabilities(): Promise<ServerCapabilities> {
    const client = await this.connect();
    return (client.getServerCapabilities() ?? {}) as ServerCapabilities;
  }

  /** How the server introduced itself: name and version, capabilities, instructions (connecting first if needed). */
  async introduction(): Promise<{ info: Implementation; capabilities: ServerCapabilities; instructions: string | undefined }> {
    const client = await this.connect();
    return {
      info: client.getServerVersion() ?? { name: this.name, version: '0.0.0' },
      capabilities: (client.getServerCapabilities() ?? {}) as ServerCapabilities,
      instructions: client.getInstructions(),
    };
  }

  /**
   * Hears of `uri`'s changes (`resource_updated`) until the returned function is called: `resources/subscribe`
   * on a 2025-era session, a `subscriptions/listen` stream of its own on a 2026-07-28 connection.
   */
  async watchResource(uri: string): Promise<() => Promise<void>> {
    const client = await this.connect();
    if ((client.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28') {
      const stream = await client.listen({ resourceSubscriptions: [uri] });
      return () => stream.close();
    }
    await this.request({ method: 'resources/subscribe', params: { uri } });
    return async () => {
      await this.request({ method: 'resources/unsubscribe', params: { uri } }).catch(() => {});
    };
  }

  /** Any request on the session (prompts, resources, completion, ...), with the caller's headers. */
  async request(
    req: { method: UpstreamMethod; params?: Record<string, unknown> },
    opts: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string>; onprogress?: (p: Progress) => void } = {},
  ): Promise<UpstreamResult> {
    const timeout = opts.timeoutMs ?? this.opts.toolTimeoutMs;
    // Progress restarts the timeout, up to ten times it in all; without progress the timeout is the limit.
    const limits = opts.onprogress
      ? { onprogress: opts.onprogress, resetTimeoutOnProgress: true, maxTotalTimeout: timeout * 10 }
      : { maxTotalTimeout: timeout };
    // The trace context goes with the request: as HTTP headers, and in `_meta` (which stdio servers see too).
    const meta = traceMeta();
    let headers = opts.headers;
    if (meta) {
      req = { ...req, params: { ...req.params, _meta: { ...(req.params?._meta as object | undefined), ...meta } } };
      headers = { ...headers };
      injectTraceContext(headers);
    }
    return withRequestHeaders(headers, () =>
      this.withSession(
        (client) => client.request(req as never, RESULT_SCHEMAS[req.method], { signal: opts.signal, timeout, ...limits }) as Promise<UpstreamResult>,
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.idleTimer);
    this.state = 'closed';
    const c = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    await c?.close().catch(() => {});
  }
}
