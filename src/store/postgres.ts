/**
 * The shared store: PostgreSQL through `postgres` (porsager's Postgres.js), so that replicas behind a
 * balancer serve and continue each other's responses.
 *
 * - Schema: `?schema=<name>` in the URL puts every table in that schema (created if missing, and set as
 *   the connections' `search_path`); a `search_path` parameter is passed to the server as it is (its
 *   first schema must exist). Without either, the server's default applies (usually `public`).
 * - Migrations: versioned, recorded in `toolgate_migrations`, applied in one transaction that holds an
 *   advisory lock, so replicas starting together migrate once. They only ever add, so a replica still
 *   on older code keeps working on a newer schema.
 * - Documents are `json`, not `jsonb`: they are served back as they were given (jsonb reorders keys),
 *   jsonb refuses `\u0000` in strings (which a client may send), and nothing queries inside them.
 * - Pool: Postgres.js's, 10 connections unless the URL says `?max=`; every statement is prepared once
 *   per connection (`?prepare=false` for a transaction-mode pooler such as PgBouncer).
 * - Replicas: each store object is a replica with its own id, and beats every `heartbeatMs` in
 *   `toolgate_replicas`; rows in progress carry their replica's id. `failInterrupted` fails only rows
 *   whose replica has not beaten for `staleMs` (it stopped or lost its database), at startup and on
 *   every beat, so a replica's crash fails its streams within about `staleMs` and a live replica's
 *   streams are never touched, however long they run. Times are the database's (`now()`), so clocks
 *   of replicas need not agree.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import postgres from 'postgres';
import type { AuditQuery, KeyRecord, SpendLog, TeamRecord, ToolCallAudit } from '../protocol/admin.ts';
import {
  AUDIT_FIELDS,
  type ColumnKind,
  INTERRUPTED,
  isoTime,
  KEY_COLUMNS,
  nextReset,
  pageOf,
  patchedColumns,
  spendTotals,
  TEAM_COLUMNS,
  uniqueLogs,
} from './shared.ts';
import type { BudgetResets, ItemPage, ItemPageQuery, KeyListQuery, SpendQuery, Store, StoredResponse } from './types.ts';
import { WriteBatch } from './write-batch.ts';

/** Schema versions, applied in order: version n is `MIGRATIONS[n - 1]`. Never edit one that shipped; add the next. */
const MIGRATIONS: string[] = [
  `CREATE TABLE responses (
     id text PRIMARY KEY,
     created_at bigint NOT NULL,
     status text NOT NULL,
     previous_response_id text,
     request json NOT NULL,
     input_items json NOT NULL,
     response json NOT NULL,
     approvals json NOT NULL DEFAULT '{}',
     replica text
   );
   CREATE INDEX responses_unfinished ON responses (replica) WHERE status IN ('in_progress', 'queued');
   CREATE TABLE toolgate_replicas (
     id text PRIMARY KEY,
     started_at timestamptz NOT NULL DEFAULT now(),
     seen_at timestamptz NOT NULL DEFAULT now()
   );`,
  // 2: virtual keys, teams and their spend. Spend is double precision (what a JS number holds), added
  // to in place by `recordSpend`; times are timestamptz, returned as ISO strings.
  `CREATE TABLE teams (
     team_id text PRIMARY KEY,
     team_alias text,
     models json NOT NULL DEFAULT '[]',
     max_budget double precision,
     budget_duration text,
     budget_reset_at timestamptz,
     spend double precision NOT NULL DEFAULT 0,
     rpm_limit integer,
     tpm_limit integer,
     metadata json NOT NULL DEFAULT '{}',
     object_permission json,
     created_at timestamptz NOT NULL
   );
   CREATE INDEX teams_budget_reset ON teams (budget_reset_at) WHERE budget_reset_at IS NOT NULL;
   CREATE TABLE api_keys (
     token text PRIMARY KEY,
     key_name text NOT NULL,
     key_alias text,
     team_id text,
     models json NOT NULL DEFAULT '[]',
     max_budget double precision,
     budget_duration text,
     budget_reset_at timestamptz,
     spend double precision NOT NULL DEFAULT 0,
     rpm_limit integer,
     tpm_limit integer,
     metadata json NOT NULL DEFAULT '{}',
     object_permission json,
     expires timestamptz,
     created_at timestamptz NOT NULL
   );
   CREATE INDEX api_keys_team ON api_keys (team_id);
   CREATE INDEX api_keys_budget_reset ON api_keys (budget_reset_at) WHERE budget_reset_at IS NOT NULL;
   CREATE TABLE spend_logs (
     request_id text PRIMARY KEY,
     api_key text NOT NULL,
     team_id text,
     model text NOT NULL,
     prompt_tokens integer NOT NULL,
     completion_tokens integer NOT NULL,
     spend double precision NOT NULL,
     start_time timestamptz NOT NULL,
     end_time timestamptz NOT NULL
   );
   CREATE INDEX spend_logs_time ON spend_logs (start_time);
   CREATE INDEX spend_logs_key ON spend_logs (api_key, start_time);
   CREATE INDEX spend_logs_team ON spend_logs (team_id, start_time);`,
  `CREATE TABLE tool_audit (
     id text PRIMARY KEY,
     time timestamptz NOT NULL,
     request_id text NOT NULL,
     response_id text,
     caller text NOT NULL,
     team_id text,
     server text NOT NULL,
     tool text NOT NULL,
     arguments_bytes integer NOT NULL,
     arguments_sha256 text NOT NULL,
     outcome text NOT NULL,
     duration_ms double precision,
     approval_request_id text
   );
   CREATE INDEX tool_audit_time ON tool_audit (time, id);`,
];

