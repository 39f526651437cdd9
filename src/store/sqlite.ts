/**
 * The embedded store: SQLite through `node:sqlite` (built into Node, no native build). SQLite is
 * synchronous: the methods return settled promises, and a read commits the queued writes itself.
 * One process owns a file: `failInterrupted` fails every response in progress.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { INTERRUPTED, pageOf } from './shared.ts';
import type { ItemPage, ItemPageQuery, Store, StoredResponse } from './types.ts';
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
];

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

  async close(): Promise<void> {
    this.commit();
    this.db?.close();
    this.db = null;
  }
}
