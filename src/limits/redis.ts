/**
 * The limiter replicas share: the sliding window of memory.ts kept in Redis, one hash per subject (its
 * buckets and their running totals, expiring with its newest bucket), checked and counted by a Lua script,
 * so that no other replica's request interleaves (Redis documentation, "Scripting with Lua": a script runs
 * atomically; ioredis's `defineCommand` sends it by EVALSHA and loads it on NOSCRIPT).
 *
 * Why a bucketed sliding window rather than GCRA or a token bucket: "rpm 4" must mean at most 4 requests in
 * any minute, and a token bucket lets a full burst through and then a request every 15 s (8 in the first
 * minute). One-second buckets make the window exact on the safe side: a request counts for 60 to 61 s.
 *
 * `admit` is one script call for all of a request's subjects: one round trip, and the same work however
 * many buckets a subject holds. Recorded tokens are gathered for the rest of the tick and written by one
 * script call, sent ahead of the next admit on the same connection if one comes first, so admit always sees
 * them. Without a `now`, the scripts read Redis's clock (TIME), the one clock every replica shares. While
 * Redis fails, each replica limits on its own (memory.ts) and logs it: a request is never refused, nor
 * delayed, for Redis's sake, and a key gets at most its limit on each replica rather than no limit at all.
 */
import type { Redis } from 'ioredis';
import { admissionOf, limited, spendKey, type SubjectUsage, windowSpan } from './admission.ts';
import { MemoryLimiter } from './memory.ts';
import { type Admission, DEFAULT_BUCKET_MS, DEFAULT_WINDOW_MS, type Limiter, type LimitsLog, type LimitSubject, type WindowOptions } from './types.ts';

/**
 * Shared by both scripts. ARGV[1] now ('' = Redis TIME), ARGV[2] bucket ms, ARGV[3] buckets a window spans.
 * A subject's hash holds its buckets (`r<b>`, `t<b>`) and, so that a request costs the same however many
 * buckets there are, their totals `R` and `T`, the oldest bucket that may still be there `o` (buckets older
 * than it are gone), and the newest bucket with requests `rn` and with tokens `tn`. Every bucket lies in
 * [o, o + span - 1], so the buckets to forget when time moves are known without listing the hash.
 */
const WINDOW = `
local g = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cur = math.floor(now / g)
local oldest = cur - span + 1
local full = (cur + span) * g - now

-- A subject's totals and its bucket cur of kind k ('r' or 't'), the buckets that left the window forgotten.
local function open(key, k)
  local h = redis.call('HMGET', key, 'R', 'T', 'o', 'rn', 'tn', k .. cur)
  local s = { key = key, R = tonumber(h[1]) or 0, T = tonumber(h[2]) or 0, o = tonumber(h[3]),
    rn = tonumber(h[4]), tn = tonumber(h[5]), here = tonumber(h[6]), dirty = false }
  if not s.o then
    s.o = oldest
    s.fresh = true
  elseif s.o < oldest then
    if oldest - s.o >= span then
      -- Every bucket left: the hash goes (written again, with its expiry, only if something is counted).
      redis.call('DEL', key)
      s.R = 0; s.T = 0; s.rn = nil; s.tn = nil; s.here = nil; s.fresh = true
    else
      local stale = {}
      for b = s.o, oldest - 1 do
        stale[#stale + 1] = 'r' .. b
        stale[#stale + 1] = 't' .. b
      end
      local v = redis.call('HMGET', key, unpack(stale))
      for j = 1, #v, 2 do
        s.R = s.R - (tonumber(v[j]) or 0)
        s.T = s.T - (tonumber(v[j + 1]) or 0)
      end
      redis.call('HDEL', key, unpack(stale))
      s.dirty = true
    end
    s.o = oldest
  end
  return s
end

-- Adds n to the subject's bucket cur of kind k and to its total, and writes back what changed. A new bucket
-- becomes the newest and moves the hash's expiry to when it leaves the window.
local function count(s, k, n)
  if s.dirty or s.fresh then redis.call('HSET', s.key, 'R', s.R, 'T', s.T, 'o', s.o) end
  local total, newest = 'R', 'rn'
  if k == 't' then total, newest = 'T', 'tn' end
  s[total] = s[total] + n
  if s.here then
    redis.call('HSET', s.key, total, s[total], k .. cur, s.here + n)
  else
    redis.call('HSET', s.key, total, s[total], k .. cur, n, newest, cur)
    redis.call('PEXPIRE', s.key, full)
  end
end

-- Writes back what forgetting buckets changed, when nothing is counted; a hash left with nothing goes.
local function keep(s)
  if not s.dirty then return end
  if s.R > 0 or s.T > 0 then redis.call('HSET', s.key, 'R', s.R, 'T', s.T, 'o', s.o) else redis.call('DEL', s.key) end
end

-- ms until the newest bucket b leaves the window (0: none)
local function leaves(b, total)
  if not b or total <= 0 or b < oldest then return 0 end
  return (b + span) * g - now
end
`;

