/**
 * Part of the composition root (with server.ts): what the replicas of one deployment tell each other over
 * the bus, and what one of them does on a schedule for all.
 * - A key or team changed on one replica: every replica's key cache forgets it at once (without the bus,
 *   within the second a cached key lives).
 * - An upstream's tools changed (its `list_changed` reached one replica's session): every replica drops
 *   its tool cache for that server and tells its own `/mcp` sessions.
 * - A client deleted an aggregated `/mcp` session: no replica serves (or rebuilds) it again.
 * - Audit records past `audit_retention_days` are deleted once an hour.
 * - Budget periods that ended are reset every 10 s (the store's conditional update resets each once,
 *   whichever replica gets there first).
 */
import type { Logger } from 'pino';
import type { KeyCache } from './access/key-cache.ts';
import { type Bus, TOPICS } from './limits/index.ts';
import type { McpPool } from './mcp-client/pool.ts';
import type { Store } from './store/types.ts';

export interface ReplicaDeps {
  bus: Bus;
  keys: KeyCache;
  pool: McpPool;
  store: Store;
  /** This replica's id: its own messages about tools are not acted on twice. */
  replica: string;
  log: Logger;
  /** This replica's aggregated `/mcp` sessions (the MCP edge is started if it was not). */
  mcpSessions: () => Promise<{ endedElsewhere(id: string): Promise<void> }>;
  /** How long the tool-call audit trail keeps a record. */
  auditRetentionMs: number;
  budgetSweepMs?: number;
}

/** Subscribes and starts the sweep; resolves with what stops both. */
export async function shareAcrossReplicas(d: ReplicaDeps): Promise<() => Promise<void>> {
  const offKeys = await d.bus.subscribe(TOPICS.keys, (what) => d.keys.forget(what));
  const offTools = await d.bus.subscribe(TOPICS.tools, (message) => {
    const space = message.indexOf(' ');
    if (message.slice(0, space) !== d.replica) d.pool.get(message.slice(space + 1))?.toolsChangedElsewhere();
  });
  const offSessions = await d.bus.subscribe(TOPICS.sessions, async (id) => (await d.mcpSessions()).endedElsewhere(id));
  // Messages lost while the bus was cut off: every cached key is read again.
  d.bus.onResync(() => d.keys.clear());
  const onTools = (server: string, relayed: boolean) => {
    if (!relayed) void d.bus.publish(TOPICS.tools, `${d.replica} ${server}`);
  };
  d.pool.on('tools_changed', onTools);
  const sweep = setInterval(async () => {
    try {
      const reset = await d.store.resetBudgets(new Date());
      for (const token of reset.keys) d.keys.forget(token);
      for (const team of reset.teams) d.keys.forget(`team:${team}`);
      if (reset.keys.length || reset.teams.length) d.log.info({ keys: reset.keys.length, teams: reset.teams.length }, 'budgets reset');
    } catch (e) {
      d.log.warn({ err: (e as Error).message }, 'budget reset failed; trying again');
    }
  }, d.budgetSweepMs ?? 10_000);
  sweep.unref();
  // Audit records past their retention go once an hour (and at start); any replica may do it.
  const prune = async () => {
    try {
      const pruned = await d.store.pruneAudit(new Date(Date.now() - d.auditRetentionMs));
      if (pruned) d.log.info({ records: pruned }, 'audit records past their retention deleted');
    } catch (e) {
      d.log.warn({ err: (e as Error).message }, 'audit pruning failed; trying again later');
    }
  };
  void prune();
  const pruner = setInterval(prune, 3_600_000);
  pruner.unref();
  return async () => {
    clearInterval(sweep);
    clearInterval(pruner);
    d.pool.off('tools_changed', onTools);
    await offKeys();
    await offTools();
    await offSessions();
  };
}
