/**
 * Virtual keys as each replica knows them: a key's record, its team's and its grant, read from the store at
 * most once a second per key. A key changed or deleted on another replica is seen within that second without
 * any message between replicas; on this replica, the admin routes drop it at once.
 */
import type { KeyRecord, TeamRecord } from '../protocol/admin.ts';
import type { Store } from '../store/types.ts';
import { effectiveGrant, type Grant } from './grants.ts';

export interface KnownKey {
  key: KeyRecord;
  team: TeamRecord | null;
  grant: Grant;
}

const FRESH_MS = 1000;
const MAX_ENTRIES = 10_000;

export class KeyCache {
  private readonly store: Pick<Store, 'getKey' | 'getTeam'>;
  private readonly entries = new Map<string, { at: number; known: Promise<KnownKey | null> }>();
  private readonly now: () => number;

  constructor(store: Pick<Store, 'getKey' | 'getTeam'>, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
  }

  /** The key with this token, if it exists and has not expired. Concurrent lookups of one key share one read. */
  async lookup(token: string): Promise<KnownKey | null> {
    const t = this.now();
    let entry = this.entries.get(token);
    if (!entry || t - entry.at >= FRESH_MS) {
      entry = { at: t, known: this.read(token) };
      this.entries.delete(token);
      this.entries.set(token, entry);
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      entry.known.catch(() => this.entries.delete(token));
    }
    const known = await entry.known;
    return known && (!known.key.expires || Date.parse(known.key.expires) > this.now()) ? known : null;
  }

  /** Forget a key (changed or deleted here), or every key of a team. */
  forget(token: string): void {
    this.entries.delete(token);
  }

  clear(): void {
    this.entries.clear();
  }

  private async read(token: string): Promise<KnownKey | null> {
    const key = await this.store.getKey(token);
    if (!key) return null;
    const team = key.team_id ? await this.store.getTeam(key.team_id) : null;
    return { key, team, grant: effectiveGrant(key, team) };
  }
}
