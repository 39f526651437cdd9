/** The embedded store: SQLite through `node:sqlite` (built into Node, no native build). */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Store } from './types.ts';

/** Schema versions, applied in order; `PRAGMA user_version` records how far a file has come. */
const MIGRATIONS: string[] = [
  `CREATE TABLE responses (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     previous_response_id TEXT,
     request TEXT NOT NULL,
     input_items TEXT NOT NULL,
     response TEXT NOT NULL
   );
   CREATE INDEX responses_status ON responses(status);`,
];

export class SqliteStore implements Store {
  readonly description: string;
  private db: DatabaseSync | null;

  constructor(path: string) {
    this.description = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.migrate();
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
    return this.db !== null && this.db.isOpen;
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}

/** Opens the store a `database_url` names. */
export function openStore(url: string): Store {
  const path = url.slice('sqlite:'.length);
  return new SqliteStore(path || ':memory:');
}
