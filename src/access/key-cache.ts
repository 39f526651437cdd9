/**
 * Virtual keys as each replica knows them: a key's record, its team's and its grant, read from the store at
 * most once a second per key. A key changed or deleted on another replica is seen within that second even
 * without any message between replicas; with the bus, at once.
 */
import type { KeyRecord } from '../protocol/admin.ts';
import type { Store } from '../store/types.ts';
import { type Caller, keyCaller } from './caller.ts';
import type { Grant } from './grants.ts';

/** A virtual key as a caller: its record, its team's, its grant and its limits. */
export type KnownKey = Caller & { key: KeyRecord; grant: Grant };

const FRESH_MS = 1000;
const MAX_ENTRIES = 10_000;

export class KeyCache {
  private readonly store: Pick<Store, 'getKey' | 'getTeam'>;
  private readonly entries = new Map<string, { at: number; known: Promise<KnownKey | null> }>();
  private readonly now: () => number;
  private readonly announce: ((what: string) => void) | undefined;

  /** `announce`: tells the other replicas what `changed` names (the bus), so they forget it at once too. */
  constructor(store: Pick<Store, 'getKey' | 'getTeam'>, opts: { now?: () => number; announce?: (what: string) => void } = {}) {
    this.store = store;
    this.now = opts.now ?? Date.now;
    this.announce = opts.announce;
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

  /** A key (its token) or a team (`team:<id>`) was changed or deleted here: forgotten here and announced. */
  changed(what: string): void {
    this.forget(what);
    this.announce?.(what);
  }

  /** Forgets a key (its token), or every key when a team (`team:<id>`) changed: its keys' grants change with it. */
  forget(what: string): void {
    if (what.startsWith('team:')) this.entries.clear();
    else this.entries.delete(what);
  }

  clear(): void {
    this.entries.clear();
  }

  private async read(token: string): Promise<KnownKey | null> {
    const key = await this.store.getKey(token);
    if (!key) return null;
    const team = key.team_id ? await this.store.getTeam(key.team_id) : null;
    return keyCaller(key, team) as KnownKey;
  }
}