type Row = Record<string, string | number | null | postgres.Parameter<unknown>>;

/** The `json` type's oid: a document sent as it, serialized once by `JSON.stringify` (key order kept). */
const JSON_OID = 114;

/**
 * A record's fields as column values. Plain values go out untyped, so the server reads each as its
 * column's type (ISO text into `timestamptz`); documents go out typed as `json`.
 */
function toRow(sql: Sql, columns: Record<string, ColumnKind>, r: Record<string, unknown>, names = Object.keys(columns)): Row {
  const row: Row = {};
  for (const c of names) {
    const v = r[c] ?? null;
    row[c] = v === null ? null : columns[c] === 'json' ? sql.typed(v, JSON_OID) : columns[c] === 'time' ? isoTime(v as string) : (v as string | number);
  }
  return row;
}

/** `json` comes back parsed, `timestamptz` as a Date. */
function fromRow<T>(columns: Record<string, ColumnKind>, row: Record<string, unknown>): T {
  const r: Record<string, unknown> = {};
  for (const [c, kind] of Object.entries(columns)) r[c] = kind === 'time' && row[c] instanceof Date ? row[c].toISOString() : row[c];
  return r as T;
}

interface SpendRow {
  request_id: string;
  api_key: string;
  team_id: string | null;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  spend: number;
  start_time: Date;
  end_time: Date;
}

/** The advisory lock's first key ('tool'); the second is the schema's hash, so schemas migrate independently. */
const LOCK_CLASS = 0x746f6f6c;
/** Replicas not seen for a day are forgotten. */
const FORGET_AFTER = '1 day';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface PostgresStoreOptions {
  /** How often this replica records that it is alive (ms, default 10 s). */
  heartbeatMs?: number;
  /** How long without a beat before a replica's responses in progress are failed (ms, default 3 beats). */
  staleMs?: number;
  /** This replica's id (default: host, pid and a random part). */
  replicaId?: string;
}

interface Target {
  /** What Postgres.js connects to: the URL without toolgate's own `schema` parameter. */
  url: string;
  schema: string | null;
  /** Names what the advisory lock guards: the schema the tables go to. */
  lockName: string;
  description: string;
}

