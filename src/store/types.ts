/** Persistence behind one interface; the embedded SQLite store is the default. */
export interface Store {
  /** A short description for the startup log, e.g. `sqlite:.toolgate/toolgate.db`. */
  readonly description: string;
  /** True once opened and migrated, false after close. */
  ready(): boolean;
  close(): void;
}
