/**
 * The limiter of a gateway without Redis: the same sliding window as the Redis script (redis.ts), in this
 * process. No timer per subject: windows are pruned when touched, and subjects whose window is empty are
 * dropped from the front of a map kept in order of last use; past `maxSubjects`, the least recently used go
 * first whatever they hold.
 */
import { admissionOf, limited, spendKey, type SubjectUsage, windowSpan } from './admission.ts';
import { type Admission, DEFAULT_BUCKET_MS, DEFAULT_WINDOW_MS, type Limiter, type LimitSubject, type WindowOptions } from './types.ts';

interface Bucket {
  /** floor(time / bucketMs) */
  idx: number;
  requests: number;
  tokens: number;
}

const ALLOWED: Admission = Object.freeze({ allowed: true, headers: Object.freeze({}) as Record<string, string> });

export class MemoryLimiter implements Limiter {
  /** Each subject's buckets, oldest first, in order of last use. */
  private readonly windows = new Map<string, Bucket[]>();
  private readonly bucketMs: number;
  /** Buckets a window spans: a window's worth and the current, partly elapsed one. */
  private readonly span: number;
  private readonly maxSubjects: number;
  /** Dollars counted per subject and budget period (`spendKey`), in order of first spend. */
  private readonly spend = new Map<string, { dollars: number; endsAt: number | undefined }>();

  constructor(opts: WindowOptions & { maxSubjects?: number } = {}) {
    const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.bucketMs = opts.bucketMs ?? DEFAULT_BUCKET_MS;
    this.span = windowSpan(windowMs, this.bucketMs);
    this.maxSubjects = opts.maxSubjects ?? 100_000;
  }

  /** Subjects held now (for tests of eviction). */
  get size(): number {
    return this.windows.size;
  }

  admit(subjects: readonly LimitSubject[], now = Date.now()): Promise<Admission> {
    const list = limited(subjects);
    if (list.length === 0) return Promise.resolve(ALLOWED);
    const cur = Math.floor(now / this.bucketMs);
    const oldest = cur - this.span + 1;
    this.evictIdle(oldest);
    const usage = list.map((s) => this.usageOf(s, this.windows.get(s.id), oldest, now));
    for (let i = 0; i < list.length; i++) usage[i]!.spent = this.spentBy(list[i]!, now);
    const admission = admissionOf(list, usage, (cur + this.span) * this.bucketMs - now);
    if (admission.allowed) for (const s of list) if (s.rpm !== undefined) this.bucket(s.id, cur, oldest).requests++;
    return Promise.resolve(admission);
  }

  recordTokens(subjects: readonly LimitSubject[], tokens: number, now = Date.now()): void {
    if (!(tokens > 0)) return;
    const cur = Math.floor(now / this.bucketMs);
    for (const s of subjects) if (s.tpm !== undefined) this.bucket(s.id, cur, cur - this.span + 1).tokens += tokens;
  }

  recordSpend(subjects: readonly LimitSubject[], dollars: number): void {
    if (!(dollars > 0)) return;
    for (const s of subjects) {
      const key = spendKey(s);
      if (key) this.recordSpendAt(key, dollars, s.budget!.endsAt);
    }
  }

  /** Adds dollars to one budget period's count (`spendKey`). */
  recordSpendAt(key: string, dollars: number, endsAt: number | undefined): void {
    const held = this.spend.get(key);
    if (held) held.dollars += dollars;
    else {
      this.spend.set(key, { dollars, endsAt });
      if (this.spend.size > this.maxSubjects) this.spend.delete(this.spend.keys().next().value!);
    }
  }

  /** The subject's spend in its budget's period: the store's figure or what this process counted, the larger. */
  private spentBy(s: LimitSubject, now: number): number {
    const key = spendKey(s);
    if (!key) return 0;
    const held = this.spend.get(key);
    if (held?.endsAt !== undefined && held.endsAt <= now) this.spend.delete(key);
    else if (held) return Math.max(s.budget!.spent, held.dollars);
    return s.budget!.spent;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  private usageOf(s: LimitSubject, buckets: Bucket[] | undefined, oldest: number, now: number): SubjectUsage {
    if (buckets) prune(buckets, oldest);
    let requests = 0;
    let tokens = 0;
    for (const b of buckets ?? []) {
      requests += b.requests;
      tokens += b.tokens;
    }
    return {
      requests,
      requestsClearMs: s.rpm === undefined ? 0 : this.clearMs(buckets, 'requests', requests, s.rpm, oldest, now),
      requestsResetMs: this.resetMs(buckets, 'requests', now),
      tokens,
      tokensClearMs: s.tpm === undefined ? 0 : this.clearMs(buckets, 'tokens', tokens, s.tpm, oldest, now),
      tokensResetMs: this.resetMs(buckets, 'tokens', now),
      spent: 0,
    };
  }

  /** Until `used` is below `limit`: the oldest buckets leave the window one by one. */
  private clearMs(buckets: Bucket[] | undefined, field: 'requests' | 'tokens', used: number, limit: number, oldest: number, now: number): number {
    const need = used - limit + 1;
    if (need <= 0) return 0;
    let freed = 0;
    for (const b of buckets ?? []) {
      freed += b[field];
      if (freed >= need) return this.leavesAt(b.idx) - now;
    }
    // Nothing counted frees enough (a limit of 0): a whole window from now.
    return this.leavesAt(oldest + this.span - 1) - now;
  }

  /** Until the newest bucket holding something leaves the window. */
  private resetMs(buckets: Bucket[] | undefined, field: 'requests' | 'tokens', now: number): number {
    if (!buckets) return 0;
    for (let i = buckets.length - 1; i >= 0; i--) if (buckets[i]![field] > 0) return this.leavesAt(buckets[i]!.idx) - now;
    return 0;
  }

  private leavesAt(idx: number): number {
    return (idx + this.span) * this.bucketMs;
  }

  /** The subject's bucket `cur`, made if needed; the subject moves to the end (most recently used). */
  private bucket(id: string, cur: number, oldest: number): Bucket {
    let buckets = this.windows.get(id);
    if (buckets) {
      this.windows.delete(id);
      prune(buckets, oldest);
    } else buckets = [];
    this.windows.set(id, buckets);
    // Time moves forward, so the bucket is almost always the last one; a clock set back finds its place.
    let i = buckets.length;
    while (i > 0 && buckets[i - 1]!.idx > cur) i--;
    const found = buckets[i - 1];
    if (found?.idx === cur) return found;
    const made = { idx: cur, requests: 0, tokens: 0 };
    buckets.splice(i, 0, made);
    if (this.windows.size > this.maxSubjects) this.windows.delete(this.windows.keys().next().value!);
    return made;
  }

  /** Drops least recently used subjects whose windows are empty; stops at the first that is not. */
  private evictIdle(oldest: number): void {
    for (const [id, buckets] of this.windows) {
      const last = buckets[buckets.length - 1];
      if (last && last.idx >= oldest) return;
      this.windows.delete(id);
    }
  }
}

function prune(buckets: Bucket[], oldest: number): void {
  let n = 0;
  while (n < buckets.length && buckets[n]!.idx < oldest) n++;
  if (n > 0) buckets.splice(0, n);
}