/**
 * KEYS: one hash per subject, then each subject's spend counter for its budget period. ARGV[4..]: each
 * subject's rpm, tpm, budget (-1: none) and spend the store knows of.
 * Returns now, allowed (1 or 0), then per subject: requests, ms until under rpm, ms until no request,
 * tokens, ms until under tpm, ms until no token, dollars spent in the budget's period (a string: Redis
 * would cut a number to an integer).
 */
const ADMIT = `${WINDOW}
-- ms until the oldest buckets of kind k leaving the window bring used below limit (0: it is below). Refusals only.
local function clear(s, k, used, limit)
  local need = used - limit + 1
  if need <= 0 then return 0 end
  local fields = {}
  for b = s.o, cur do fields[#fields + 1] = k .. b end
  local v = redis.call('HMGET', s.key, unpack(fields))
  local freed = 0
  for j = 1, #v do
    freed = freed + (tonumber(v[j]) or 0)
    if freed >= need then return (s.o + j - 1 + span) * g - now end
  end
  return full
end

local n = #KEYS / 2
local out = { now, 1 }
local subjects = {}
for i = 1, n do
  local a = 4 * i
  local rpm, tpm, budget = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local s = open(KEYS[i], 'r')
  s.rpm = rpm
  subjects[i] = s
  local rc, tc, spent = 0, 0, 0
  if rpm >= 0 then rc = clear(s, 'r', s.R, rpm) end
  if tpm >= 0 then tc = clear(s, 't', s.T, tpm) end
  if budget >= 0 then
    spent = math.max(tonumber(redis.call('GET', KEYS[n + i])) or 0, tonumber(ARGV[a + 3]))
    if spent >= budget then out[2] = 0 end
  end
  if rc > 0 or tc > 0 then out[2] = 0 end
  local m = #out
  out[m + 1] = s.R; out[m + 2] = rc; out[m + 3] = leaves(s.rn, s.R)
  out[m + 4] = s.T; out[m + 5] = tc; out[m + 6] = leaves(s.tn, s.T)
  out[m + 7] = tostring(spent)
end
for i = 1, n do
  local s = subjects[i]
  if out[2] == 1 and s.rpm >= 0 then count(s, 'r', 1) else keep(s) end
end
return out
`;

/** KEYS: one hash per subject; ARGV[4..]: the tokens to add to each. */
const RECORD = `${WINDOW}
for i = 1, #KEYS do
  count(open(KEYS[i], 't'), 't', tonumber(ARGV[3 + i]))
end
return 0
`;

