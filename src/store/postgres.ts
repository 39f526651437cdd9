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
import { INTERRUPTED, pageOf } from './shared.ts';
import type { ItemPage, ItemPageQuery, Store, StoredResponse } from './types.ts';
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
];

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
