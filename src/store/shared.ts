/**
 * What both stores share: input item paging, how an interrupted response ends, the columns of keys and
 * teams, spend totals and budget reset times.
 */
import { durationMs, type Governed, type KeyRecord, type SpendLog, type TeamRecord, type ToolCallAudit } from '../protocol/admin.ts';
import type { InputItem } from '../protocol/responses.ts';
import type { ItemPage, ItemPageQuery } from './types.ts';

/** How a response cut off by a stop ends. */
export const INTERRUPTED = { code: 'server_error', message: 'The gateway stopped while this response was in progress.' } as const;

/** One page of items, as OpenAI's `/input_items` pages them: `after` is exclusive, in the given order. */
export function pageOf(items: (InputItem & { id: string })[], opts: ItemPageQuery): ItemPage {
  const ordered = opts.order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (opts.after) {
    const i = ordered.findIndex((it) => it.id === opts.after);
    start = i < 0 ? ordered.length : i + 1;
  }
  const data = ordered.slice(start, start + opts.limit);
  return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + opts.limit < ordered.length };
}

/** How a record's field is stored: as it is, as JSON text, or as a time (ISO text in records). */
export type ColumnKind = 'value' | 'json' | 'time';

/** The columns keys and teams share (their `Governed` fields). */
const GOVERNED_COLUMNS: Record<keyof Governed, ColumnKind> = {
  models: 'json',
  max_budget: 'value',
  budget_duration: 'value',
  budget_reset_at: 'time',
  spend: 'value',
  rpm_limit: 'value',
  tpm_limit: 'value',
  metadata: 'json',
  object_permission: 'json',
};

export const KEY_COLUMNS: Record<keyof KeyRecord, ColumnKind> = {
  token: 'value',
  key_name: 'value',
  key_alias: 'value',
  team_id: 'value',
  ...GOVERNED_COLUMNS,
  expires: 'time',
  created_at: 'time',
};

export const TEAM_COLUMNS: Record<keyof TeamRecord, ColumnKind> = {
  team_id: 'value',
  team_alias: 'value',
  ...GOVERNED_COLUMNS,
  created_at: 'time',
};

/** A time as `toISOString` writes it (UTC, milliseconds): what SQLite compares as text and both stores return. */
export function isoTime(t: string): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`not a time: ${t}`);
  return d.toISOString();
}

/** The fields of a patch that are columns, without the primary key (a patch does not move a record). */
export function patchedColumns<T>(columns: Record<keyof T & string, ColumnKind>, patch: Partial<T>, primary: keyof T & string): (keyof T & string)[] {
  return (Object.keys(columns) as (keyof T & string)[]).filter((c) => c !== primary && patch[c] !== undefined);
}

/** Spend of the logs summed per key and per team, each in a fixed order (so concurrent transactions lock rows in one order). */
export function spendTotals(logs: SpendLog[]): { keys: [string, number][]; teams: [string, number][] } {
  const keys = new Map<string, number>();
  const teams = new Map<string, number>();
  for (const l of logs) {
    keys.set(l.api_key, (keys.get(l.api_key) ?? 0) + l.spend);
    if (l.team_id !== null) teams.set(l.team_id, (teams.get(l.team_id) ?? 0) + l.spend);
  }
  const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { keys: sorted(keys), teams: sorted(teams) };
}

/** The logs with each request id once (the first), as one insert can take them. */
export function uniqueLogs(logs: SpendLog[]): SpendLog[] {
  const seen = new Map<string, SpendLog>();
  for (const l of logs) if (!seen.has(l.request_id)) seen.set(l.request_id, l);
  return [...seen.values()];
}

/**
 * The reset after `resetAt` that is after `now`: moved by whole durations, so a gateway that was down
 * for several periods resets once and stays on its schedule.
 */
export function nextReset(resetAt: string, duration: string, now: Date): string {
  const step = durationMs(duration);
  const from = new Date(resetAt).getTime();
  const periods = Math.floor((now.getTime() - from) / step) + 1;
  return new Date(from + Math.max(1, periods) * step).toISOString();
}

/** An audit record's fields, in the column order both stores use. */
export const AUDIT_FIELDS = [
  'id',
  'time',
  'request_id',
  'response_id',
  'caller',
  'team_id',
  'server',
  'tool',
  'arguments_bytes',
  'arguments_sha256',
  'outcome',
  'duration_ms',
  'approval_request_id',
] as const satisfies readonly (keyof ToolCallAudit)[];
