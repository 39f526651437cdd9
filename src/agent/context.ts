/** What the agent is built with, and what each run is given by the edge that started it. */
import type { Logger } from 'pino';
import type { McpSettings } from '../config/schema.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import type { Grant } from '../access/grants.ts';
import type { UsageMeter } from '../access/meter.ts';
import type { ToolAudit } from '../access/audit.ts';
import type { Router } from '../providers/router.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface RunContext {
  signal: AbortSignal;
  log: Logger;
  /** The client's request headers (for `x-mcp-<server>-*` and `extra_headers`). */
  requestHeaders?: Record<string, string | string[] | undefined>;
  /** Headers added to every upstream MCP call of this run. */
  upstreamHeaders?: Record<string, string>;
  /** A virtual key's grant: models (and MCP servers) outside it are answered as if they did not exist. */
  grant?: Grant;
  /** Counts each model call's tokens and cost against the caller's limits and budget. */
  meter?: UsageMeter;
  /** Records each MCP tool call, approval asked for and refusal (the audit trail). */
  audit?: ToolAudit;
}

export interface AgentDeps {
  router: Router;
  pool: McpPool;
  store: Store;
  settings: McpSettings;
  masterKey?: string;
  /** `litellm_settings.drop_params`: false makes what a provider cannot take a 400 (default: dropped). */
  dropParams?: boolean;
  /** Fires when the gateway's shutdown grace is over: runs still going end `incomplete` (reason `shutdown`). */
  shutdown?: AbortSignal;
  metrics?: Pick<Metrics, 'modelCall' | 'toolCall'>;
}
