/**
 * Persistence behind one interface: the embedded SQLite store (the default, one process per file) or
 * PostgreSQL (shared by replicas). Every method is asynchronous; each call is one await for its caller.
 */
import type { AuditQuery, KeyRecord, SpendLog, TeamRecord, ToolCallAudit } from '../protocol/admin.ts';
import type { ResponseObject } from '../protocol/events.ts';
import type { InputItem } from '../protocol/responses.ts';

/** What the gateway keeps of a response to serve it again and to continue from it. */
export interface StoredResponse {
  response: ResponseObject;
  /** This request's input items, each with an id (served by /input_items). */
  inputItems: (InputItem & { id: string })[];
  /** The request as received, without credentials. */
  request: unknown;
  /** For each approval request issued: the upstream server and tool it stands for. */
  approvals: Record<string, { server: string; tool: string }>;
}

export interface ItemPage {
  data: (InputItem & { id: string })[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface ItemPageQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface KeyListQuery {
  team_id?: string;
  limit: number;
  offset: number;
}

/** Spend logs newest first (by `startTime`), `start` ≤ startTime < `end` (ISO times). */
export interface SpendQuery {
  api_key?: string;
  team_id?: string;
  start?: string;
  end?: string;
  limit: number;
}

/** What `resetBudgets` started again from zero: key tokens and team ids. */
export interface BudgetResets {
  keys: string[];
  teams: string[];
}

/**
 * Every read sees the writes this store object was given before it, awaited or not: a read first
 * waits for (or, on SQLite, performs) the writes still queued. Another store object on the same
 * database (another replica) sees a write once its `saveResponse` promise has resolved.
 */
export interface Store {
  /** A short description for the startup log, without credentials, e.g. `sqlite:.toolgate/toolgate.db`. */
  readonly description: string;
  /** True while open and able to serve (PostgreSQL: the database answers), false after close. */
  ready(): Promise<boolean>;
  /**
   * Inserts or replaces a response. Saves made in one turn of the event loop are written together at
   * its end (one transaction, or one round of statements; a response saved twice in the turn is
   * written once, as it is then). The promise resolves when the write is committed, so a caller that
   * must not get ahead of the store (the first event of a stream, the answer a client may continue on
   * another replica) awaits it; it rejects when the write failed. A caller that does not wait loses
   * nothing but the error: an ignored failure is not an unhandled rejection.
   */
  saveResponse(r: StoredResponse): Promise<void>;
  getResponse(id: string): Promise<StoredResponse | null>;
  /** A response's status alone, or null when there is no such response. */
  responseStatus(id: string): Promise<string | null>;
  deleteResponse(id: string): Promise<boolean>;
  /** A page of a response's input items, or null when there is no such response. */
  listInputItems(id: string, opts: ItemPageQuery): Promise<ItemPage | null>;
  /**
   * At startup: responses left in progress by a process that stopped are marked failed. Returns how
   * many. SQLite: every response in progress (one process owns the file). PostgreSQL: only those whose
   * replica stopped sending its heartbeat; a live replica's streams are left alone.
   */
  failInterrupted(): Promise<number>;
  /** Adds a key; a key with the same token is refused (rejects). */
  createKey(r: KeyRecord): Promise<void>;
  getKey(token: string): Promise<KeyRecord | null>;
  /** Changes the fields the patch names (not `token`); the key as it is now, or null when there is no such key. */
  updateKey(token: string, patch: Partial<KeyRecord>): Promise<KeyRecord | null>;
  /** Returns how many of them there were. */
  deleteKeys(tokens: string[]): Promise<number>;
  /** In order of creation. */
  listKeys(q: KeyListQuery): Promise<KeyRecord[]>;
  /** How many keys there are (of the team, when one is named). */
  countKeys(q: { team_id?: string }): Promise<number>;
  /** Adds a team; a team with the same id is refused (rejects). */
  createTeam(r: TeamRecord): Promise<void>;
  getTeam(teamId: string): Promise<TeamRecord | null>;
  updateTeam(teamId: string, patch: Partial<TeamRecord>): Promise<TeamRecord | null>;
  deleteTeams(teamIds: string[]): Promise<number>;
  /** In order of creation. */
  listTeams(): Promise<TeamRecord[]>;
  /**
   * In one transaction: inserts the logs and adds each one's spend to its key's and its team's, as
   * increments in the database (replicas recording at once lose none). A log whose `request_id` is
   * already recorded is skipped, spend included, so a batch written twice counts once.
   */
  recordSpend(logs: SpendLog[]): Promise<void>;
  listSpend(q: SpendQuery): Promise<SpendLog[]>;
  /**
   * Keys and teams whose `budget_reset_at` is at or before `now` (and that have a `budget_duration`):
   * spend back to 0, and `budget_reset_at` moved forward by whole durations to the first time after
   * `now`. Each reset is conditional on the reset time read, so replicas sweeping at once reset once.
   */
  resetBudgets(now: Date): Promise<BudgetResets>;
  /** Adds audit records; one whose id is already there is skipped. */
  recordAudit(records: ToolCallAudit[]): Promise<void>;
  /**
   * Up to `limit` audit records, newest first (by time, then id), filtered; `after` is the last record id
   * of the page before (an unknown one: an empty page).
   */
  listAudit(q: Omit<AuditQuery, 'limit'> & { limit: number }): Promise<ToolCallAudit[]>;
  /** Deletes audit records from before `before`; returns how many. */
  pruneAudit(before: Date): Promise<number>;
  /** Commits what is queued, then closes. Saves after it are refused. */
  close(): Promise<void>;
}
