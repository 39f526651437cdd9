/** Opens the store a `database_url` names: `sqlite:<path>` (or `sqlite::memory:`), or `postgres(ql)://...`. */
import { SqliteStore } from './sqlite.ts';
import type { PostgresStoreOptions } from './postgres.ts';
import type { Store } from './types.ts';

export const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** Resolves once the store is open and migrated. PostgreSQL's client loads only when a URL names it. */
export async function openStore(url: string, opts: PostgresStoreOptions = {}): Promise<Store> {
  if (POSTGRES_URL.test(url)) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open(url, opts);
  }
  if (!url.startsWith('sqlite:')) throw new Error(`database_url: '${url.replace(/:[^:@/]*@/, ':***@')}' is neither sqlite:<path> nor postgresql://...`);
  return new SqliteStore(url.slice('sqlite:'.length) || ':memory:');
}
