/**
 * The upstream MCP servers of the config, one `Upstream` (one live session) each, plus pooled
 * upstreams for remote servers a request names by URL.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { McpServerEntry, McpSettings } from '../config/schema.ts';
import { Upstream } from './upstream.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface UpstreamStatus {
  state: Upstream['state'];
  transport: string;
  error?: string;
}

export interface RemotePoolOptions {
  /** A remote session unused this long is closed (default 60 s). */
  idleMs?: number;
  /** Remote upstreams kept at most; past it the least recently used is let go (default 32). */
  max?: number;
}

/**
 * `tools_changed`: `relayed` when another replica heard it (so it is not passed on again).
 */
export class McpPool extends EventEmitter<{
  tools_changed: [server: string, relayed: boolean];
  list_changed: [server: string, kind: 'prompts' | 'resources'];
  resource_updated: [server: string, uri: string];
}> {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  private readonly log: Logger;
  private readonly settings: McpSettings;
  private readonly remoteOpts: Required<RemotePoolOptions>;
  /** Remote upstreams by label, URL and headers, least recently used first. */
  private readonly remotes = new Map<string, Upstream>();

  constructor(
    servers: Record<string, McpServerEntry>,
    settings: McpSettings,
    log: Logger,
    remote: RemotePoolOptions = {},
    metrics?: Pick<Metrics, 'listTools'>,
  ) {
    super();
    this.log = log;
    this.settings = settings;
    this.remoteOpts = { idleMs: remote.idleMs ?? 60_000, max: remote.max ?? 32 };
    const map = new Map<string, Upstream>();
    for (const [name, config] of Object.entries(servers)) {
      const u = new Upstream({
        name,
        config,
        log,
        toolTimeoutMs: settings.tool_timeout_seconds * 1000,
        toolsCacheMs: settings.tools_cache_seconds * 1000,
        metrics,
      });
      u.on('tools_changed', (relayed) => this.emit('tools_changed', name, relayed));
      u.on('list_changed', (kind) => this.emit('list_changed', name, kind));
      u.on('resource_updated', (uri) => this.emit('resource_updated', name, uri));
      map.set(name, u);
    }
    this.upstreams = map;
  }

  get names(): string[] {
    return [...this.upstreams.keys()];
  }

  get(name: string): Upstream | undefined {
    return this.upstreams.get(name);
  }

  /** Connects every upstream in the background, so the first request does not pay for it. */
  warmUp(): void {
    for (const u of this.upstreams.values()) void u.listTools().catch(() => {});
  }

  status(): Record<string, UpstreamStatus> {
    return Object.fromEntries(
      [...this.upstreams].map(([name, u]) => [name, { state: u.state, transport: u.transportKind, ...(u.lastError ? { error: u.lastError } : {}) }]),
    );
  }

  /**
   * The upstream for a remote server a request names, shared with requests that name it with the same
   * label, URL and headers (the credentials: callers with different ones never share a session). Its
   * session closes itself when idle and reopens on the next use, so nothing need be released.
   */
  remote(label: string, url: string, headers: Record<string, string>): Upstream {
    const sorted = Object.entries(headers)
      .map(([k, v]) => [k.toLowerCase(), v])
      .sort(([a], [b]) => (a! < b! ? -1 : 1));
    const key = JSON.stringify([label, url, sorted]);
    let u = this.remotes.get(key);
    this.remotes.delete(key);
    u ??= new Upstream({
      name: label,
      config: { url, transport: 'http', args: [], static_headers: headers },
      log: this.log,
      toolTimeoutMs: this.settings.tool_timeout_seconds * 1000,
      toolsCacheMs: this.settings.tools_cache_seconds * 1000,
      fallbackToSse: true,
      idleMs: this.remoteOpts.idleMs,
    });
    this.remotes.set(key, u);
    // One let go while a request still uses it keeps its session until that has been idle too.
    for (const [k, old] of this.remotes) {
      if (this.remotes.size <= this.remoteOpts.max) break;
      this.remotes.delete(k);
      void old.closeSession();
    }
    return u;
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values(), ...this.remotes.values()].map((u) => u.close()));
    this.remotes.clear();
  }
}