/** Splits toolgate's `schema` parameter from the URL, and describes it without its password. */
export function parseDatabaseUrl(url: string): Target {
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const schema = params.get('schema');
  params.delete('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema))
    throw new Error(`database_url: schema '${schema}' must be a plain identifier (letters, digits and _, not starting with a digit)`);
  const rest = params.toString();
  const shown = base.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1@');
  return {
    url: rest ? `${base}?${rest}` : base,
    schema,
    lockName: schema ?? params.get('search_path') ?? '',
    description: schema ? `${shown}?schema=${schema}` : shown,
  };
}

type Sql = postgres.Sql;

export class PostgresStore implements Store {
  readonly description: string;
  readonly replicaId: string;
  private readonly sql: Sql;
  private readonly target: Target;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  /** Saves of this turn, written once the batch before them is (so two saves of a response land in order). */
  private batch: WriteBatch | null = null;
  /** Settles when the newest batch is written: what a read waits for. Null when nothing is queued or in flight. */
  private lastWrite: Promise<void> | null = null;
  private writing = false;

  private constructor(target: Target, opts: PostgresStoreOptions) {
    this.target = target;
    this.description = target.description;
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.staleMs = opts.staleMs ?? 3 * this.heartbeatMs;
    this.replicaId = opts.replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.sql = postgres(target.url, {
      onnotice: () => {}, // "schema already exists, skipping" and the like
      fetch_types: false, // no array or custom types are read: one round trip less per connection
      connection: { application_name: 'toolgate', ...(target.schema ? { search_path: `"${target.schema}"` } : {}) },
    });
  }

  /** Connects, migrates, and starts beating. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(parseDatabaseUrl(url), opts);
    try {
      await store.migrate();
      await store.beat();
    } catch (e) {
      await store.sql.end({ timeout: 1 });
      throw e;
    }
    store.timer = setInterval(store.tick, store.heartbeatMs);
    store.timer.unref();
    return store;
  }

  private async migrate(): Promise<void> {
    const { schema, lockName } = this.target;
    await this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::int, hashtext(${lockName}::text))`;
      if (schema) await tx`CREATE SCHEMA IF NOT EXISTS ${tx(schema)}`;
      await tx`CREATE TABLE IF NOT EXISTS toolgate_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
      const [row] = await tx<{ version: number }[]>`SELECT coalesce(max(version), 0)::int AS version FROM toolgate_migrations`;
      for (let v = row!.version; v < MIGRATIONS.length; v++) {
        await tx.unsafe(MIGRATIONS[v]!);
        await tx`INSERT INTO toolgate_migrations (version) VALUES (${v + 1}::int)`;
      }
      await tx`DELETE FROM toolgate_replicas WHERE seen_at < now() - ${FORGET_AFTER}::interval`;
    });
  }

  private async beat(): Promise<void> {
    await this.sql`INSERT INTO toolgate_replicas (id) VALUES (${this.replicaId}) ON CONFLICT (id) DO UPDATE SET seen_at = now()`;
  }

  /** A beat, then a sweep for responses of replicas that stopped. A failure waits for the next tick. */
  private readonly tick = async (): Promise<void> => {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      await this.beat();
      await this.failInterrupted();
    } catch {
      // the database is unreachable for now: readiness reports it, and the next beat tries again
    } finally {
      this.beating = false;
    }
  };

  async ready(): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 2_000);
    });
    try {
      return await Promise.race([
        this.sql`SELECT 1`.then(
          () => true,
          () => false,
        ),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  saveResponse(r: StoredResponse): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    let batch = this.batch;
    if (!batch) {
      batch = this.batch = new WriteBatch();
      this.lastWrite = batch.settled;
      if (!this.writing) {
        this.writing = true;
        setImmediate(this.write);
      }
    }
    batch.rows.set(r.response.id, r);
    return batch.committed;
  }

  /**
   * Writes batch after batch until none is queued: the rows of a batch in parallel (one prepared
   * statement each, on as many connections), the next batch once they are all done. Documents are
   * serialized here, so a row is written as it is when its batch goes out.
   */
  private readonly write = async (): Promise<void> => {
    for (let batch = this.batch; batch; batch = this.batch) {
      this.batch = null;
      const results = await Promise.allSettled(Array.from(batch.rows.values(), (r) => this.upsert(r)));
      const failed = results.find((x) => x.status === 'rejected');
      if (failed) batch.reject(failed.reason);
      else batch.resolve();
      if (this.lastWrite === batch.settled) this.lastWrite = null;
    }
    this.writing = false;
  };

  private upsert(r: StoredResponse): Promise<unknown> {
    const res = r.response;
    return this.sql`
      INSERT INTO responses (id, created_at, status, previous_response_id, request, input_items, response, approvals, replica)
      VALUES (${res.id}, ${res.created_at}::bigint, ${res.status}, ${res.previous_response_id ?? null}::text,
              ${JSON.stringify(r.request ?? null)}::text::json, ${JSON.stringify(r.inputItems)}::text::json,
              ${JSON.stringify(res)}::text::json, ${JSON.stringify(r.approvals)}::text::json, ${this.replicaId})
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, response = excluded.response, approvals = excluded.approvals, replica = excluded.replica`;
  }

  /** Before a read: the store is open, and what this store object saved before it is written. */
  private async settled(): Promise<void> {
    if (this.closed) throw new Error('the store is closed');
    if (this.lastWrite) await this.lastWrite;
  }

  async getResponse(id: string): Promise<StoredResponse | null> {
    await this.settled();
    const [row] = await this.sql<
      { request: unknown; input_items: StoredResponse['inputItems']; response: StoredResponse['response']; approvals: StoredResponse['approvals'] }[]
    >`
      SELECT request, input_items, response, approvals FROM responses WHERE id = ${id}`;
    return row ? { request: row.request, inputItems: row.input_items, response: row.response, approvals: row.approvals } : null;
  }

  async responseStatus(id: string): Promise<string | null> {
    await this.settled();
    const [row] = await this.sql<{ status: string }[]>`SELECT status FROM responses WHERE id = ${id}`;
    return row?.status ?? null;
  }

  async deleteResponse(id: string): Promise<boolean> {
    await this.settled();
    return (await this.sql`DELETE FROM responses WHERE id = ${id}`).count > 0;
  }

  async listInputItems(id: string, opts: ItemPageQuery): Promise<ItemPage | null> {
    await this.settled();
    const [row] = await this.sql<{ input_items: StoredResponse['inputItems'] }[]>`SELECT input_items FROM responses WHERE id = ${id}`;
    return row ? pageOf(row.input_items, opts) : null;
  }

  /**
   * Fails the responses in progress whose replica is gone: absent from `toolgate_replicas` (it closed)
   * or silent for `staleMs`. Each row is changed only if it is still in progress under the same replica,
   * and that replica is still silent, so a replica that comes back and finishes its response wins.
   */
  async failInterrupted(): Promise<number> {
    await this.settled();
    const stale = this.staleMs;
    const rows = await this.sql<{ id: string; replica: string | null; response: StoredResponse['response'] }[]>`
      SELECT id, replica, response FROM responses r
      WHERE status IN ('in_progress', 'queued')
        AND NOT EXISTS (SELECT 1 FROM toolgate_replicas p WHERE p.id = r.replica AND p.seen_at > now() - ${stale}::int * interval '1 millisecond')`;
    const changed = await Promise.all(
      rows.map(async (row) => {
        const response = { ...row.response, status: 'failed', error: INTERRUPTED };
        const result = await this.sql`
          UPDATE responses r SET status = 'failed', response = ${JSON.stringify(response)}::text::json
          WHERE id = ${row.id} AND status IN ('in_progress', 'queued') AND replica IS NOT DISTINCT FROM ${row.replica}::text
            AND NOT EXISTS (SELECT 1 FROM toolgate_replicas p WHERE p.id = r.replica AND p.seen_at > now() - ${stale}::int * interval '1 millisecond')`;
        return result.count;
      }),
    );
    return changed.reduce((a, b) => a + b, 0);
  }

  private async insert(table: string, columns: Record<string, ColumnKind>, r: object): Promise<void> {
    await this.settled();
    await this.sql`INSERT INTO ${this.sql(table)} ${this.sql(toRow(this.sql, columns, r as Record<string, unknown>) as never)}`;
  }

  private async getOne<T>(table: string, columns: Record<string, ColumnKind>, primary: string, id: string): Promise<T | null> {
    await this.settled();
    const [row] = await this.sql`SELECT * FROM ${this.sql(table)} WHERE ${this.sql(primary)} = ${id}`;
    return row ? fromRow<T>(columns, row) : null;
  }

  private async update<T>(table: string, columns: Record<string, ColumnKind>, primary: string, id: string, patch: Partial<T>): Promise<T | null> {
    const names = patchedColumns(columns as Record<keyof T & string, ColumnKind>, patch, primary as keyof T & string);
    if (!names.length) return this.getOne<T>(table, columns, primary, id);
    await this.settled();
    const row = toRow(this.sql, columns, patch as Record<string, unknown>, names);
    const [updated] = await this.sql`UPDATE ${this.sql(table)} SET ${this.sql(row as never, names)} WHERE ${this.sql(primary)} = ${id} RETURNING *`;
    return updated ? fromRow<T>(columns, updated) : null;
  }

  private async deleteMany(table: string, primary: string, ids: string[]): Promise<number> {
    await this.settled();
    if (!ids.length) return 0;
    return (await this.sql`DELETE FROM ${this.sql(table)} WHERE ${this.sql(primary)} IN ${this.sql(ids)}`).count;
  }

  createKey(r: KeyRecord): Promise<void> {
    return this.insert('api_keys', KEY_COLUMNS, r);
  }

  getKey(token: string): Promise<KeyRecord | null> {
    return this.getOne<KeyRecord>('api_keys', KEY_COLUMNS, 'token', token);
  }

  updateKey(token: string, patch: Partial<KeyRecord>): Promise<KeyRecord | null> {
    return this.update<KeyRecord>('api_keys', KEY_COLUMNS, 'token', token, patch);
  }

  deleteKeys(tokens: string[]): Promise<number> {
    return this.deleteMany('api_keys', 'token', tokens);
  }

  async listKeys(q: KeyListQuery): Promise<KeyRecord[]> {
    await this.settled();
    const rows = await this.sql`
      SELECT * FROM api_keys ${q.team_id === undefined ? this.sql`` : this.sql`WHERE team_id = ${q.team_id}`}
      ORDER BY created_at, token LIMIT ${q.limit}::int OFFSET ${q.offset}::int`;
    return rows.map((row) => fromRow<KeyRecord>(KEY_COLUMNS, row));
  }

  async countKeys(q: { team_id?: string }): Promise<number> {
    await this.settled();
    const [row] = await this.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM api_keys ${q.team_id === undefined ? this.sql`` : this.sql`WHERE team_id = ${q.team_id}`}`;
    return row!.n;
  }

  createTeam(r: TeamRecord): Promise<void> {
    return this.insert('teams', TEAM_COLUMNS, r);
  }

  getTeam(teamId: string): Promise<TeamRecord | null> {
    return this.getOne<TeamRecord>('teams', TEAM_COLUMNS, 'team_id', teamId);
  }

  updateTeam(teamId: string, patch: Partial<TeamRecord>): Promise<TeamRecord | null> {
    return this.update<TeamRecord>('teams', TEAM_COLUMNS, 'team_id', teamId, patch);
  }

  deleteTeams(teamIds: string[]): Promise<number> {
    return this.deleteMany('teams', 'team_id', teamIds);
  }

  async listTeams(): Promise<TeamRecord[]> {
    await this.settled();
    const rows = await this.sql`SELECT * FROM teams ORDER BY created_at, team_id`;
    return rows.map((row) => fromRow<TeamRecord>(TEAM_COLUMNS, row));
  }

  /**
   * One transaction: the logs not yet recorded go in (one statement), then their spend is added to each
   * key and team once, in a fixed order so that concurrent transactions never wait on each other in a cycle.
   */
  async recordSpend(logs: SpendLog[]): Promise<void> {
    await this.settled();
    const unique = uniqueLogs(logs);
    if (!unique.length) return;
    const rows = unique.map((l) => ({
      request_id: l.request_id,
      api_key: l.api_key,
      team_id: l.team_id,
      model: l.model,
      prompt_tokens: l.prompt_tokens,
      completion_tokens: l.completion_tokens,
      spend: l.spend,
      start_time: isoTime(l.startTime),
      end_time: isoTime(l.endTime),
    }));
    await this.sql.begin(async (tx) => {
      const inserted = await tx<{ request_id: string }[]>`
        INSERT INTO spend_logs ${tx(rows)} ON CONFLICT (request_id) DO NOTHING RETURNING request_id`;
      const ids = new Set(inserted.map((r) => r.request_id));
      const totals = spendTotals(unique.filter((l) => ids.has(l.request_id)));
      for (const [token, spend] of totals.keys) await tx`UPDATE api_keys SET spend = spend + ${spend}::float8 WHERE token = ${token}`;
      for (const [team, spend] of totals.teams) await tx`UPDATE teams SET spend = spend + ${spend}::float8 WHERE team_id = ${team}`;
    });
  }

  async listSpend(q: SpendQuery): Promise<SpendLog[]> {
    await this.settled();
    const sql = this.sql;
    const conditions = [
      q.api_key === undefined ? null : sql`api_key = ${q.api_key}`,
      q.team_id === undefined ? null : sql`team_id = ${q.team_id}`,
      q.start === undefined ? null : sql`start_time >= ${isoTime(q.start)}::timestamptz`,
      q.end === undefined ? null : sql`start_time < ${isoTime(q.end)}::timestamptz`,
    ].filter((c) => c !== null);
    const where = conditions.length ? conditions.reduce((a, c) => sql`${a} AND ${c}`) : sql`true`;
    const rows = await sql<SpendRow[]>`
      SELECT * FROM spend_logs WHERE ${where} ORDER BY start_time DESC, request_id DESC LIMIT ${q.limit}::int`;
    return rows.map((r) => ({
      request_id: r.request_id,
      api_key: r.api_key,
      team_id: r.team_id,
      model: r.model,
      prompt_tokens: r.prompt_tokens,
      completion_tokens: r.completion_tokens,
      spend: r.spend,
      startTime: r.start_time.toISOString(),
      endTime: r.end_time.toISOString(),
    }));
  }

  async recordAudit(records: ToolCallAudit[]): Promise<void> {
    await this.settled();
    if (!records.length) return;
    const rows = records.map((r) => ({ ...r, time: isoTime(r.time) }));
    await this.sql`INSERT INTO tool_audit ${this.sql(rows, ...AUDIT_FIELDS)} ON CONFLICT (id) DO NOTHING`;
  }

  async listAudit(q: Omit<AuditQuery, 'limit'> & { limit: number }): Promise<ToolCallAudit[]> {
    await this.settled();
    const sql = this.sql;
    let cursor: { time: Date; id: string } | undefined;
    if (q.after) {
      [cursor] = await sql<{ time: Date; id: string }[]>`SELECT time, id FROM tool_audit WHERE id = ${q.after}`;
      if (!cursor) return [];
    }
    const conditions = [
      q.server === undefined ? null : sql`server = ${q.server}`,
      q.tool === undefined ? null : sql`tool = ${q.tool}`,
      q.outcome === undefined ? null : sql`outcome = ${q.outcome}`,
      q.start === undefined ? null : sql`time >= ${isoTime(q.start)}::timestamptz`,
      q.end === undefined ? null : sql`time < ${isoTime(q.end)}::timestamptz`,
      cursor ? sql`(time, id) < (${cursor.time.toISOString()}::timestamptz, ${cursor.id})` : null,
    ].filter((c) => c !== null);
    const where = conditions.length ? conditions.reduce((a, c) => sql`${a} AND ${c}`) : sql`true`;
    const rows = await sql<(Omit<ToolCallAudit, 'time'> & { time: Date })[]>`
      SELECT * FROM tool_audit WHERE ${where} ORDER BY time DESC, id DESC LIMIT ${q.limit}::int`;
    return rows.map((r) => ({ ...r, time: r.time.toISOString() }));
  }

  async pruneAudit(before: Date): Promise<number> {
    await this.settled();
    const result = await this.sql`DELETE FROM tool_audit WHERE time < ${before.toISOString()}::timestamptz`;
    return result.count;
  }

  async resetBudgets(now: Date): Promise<BudgetResets> {
    await this.settled();
    const at = now.toISOString();
    const reset = async (table: string, primary: string): Promise<string[]> => {
      const due = await this.sql<{ id: string; budget_reset_at: Date; budget_duration: string }[]>`
        SELECT ${this.sql(primary)} AS id, budget_reset_at, budget_duration FROM ${this.sql(table)}
        WHERE budget_reset_at <= ${at}::timestamptz AND budget_duration IS NOT NULL`;
      const done = await Promise.all(
        due.map(async (r) => {
          const was = r.budget_reset_at.toISOString();
          const result = await this.sql`
            UPDATE ${this.sql(table)} SET spend = 0, budget_reset_at = ${nextReset(was, r.budget_duration, now)}::timestamptz
            WHERE ${this.sql(primary)} = ${r.id} AND budget_reset_at = ${was}::timestamptz`;
          return result.count > 0 ? r.id : null;
        }),
      );
      return done.filter((id) => id !== null);
    };
    const [keys, teams] = await Promise.all([reset('api_keys', 'token'), reset('teams', 'team_id')]);
    return { keys, teams };
  }

  /**
   * Writes what is queued, leaves the replica table (so this replica's responses still in progress are
   * failed by the next sweep of any replica), and closes the pool.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    while (this.lastWrite) await this.lastWrite;
    // Unreachable, the row goes stale all the same.
    await this.sql`DELETE FROM toolgate_replicas WHERE id = ${this.replicaId}`.catch(() => {});
    await this.sql.end({ timeout: 5 });
  }
}
