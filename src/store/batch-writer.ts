/**
 * Records written to the store in batches, off the request path: at most one write every `intervalMs`
 * (or every `maxBatch` records). A batch the store refuses is kept and tried again with the next (what it
 * writes must be idempotent: spend logs count a request id once, audit records are keyed by their own id);
 * past `maxQueued` records the oldest are dropped, and said so.
 */
export interface BatchWriterOptions {
  /** What the records are, for the log (`spend logs`). */
  what: string;
  intervalMs?: number;
  maxBatch?: number;
  maxQueued?: number;
  log: { warn(obj: object, msg: string): void };
}

export class BatchWriter<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly write: (batch: T[]) => Promise<void>;
  private readonly o: Required<Omit<BatchWriterOptions, 'log'>> & Pick<BatchWriterOptions, 'log'>;

  constructor(write: (batch: T[]) => Promise<void>, opts: BatchWriterOptions) {
    this.write = write;
    this.o = { intervalMs: 1000, maxBatch: 500, maxQueued: 100_000, ...opts };
  }

  add(record: T): void {
    this.queue.push(record);
    if (this.queue.length > this.o.maxQueued) {
      const lost = this.queue.splice(0, this.queue.length - this.o.maxQueued);
      this.o.log.warn({ dropped: lost.length }, `${this.o.what} dropped: the store has not taken them for too long`);
    }
    if (this.queue.length >= this.o.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.intervalMs).unref();
  }

  /** Writes what is queued (after a write in progress); resolves when it is written or kept for the next try. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing) await this.writing;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.writing = this.write(batch).then(
      () => {},
      (err: unknown) => {
        this.o.log.warn({ err: (err as Error)?.message ?? String(err), records: batch.length }, `${this.o.what} not written yet; trying again`);
        this.queue = [...batch, ...this.queue];
        this.timer ??= setTimeout(() => void this.flush(), this.o.intervalMs).unref();
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }
}
