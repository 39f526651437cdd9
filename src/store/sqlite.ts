/**
 * The embedded store: SQLite through `node:sqlite` (built into Node, no native build). SQLite is
 * synchronous: the methods return settled promises, and a read commits the queued writes itself.
 * One process owns a file: `failInterrupted` fails every response in progress.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
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

/** Schema versions, applied in order; `PRAGMA user_version` records how far a file has come. */
const MIGRATIONS: string[] = [
  `CREATE TABLE responses (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     previous_response_id TEXT,
     request TEXT NOT NULL,
     input_items TEXT NOT NULL,
     response TEXT NOT NULL,
     approvals TEXT NOT NULL DEFAULT '{}'
   );
   CREATE INDEX responses_status ON responses(status);`,
  // 2: virtual keys, teams and their spend. JSON fields as JSON text, times as ISO text (UTC, ms).
  `CREATE TABLE teams (
     team_id TEXT PRIMARY KEY,
     team_alias TEXT,
     models TEXT NOT NULL DEFAULT '[]',
     max_budget REAL,
     budget_duration TEXT,
     budget_reset_at TEXT,
     spend REAL NOT NULL DEFAULT 0,
     rpm_limit INTEGER,
     tpm_limit INTEGER,
     metadata TEXT NOT NULL DEFAULT '{}',
     object_permission TEXT,
     created_at TEXT NOT NULL
   );
   CREATE TABLE api_keys (
     token TEXT PRIMARY KEY,
     key_name TEXT NOT NULL,
     key_alias TEXT,
     team_id TEXT,
     models TEXT NOT NULL DEFAULT '[]',
     max_budget REAL,
     budget_duration TEXT,
     budget_reset_at TEXT,
     spend REAL NOT NULL DEFAULT 0,
     rpm_limit INTEGER,
     tpm_limit INTEGER,
     metadata TEXT NOT NULL DEFAULT '{}',
     object_permission TEXT,
     expires TEXT,
     created_at TEXT NOT NULL
   );
   CREATE INDEX api_keys_team ON api_keys(team_id);
   CREATE TABLE spend_logs (
     request_id TEXT PRIMARY KEY,
     api_key TEXT NOT NULL,
     team_id TEXT,
     model TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     spend REAL NOT NULL,
     start_time TEXT NOT NULL,
     end_time TEXT NOT NULL
   );
   CREATE INDEX spend_logs_time ON spend_logs(start_time);
   CREATE INDEX spend_logs_key ON spend_logs(api_key, start_time);
   CREATE INDEX spend_logs_team ON spend_logs(team_id, start_time);`,
  `CREATE TABLE tool_audit (
     id TEXT PRIMARY KEY,
     time TEXT NOT NULL,
     request_id TEXT NOT NULL,
     response_id TEXT,
     caller TEXT NOT NULL,
     team_id TEXT,
     server TEXT NOT NULL,
     tool TEXT NOT NULL,
     arguments_bytes INTEGER NOT NULL,
     arguments_sha256 TEXT NOT NULL,
     outcome TEXT NOT NULL,
     duration_ms REAL,
     approval_request_id TEXT
   );
   CREATE INDEX tool_audit_time ON tool_audit(time, id);`,
];

type Row = Record<string, SQLInputValue>;

/** A record's fields as column values. */
function toRow(columns: Record<string, ColumnKind>, r: Record<string, unknown>, names = Object.keys(columns)): Row {
  const row: Row = {};
  for (const c of names) {
    const v = r[c] ?? null;
    row[c] = v === null ? null : columns[c] === 'json' ? JSON.stringify(v) : columns[c] === 'time' ? isoTime(v as string) : (v as SQLInputValue);
  }
  return row;
}

function fromRow<T>(columns: Record<string, ColumnKind>, row: Record<string, unknown>): T {
  const r: Record<string, unknown> = {};
  for (const [c, kind] of Object.entries(columns)) r[c] = kind === 'json' && row[c] !== null ? JSON.parse(row[c] as string) : row[c];
  return r as T;
}

function spendLog(row: Record<string, unknown>): SpendLog {
  return {
    request_id: row.request_id as string,
    api_key: row.api_key as string,
    team_id: row.team_id as string | null,
    model: row.model as string,
    prompt_tokens: row.prompt_tokens as number,
    completion_tokens: row.completion_tokens as number,
    spend: row.spend as number,
    startTime: row.start_time as string,
    endTime: row.end_time as string,
  };
}

