/** The saves of one event-loop turn, written together: both stores batch their writes this way. */
import type { StoredResponse } from './types.ts';

/** The saves of one turn, keyed by response id (the last save of a response wins), and the promise their commit settles. */
export class WriteBatch {
  readonly rows = new Map<string, StoredResponse>();
  readonly committed: Promise<void>;
  /** Settles with `committed` but never rejects: what reads wait on. */
  readonly settled: Promise<void>;
  resolve!: () => void;
  reject!: (e: unknown) => void;

  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // This also marks a failure as handled: a save nobody waited for does not crash the process.
    this.settled = this.committed.then(
      () => {},
      () => {},
    );
  }
}
