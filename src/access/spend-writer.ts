/**
 * Spend logs written in batches, off the request path: at most one store write a second (or every
 * `maxBatch` logs). A batch the store refuses is kept and tried again with the next (the store counts a
 * request id once, so a batch written twice costs nothing); past `maxQueued` logs the oldest are dropped,
 * and said so.
 */
import type { SpendLog } from '../protocol/admin.ts';
import type { Store } from '../store/types.ts';
import type { SpendSink } from './meter.ts';

export interface SpendWriterOptions {
  intervalMs?: number;
  maxBatch?: number;
  maxQueued?: number;
  log: { warn(obj: object, msg: string): void };
}

export class SpendWriter implements SpendSink {
  private queue: SpendLog[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly store: Pick<Store, 'recordSpend'>;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly log: SpendWriterOptions['log'];

  constructor(store: Pick<Store, 'recordSpend'>, opts: SpendWriterOptions) {
    this.store = store;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.log = opts.log;
  }

  add(log: SpendLog): void {
    this.queue.push(log);
    if (this.queue.length > this.maxQueued) {
      const lost = this.queue.splice(0, this.queue.length - this.maxQueued);
      this.log.warn({ dropped: lost.length }, 'spend logs dropped: the store has not taken them for too long');
    }
    if (this.queue.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes what is queued (after a write in progress); resolves when it is written or kept for the next try. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = this.store.recordSpend(batch).then(
      () => {},
      (err: unknown) => {
        this.log.warn({ err: (err as Error)?.message ?? String(err), logs: batch.length }, 'spend logs not written yet; trying again');
        this.queue = [...batch, ...this.queue];
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }
}