/** The commands `defineCommand` adds (ioredis types them only by name). */
interface LimitCommands {
  toolgateAdmit(numKeys: number, ...args: (string | number)[]): Promise<(number | string)[]>;
  toolgateRecord(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

export interface RedisLimiterOptions extends WindowOptions {
  /** Before every key: `<prefix>rl:<subject id>`. */
  prefix: string;
  log: LimitsLog;
}

export class RedisLimiter implements Limiter {
  private readonly redis: Redis & LimitCommands;
  private readonly keyPrefix: string;
  private readonly bucketMs: number;
  private readonly span: number;
  private readonly log: LimitsLog;
  /** Tokens recorded and not yet sent, by subject id. */
  private pending = new Map<string, number>();
  /** Dollars recorded and not yet sent, by spend key, with when their period ends. */
  private pendingSpend = new Map<string, { dollars: number; endsAt: number | undefined }>();
  private readonly spendPrefix: string;
  private pendingNow: number | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private inFlight = new Set<Promise<void>>();
  private lastWarning = 0;
  /** Limits while Redis fails. */
  private readonly fallback: MemoryLimiter;

  /** `redis`: a connection this limiter may define its scripts on; its owner closes it. */
  constructor(redis: Redis, opts: RedisLimiterOptions) {
    this.keyPrefix = `${opts.prefix}rl:`;
    this.spendPrefix = `${opts.prefix}sp:`;
    this.bucketMs = opts.bucketMs ?? DEFAULT_BUCKET_MS;
    this.span = windowSpan(opts.windowMs ?? DEFAULT_WINDOW_MS, this.bucketMs);
    this.log = opts.log;
    this.fallback = new MemoryLimiter(opts);
    redis.defineCommand('toolgateAdmit', { lua: ADMIT });
    redis.defineCommand('toolgateRecord', { lua: RECORD });
    this.redis = redis as Redis & LimitCommands;
  }

  async admit(subjects: readonly LimitSubject[], now?: number): Promise<Admission> {
    const list = limited(subjects);
    if (list.length === 0) return { allowed: true, headers: {} };
    if (this.pending.size > 0 || this.pendingSpend.size > 0) this.send();
    const args: (string | number)[] = [2 * list.length];
    for (const s of list) args.push(this.keyPrefix + s.id);
    for (const s of list) args.push(this.spendPrefix + (spendKey(s) ?? s.id));
    args.push(now ?? '', this.bucketMs, this.span);
    for (const s of list) args.push(s.rpm ?? -1, s.tpm ?? -1, s.budget?.max ?? -1, s.budget?.spent ?? 0);
    let reply: (number | string)[];
    try {
      reply = await this.redis.toolgateAdmit(...(args as [number, ...(string | number)[]]));
    } catch (err) {
      this.warn(err, 'rate limits checked in this process only: Redis failed');
      return this.fallback.admit(list, now);
    }
    const usage: SubjectUsage[] = [];
    const n = (i: number) => reply[i] as number;
    for (let i = 2; i < reply.length; i += 7)
      usage.push({
        requests: n(i),
        requestsClearMs: n(i + 1),
        requestsResetMs: n(i + 2),
        tokens: n(i + 3),
        tokensClearMs: n(i + 4),
        tokensResetMs: n(i + 5),
        spent: Number(reply[i + 6]),
      });
    const t = n(0);
    const cur = Math.floor(t / this.bucketMs);
    const admission = admissionOf(list, usage, (cur + this.span) * this.bucketMs - t);
    if (admission.allowed !== (reply[1] === 1)) throw new Error('the rate-limit script and admissionOf disagree');
    return admission;
  }

  recordTokens(subjects: readonly LimitSubject[], tokens: number, now?: number): void {
    if (!(tokens > 0)) return;
    let added = false;
    for (const s of subjects) {
      if (s.tpm === undefined) continue;
      this.pending.set(s.id, (this.pending.get(s.id) ?? 0) + Math.round(tokens));
      added = true;
    }
    if (!added) return;
    if (now !== undefined) this.pendingNow = now;
    this.scheduled ??= setImmediate(() => this.send());
  }

  recordSpend(subjects: readonly LimitSubject[], dollars: number): void {
    if (!(dollars > 0)) return;
    let added = false;
    for (const s of subjects) {
      const key = spendKey(s);
      if (!key) continue;
      const held = this.pendingSpend.get(key);
      if (held) held.dollars += dollars;
      else this.pendingSpend.set(key, { dollars, endsAt: s.budget!.endsAt });
      added = true;
    }
    if (added) this.scheduled ??= setImmediate(() => this.send());
  }

  async flush(): Promise<void> {
    if (this.pending.size > 0 || this.pendingSpend.size > 0) this.send();
    await Promise.all(this.inFlight);
  }

  /** Writes the pending tokens (one script call for all of them) and dollars. */
  private send(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pendingSpend.size > 0) this.sendSpend();
    const pending = this.pending;
    if (pending.size === 0) return;
    const now = this.pendingNow;
    this.pending = new Map();
    this.pendingNow = undefined;
    const args: (string | number)[] = [pending.size];
    for (const id of pending.keys()) args.push(this.keyPrefix + id);
    args.push(now ?? '', this.bucketMs, this.span, ...pending.values());
    const sent = this.redis.toolgateRecord(...(args as [number, ...(string | number)[]])).then(
      () => {},
      (err: unknown) => {
        this.warn(err, 'tokens counted in this process only: Redis failed');
        for (const [id, tokens] of pending) this.fallback.recordTokens([{ id, tpm: 0 }], tokens, now);
      },
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /**
   * Each period's counter grows by what was spent and lives a day past the period's end (a period without
   * an end: 90 days past its last spend; the store keeps the figure for good).
   */
  private sendSpend(): void {
    const pending = this.pendingSpend;
    this.pendingSpend = new Map();
    const batch = this.redis.pipeline();
    const day = 86_400_000;
    for (const [key, { dollars, endsAt }] of pending) {
      batch.incrbyfloat(this.spendPrefix + key, dollars);
      if (endsAt !== undefined) batch.pexpireat(this.spendPrefix + key, endsAt + day);
      else batch.pexpire(this.spendPrefix + key, 90 * day);
    }
    const sent = batch.exec().then((replies) => {
      const failed = replies?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    });
    const kept = sent.catch((err: unknown) => {
      this.warn(err, 'spend counted in this process only: Redis failed');
      for (const [key, { dollars, endsAt }] of pending) this.fallback.recordSpendAt(key, dollars, endsAt);
    });
    this.inFlight.add(kept);
    void kept.finally(() => this.inFlight.delete(kept));
  }

  /** At most one warning in 10 s: a Redis that is down would otherwise log once per request. */
  private warn(err: unknown, msg: string): void {
    const t = Date.now();
    if (t - this.lastWarning < 10_000) return;
    this.lastWarning = t;
    this.log.warn({ err: (err as Error)?.message ?? String(err) }, msg);
  }
}
