/** Persistence behind one interface; the embedded SQLite store is the default. */
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

export interface Store {
  /** A short description for the startup log, e.g. `sqlite:.toolgate/toolgate.db`. */
  readonly description: string;
  /** True once opened and migrated, false after close. */
  ready(): boolean;
  /** Inserts or replaces a response. It may be written a little later (the SQLite store commits at the end of the event-loop turn), but every read sees it. */
  saveResponse(r: StoredResponse): void;
  getResponse(id: string): StoredResponse | null;
  /** A response's status alone, or null when there is no such response. */
  responseStatus(id: string): string | null;
  deleteResponse(id: string): boolean;
  listInputItems(id: string, opts: { after?: string; limit: number; order: 'asc' | 'desc' }): ItemPage | null;
  /** At startup: responses left in progress by a stopped process are marked failed. Returns how many. */
  failInterrupted(): number;
  close(): void;
}