/** `INSERT INTO table (a, b) VALUES (:a, :b)` for a row's columns. */
function insertSql(table: string, row: Row): string {
  const cols = Object.keys(row);
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `:${c}`).join(', ')})`;
}

/** Runs `fn`, again every 10 ms for up to 5 s while the file is locked by another connection (SQLITE_BUSY). */
function whileBusy(fn: () => void): void {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      fn();
      return;
    } catch (e) {
      if ((e as { errcode?: number }).errcode !== 5 || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // only ever at startup: a short synchronous sleep
    }
  }
}

export class SqliteStore implements Store {
  readonly description: string;
  private db: DatabaseSync | null;
  /**
   * Responses saved in this turn of the event loop, committed together at its end (one transaction,
   * and one row write for a response saved twice in the turn). Every read commits them first, so the
   * store always reads its own writes.
   */
  private batch: WriteBatch | null = null;
  private readonly stmts: {
    save: StatementSync;
    get: StatementSync;
    items: StatementSync;
    status: StatementSync;
    del: StatementSync;
    inProgress: StatementSync;
    markFailed: StatementSync;
  };

  constructor(path: string) {
    this.description = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    this.db = db;
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
    // Turning a new file to WAL while another process does the same can be refused without waiting for
    // the busy timeout: both steps are retried.
    whileBusy(() => db.exec('PRAGMA journal_mode = WAL'));
    whileBusy(() => this.migrate());
    this.stmts = {
      save: db.prepare(
        `INSERT INTO responses (id, created_at, status, previous_response_id, request, input_items, response, approvals)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, response = excluded.response, approvals = excluded.approvals`,
      ),
      get: db.prepare('SELECT request, input_items, response, approvals FROM responses WHERE id = ?'),
      items: db.prepare('SELECT input_items FROM responses WHERE id = ?'),
      status: db.prepare('SELECT status FROM responses WHERE id = ?'),
      del: db.prepare('DELETE FROM responses WHERE id = ?'),
      inProgress: db.prepare("SELECT id, response FROM responses WHERE status IN ('in_progress', 'queued')"),
      markFailed: db.prepare("UPDATE responses SET status = 'failed', response = ? WHERE id = ?"),
    };
  }

  /** In one write transaction, the version read inside it: processes opening a file at once do not both migrate. */
  private migrate(): void {
    const db = this.db!;
    db.exec('BEGIN IMMEDIATE');
    try {
      const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      if (version < MIGRATIONS.length) db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }

  async ready(): Promise<boolean> {
    return this.db?.isOpen === true;
  }

  saveResponse(r: StoredResponse): Promise<void> {
    if (!this.db) return Promise.reject(new Error('the store is closed'));
    if (!this.batch) {
      this.batch = new WriteBatch();
      setImmediate(this.commit);
    }
    this.batch.rows.set(r.response.id, r);
    return this.batch.committed;
  }

  /** Writes what was saved in this turn, as it is now. A failure goes to the savers, not to the reader that triggered it. */
  private readonly commit = (): void => {
    const batch = this.batch;
    if (!batch || !this.db) return;
    this.batch = null;
    const db = this.db;
    db.exec('BEGIN');
    try {
      for (const r of batch.rows.values()) {
        const res = r.response;
        this.stmts.save.run(
          res.id,
          res.created_at,
          res.status,
          res.previous_response_id,
          JSON.stringify(r.request),
          JSON.stringify(r.inputItems),
          JSON.stringify(res),
          JSON.stringify(r.approvals),
        );
      }
      db.exec('COMMIT');
      batch.resolve();
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      batch.reject(e);
    }
  };

  private open(): DatabaseSync {
    if (!this.db) throw new Error('the store is closed');
    this.commit();
    return this.db;
  }

  async getResponse(id: string): Promise<StoredResponse | null> {
    this.open();
    const row = this.stmts.get.get(id) as { request: string; input_items: string; response: string; approvals: string } | undefined;
    if (!row) return null;
    return {
      request: JSON.parse(row.request),
      inputItems: JSON.parse(row.input_items),
      response: JSON.parse(row.response),
      approvals: JSON.parse(row.approvals),
    };
  }

  async responseStatus(id: string): Promise<string | null> {
    this.open();
    return (this.stmts.status.get(id) as { status: string } | undefined)?.status ?? null;
  }

  async deleteResponse(id: string): Promise<boolean> {
    this.open();
    return Number(this.stmts.del.run(id).changes) > 0;
  }

  async listInputItems(id: string, opts: ItemPageQuery): Promise<ItemPage | null> {
    this.open();
    const row = this.stmts.items.get(id) as { input_items: string } | undefined;
    return row ? pageOf(JSON.parse(row.input_items), opts) : null;
  }

  async failInterrupted(): Promise<number> {
    const db = this.open();
    db.exec('BEGIN');
    try {
      const rows = this.stmts.inProgress.all() as { id: string; response: string }[];
      for (const row of rows) {
        const response = { ...JSON.parse(row.response), status: 'failed', error: INTERRUPTED };
        this.stmts.markFailed.run(JSON.stringify(response), row.id);
      }
      db.exec('COMMIT');
      return rows.length;
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Runs `fn` in a write transaction (taken at once, so replicas on the file queue instead of failing on upgrade). */
  private transaction<T>(fn: (db: DatabaseSync) => T): T {
    const db = this.open();
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn(db);
      db.exec('COMMIT');
      return result;
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  private insert(table: string, columns: Record<string, ColumnKind>, r: object): void {
    const row = toRow(columns, r as Record<string, unknown>);
    this.open().prepare(insertSql(table, row)).run(row);
  }

  private getOne<T>(table: string, columns: Record<string, ColumnKind>, primary: string, id: string): T | null {
    const row = this.open().prepare(`SELECT * FROM ${table} WHERE ${primary} = ?`).get(id);
    return row ? fromRow<T>(columns, row) : null;
  }

  private update<T>(table: string, columns: Record<string, ColumnKind>, primary: string, id: string, patch: Partial<T>): T | null {
    const names = patchedColumns(columns as Record<keyof T & string, ColumnKind>, patch, primary as keyof T & string);
    if (names.length) {
      const row = toRow(columns, patch as Record<string, unknown>, names);
      this.open()
        .prepare(`UPDATE ${table} SET ${names.map((c) => `${c} = :${c}`).join(', ')} WHERE ${primary} = :primary_id`)
        .run({ ...row, primary_id: id });
    }
    return this.getOne<T>(table, columns, primary, id);
  }

  private deleteMany(table: string, primary: string, ids: string[]): number {
    if (!ids.length) return 0;
    return Number(
      this.open()
        .prepare(`DELETE FROM ${table} WHERE ${primary} IN (${ids.map(() => '?').join(', ')})`)
        .run(...ids).changes,
    );
  }

  async createKey(r: KeyRecord): Promise<void> {
    this.insert('api_keys', KEY_COLUMNS, r);
  }

  async getKey(token: string): Promise<KeyRecord | null> {
    return this.getOne<KeyRecord>('api_keys', KEY_COLUMNS, 'token', token);
  }

  async updateKey(token: string, patch: Partial<KeyRecord>): Promise<KeyRecord | null> {
    return this.update<KeyRecord>('api_keys', KEY_COLUMNS, 'token', token, patch);
  }

  async deleteKeys(tokens: string[]): Promise<number> {
    return this.deleteMany('api_keys', 'token', tokens);
  }

  async listKeys(q: KeyListQuery): Promise<KeyRecord[]> {
    const rows = this.open()
      .prepare('SELECT * FROM api_keys WHERE (:team IS NULL OR team_id = :team) ORDER BY created_at, token LIMIT :limit OFFSET :offset')
      .all({ team: q.team_id ?? null, limit: q.limit, offset: q.offset });
    return rows.map((row) => fromRow<KeyRecord>(KEY_COLUMNS, row));
  }

  async countKeys(q: { team_id?: string }): Promise<number> {
    const row = this.open()
      .prepare('SELECT count(*) AS n FROM api_keys WHERE (:team IS NULL OR team_id = :team)')
      .get({ team: q.team_id ?? null }) as { n: number };
    return Number(row.n);
  }

  async createTeam(r: TeamRecord): Promise<void> {
    this.insert('teams', TEAM_COLUMNS, r);
  }

  async getTeam(teamId: string): Promise<TeamRecord | null> {
    return this.getOne<TeamRecord>('teams', TEAM_COLUMNS, 'team_id', teamId);
  }

  async updateTeam(teamId: string, patch: Partial<TeamRecord>): Promise<TeamRecord | null> {
    return this.update<TeamRecord>('teams', TEAM_COLUMNS, 'team_id', teamId, patch);
  }

  async deleteTeams(teamIds: string[]): Promise<number> {
    return this.deleteMany('teams', 'team_id', teamIds);
  }

  async listTeams(): Promise<TeamRecord[]> {
    return this.open()
      .prepare('SELECT * FROM teams ORDER BY created_at, team_id')
      .all()
      .map((row) => fromRow<TeamRecord>(TEAM_COLUMNS, row));
  }

  async recordSpend(logs: SpendLog[]): Promise<void> {
    if (!logs.length) return;
    this.transaction((db) => {
      const insert = db.prepare(
        `INSERT INTO spend_logs (request_id, api_key, team_id, model, prompt_tokens, completion_tokens, spend, start_time, end_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING`,
      );
      const added = uniqueLogs(logs).filter(
        (l) =>
          Number(
            insert.run(l.request_id, l.api_key, l.team_id, l.model, l.prompt_tokens, l.completion_tokens, l.spend, isoTime(l.startTime), isoTime(l.endTime))
              .changes,
          ) > 0,
      );
      const totals = spendTotals(added);
      const addToKey = db.prepare('UPDATE api_keys SET spend = spend + ? WHERE token = ?');
      const addToTeam = db.prepare('UPDATE teams SET spend = spend + ? WHERE team_id = ?');
      for (const [token, spend] of totals.keys) addToKey.run(spend, token);
      for (const [team, spend] of totals.teams) addToTeam.run(spend, team);
    });
  }

  async listSpend(q: SpendQuery): Promise<SpendLog[]> {
    const filters: [string, string, SQLInputValue | undefined][] = [
      ['api_key = :api_key', 'api_key', q.api_key],
      ['team_id = :team_id', 'team_id', q.team_id],
      ['start_time >= :start', 'start', q.start === undefined ? undefined : isoTime(q.start)],
      ['start_time < :end', 'end', q.end === undefined ? undefined : isoTime(q.end)],
    ];
    const used = filters.filter(([, , v]) => v !== undefined);
    const where = used.map(([clause]) => clause);
    const params: Row = Object.fromEntries([['limit', q.limit], ...used.map(([, name, v]) => [name, v])]);
    const rows = this.open()
      .prepare(`SELECT * FROM spend_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_time DESC, request_id DESC LIMIT :limit`)
      .all(params);
    return rows.map(spendLog);
  }

  async recordAudit(records: ToolCallAudit[]): Promise<void> {
    if (!records.length) return;
    this.transaction((db) => {
      const insert = db.prepare(
        `INSERT INTO tool_audit (${AUDIT_FIELDS.join(', ')}) VALUES (${AUDIT_FIELDS.map(() => '?').join(', ')}) ON CONFLICT(id) DO NOTHING`,
      );
      for (const r of records) insert.run(...AUDIT_FIELDS.map((f) => (f === 'time' ? isoTime(r.time) : (r[f] as SQLInputValue))));
    });
  }

  async listAudit(q: Omit<AuditQuery, 'limit'> & { limit: number }): Promise<ToolCallAudit[]> {
    const db = this.open();
    let cursor: { time: string; id: string } | undefined;
    if (q.after) {
      cursor = db.prepare('SELECT time, id FROM tool_audit WHERE id = ?').get(q.after) as { time: string; id: string } | undefined;
      if (!cursor) return [];
    }
    const filters: [string, string, SQLInputValue | undefined][] = [
      ['server = :server', 'server', q.server],
      ['tool = :tool', 'tool', q.tool],
      ['outcome = :outcome', 'outcome', q.outcome],
      ['time >= :start', 'start', q.start === undefined ? undefined : isoTime(q.start)],
      ['time < :end', 'end', q.end === undefined ? undefined : isoTime(q.end)],
      ['(time < :ct OR (time = :ct AND id < :cid))', 'ct', cursor?.time],
    ];
    const used = filters.filter(([, , v]) => v !== undefined);
    const params: Row = Object.fromEntries([['limit', q.limit], ...used.map(([, name, v]) => [name, v])]);
    if (cursor) params.cid = cursor.id;
    const where = used.map(([clause]) => clause);
    const rows = db
      .prepare(`SELECT * FROM tool_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT :limit`)
      .all(params);
    return rows.map((row) => ({ ...(row as unknown as ToolCallAudit), time: isoTime(String(row.time)) }));
  }

  async pruneAudit(before: Date): Promise<number> {
    return this.transaction((db) => Number(db.prepare('DELETE FROM tool_audit WHERE time < ?').run(before.toISOString()).changes));
  }

  async resetBudgets(now: Date): Promise<BudgetResets> {
    const at = now.toISOString();
    return this.transaction((db) => {
      const reset = (table: string, primary: string): string[] => {
        const due = db
          .prepare(`SELECT ${primary} AS id, budget_reset_at, budget_duration FROM ${table} WHERE budget_reset_at <= ? AND budget_duration IS NOT NULL`)
          .all(at) as { id: string; budget_reset_at: string; budget_duration: string }[];
        const update = db.prepare(`UPDATE ${table} SET spend = 0, budget_reset_at = ? WHERE ${primary} = ? AND budget_reset_at = ?`);
        return due
          .filter((r) => Number(update.run(nextReset(r.budget_reset_at, r.budget_duration, now), r.id, r.budget_reset_at).changes) > 0)
          .map((r) => r.id);
      };
      return { keys: reset('api_keys', 'token'), teams: reset('teams', 'team_id') };
    });
  }

  async close(): Promise<void> {
    this.commit();
    this.db?.close();
    this.db = null;
  }
}
