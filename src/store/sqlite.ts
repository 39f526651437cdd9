/** The embedded store: SQLite through `node:sqlite` (built into Node, no native build). */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ItemPage, Store, StoredResponse } from './types.ts';

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

const INTERRUPTED = { code: 'server_error', message: 'The gateway stopped while this response was in progress.' };

export class SqliteStore implements Store {
  readonly description: string;
  private db: DatabaseSync | null;
  /**
   * Responses saved in this turn of the event loop, committed together at its end (one transaction, and
   * one row write for a response saved twice in the turn): the answer goes out before its row is
   * written. Every read commits them first, so the store always reads its own writes.
   */
  private readonly pending = new Map<string, StoredResponse>();
  private readonly stmts: {
    save: StatementSync;
    get: StatementSync;
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
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.migrate();
    this.stmts = {
      save: db.prepare(
        `INSERT INTO responses (id, created_at, status, previous_response_id, request, input_items, response, approvals)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, response = excluded.response, approvals = excluded.approvals`,
      ),
      get: db.prepare('SELECT request, input_items, response, approvals FROM responses WHERE id = ?'),
      status: db.prepare('SELECT status FROM responses WHERE id = ?'),
      del: db.prepare('DELETE FROM responses WHERE id = ?'),
      inProgress: db.prepare("SELECT id, response FROM responses WHERE status IN ('in_progress', 'queued')"),
      markFailed: db.prepare("UPDATE responses SET status = 'failed', response = ? WHERE id = ?"),
    };
  }

  private migrate(): void {
    const db = this.db!;
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec('BEGIN');
      try {
        db.exec(MIGRATIONS[v]!);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }
  }

  ready(): boolean {
    return this.db?.isOpen === true;
  }

  saveResponse(r: StoredResponse): void {
    if (this.pending.size === 0) setImmediate(this.commit);
    this.pending.set(r.response.id, r);
  }

  /** Writes what was saved in this turn, as it is now. */
  private readonly commit = (): void => {
    if (this.pending.size === 0 || !this.db) return;
    const db = this.db;
    db.exec('BEGIN');
    try {
      for (const r of this.pending.values()) {
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
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    } finally {
      this.pending.clear();
    }
  };

  getResponse(id: string): StoredResponse | null {
    this.commit();
    const row = this.stmts.get.get(id) as { request: string; input_items: string; response: string; approvals: string } | undefined;
    if (!row) return null;
    return {
      request: JSON.parse(row.request),
      inputItems: JSON.parse(row.input_items),
      response: JSON.parse(row.response),
      approvals: JSON.parse(row.approvals),
    };
  }

  responseStatus(id: string): string | null {
    this.commit();
    return (this.stmts.status.get(id) as { status: string } | undefined)?.status ?? null;
  }

  deleteResponse(id: string): boolean {
    this.commit();
    return Number(this.stmts.del.run(id).changes) > 0;
  }

  listInputItems(id: string, opts: { after?: string; limit: number; order: 'asc' | 'desc' }): ItemPage | null {
    const stored = this.getResponse(id);
    if (!stored) return null;
    const items = opts.order === 'asc' ? stored.inputItems : [...stored.inputItems].reverse();
    let start = 0;
    if (opts.after) {
      const i = items.findIndex((it) => it.id === opts.after);
      start = i < 0 ? items.length : i + 1;
    }
    const data = items.slice(start, start + opts.limit);
    return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + opts.limit < items.length };
  }

  failInterrupted(): number {
    this.commit();
    const rows = this.stmts.inProgress.all() as { id: string; response: string }[];
    for (const row of rows) {
      const response = { ...JSON.parse(row.response), status: 'failed', error: INTERRUPTED };
      this.stmts.markFailed.run(JSON.stringify(response), row.id);
    }
    return rows.length;
  }

  close(): void {
    this.commit();
    this.db?.close();
    this.db = null;
  }
}

/** Opens the store a `database_url` names. */
export function openStore(url: string): Store {
  const path = url.slice('sqlite:'.length);
  return new SqliteStore(path || ':memory:');
}
