/**
 * The upstream MCP servers of the config, one `Upstream` (one live session) each, plus short-lived
 * upstreams for remote servers a request names by URL.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { McpServerEntry, McpSettings } from '../config/schema.ts';
import { Upstream } from './upstream.ts';

export interface UpstreamStatus {
  state: Upstream['state'];
  transport: string;
  error?: string;
}

export class McpPool extends EventEmitter<{ tools_changed: [server: string] }> {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  private readonly log: Logger;
  private readonly settings: McpSettings;

  constructor(servers: Record<string, McpServerEntry>, settings: McpSettings, log: Logger) {
    super();
    this.log = log;
    this.settings = settings;
    const map = new Map<string, Upstream>();
    for (const [name, config] of Object.entries(servers)) {
      const u = new Upstream({ name, config, log, toolTimeoutMs: settings.tool_timeout_seconds * 1000, toolsCacheMs: settings.tools_cache_seconds * 1000 });
      u.on('tools_changed', () => this.emit('tools_changed', name));
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

  /** An upstream for one request's remote server (closed by the caller when the request ends). */
  remote(label: string, url: string, headers: Record<string, string>): Upstream {
    return new Upstream({
      name: label,
      config: { url, transport: 'http', args: [], static_headers: headers },
      log: this.log,
      toolTimeoutMs: this.settings.tool_timeout_seconds * 1000,
      toolsCacheMs: this.settings.tools_cache_seconds * 1000,
      fallbackToSse: true,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
  }
}
