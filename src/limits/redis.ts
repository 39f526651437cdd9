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
 * One script does everything, so that a request costs one command, one write and one round trip: `admit`
 * checks and counts all of a request's subjects (the same work however many buckets a subject holds), and
 * carries with it the tokens and dollars recorded since the last call, if any. The edge sends recorded
 * usage on its own (`flush`) once an answer is out: off the answer's path, yet in Redis before its client
 * can send another request to any replica, so a limit holds exactly across replicas. (Carrying it with the
 * next admit instead saves a command but puts the writes on the next request's path: measured slower.)
 * Usage not flushed goes within `recordFlushMs`. Without a `now`, the script reads Redis's clock (TIME),
 * the one clock every replica shares. While
 * Redis fails, each replica limits on its own (memory.ts) and logs it: a request is never refused, nor
 * delayed, for Redis's sake, and a key gets at most its limit on each replica rather than no limit at all.
 */
import type { Redis } from 'ioredis';
import { admissionOf, limited, spendKey, type SubjectUsage, windowSpan } from './admission.ts';
import { MemoryLimiter } from './memory.ts';
import { type Admission, DEFAULT_BUCKET_MS, DEFAULT_WINDOW_MS, type Limiter, type LimitsLog, type LimitSubject, type WindowOptions } from './types.ts';

/**
 * ARGV[1] the admission's now, ARGV[2] bucket ms, ARGV[3] buckets a window spans, ARGV[4] the recorded
 * tokens' now ('' = Redis TIME for either). A subject's hash holds its buckets (`r<b>`, `t<b>`) and, so
 * that a request costs the same however many buckets there are, their totals `R` and `T`, the oldest
 * bucket that may still be there `o` (buckets older than it are gone), and the newest bucket with requests
 * `rn` and with tokens `tn`. Every bucket lies in [o, o + span - 1], so the buckets to forget when time
 * moves are known without listing the hash.
 */
const WINDOW = `
local g = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local now, cur, oldest, full
local function clock(given)
  now = tonumber(given)
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  cur = math.floor(now / g)
  oldest = cur - span + 1
  full = (cur + span) * g - now
end

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
 * ARGV[5] n subjects to admit, ARGV[6] m subjects with recorded tokens, ARGV[7] k budget periods with
 * recorded dollars. KEYS: the n subjects' hashes, their n spend counters, the m hashes, the k counters.
 * ARGV[8..]: each admitted subject's rpm, tpm, budget (-1: none) and spend the store knows of; each
 * recorded subject's tokens; each period's dollars and expiry (> 0: PEXPIREAT ms, < 0: PEXPIRE -ms).
 * Records are written first, so the admission sees them. Returns now, allowed (1 or 0), then per admitted
 * subject: requests, ms until under rpm, ms until no request, tokens, ms until under tpm, ms until no
 * token, dollars spent in the budget's period (a string: Redis would cut a number to an integer).
 */
const SCRIPT = `${WINDOW}
local n, m, k = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local a = 8 + 4 * n
if m > 0 then
  clock(ARGV[4])
  for j = 1, m do count(open(KEYS[2 * n + j], 't'), 't', tonumber(ARGV[a + j - 1])) end
end
for j = 1, k do
  local key, at = KEYS[2 * n + m + j], a + m + 2 * (j - 1)
  redis.call('INCRBYFLOAT', key, ARGV[at])
  local expiry = tonumber(ARGV[at + 1])
  if expiry > 0 then redis.call('PEXPIREAT', key, expiry) else redis.call('PEXPIRE', key, -expiry) end
end
if n == 0 then return { 0, 1 } end
clock(ARGV[1])

-- ms until the oldest buckets of kind k leaving the window bring used below limit (0: it is below). Refusals only.
local function clear(s, kind, used, limit)
  local need = used - limit + 1
  if need <= 0 then return 0 end
  local fields = {}
  for b = s.o, cur do fields[#fields + 1] = kind .. b end
  local v = redis.call('HMGET', s.key, unpack(fields))
  local freed = 0
  for j = 1, #v do
    freed = freed + (tonumber(v[j]) or 0)
    if freed >= need then return (s.o + j - 1 + span) * g - now end
  end
  return full
end

local out = { now, 1 }
local subjects = {}
for i = 1, n do
  local at = 4 + 4 * i
  local rpm, tpm, budget = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local s = open(KEYS[i], 'r')
  s.rpm = rpm
  subjects[i] = s
  local rc, tc, spent = 0, 0, 0
  if rpm >= 0 then rc = clear(s, 'r', s.R, rpm) end
  if tpm >= 0 then tc = clear(s, 't', s.T, tpm) end
  if budget >= 0 then
    spent = math.max(tonumber(redis.call('GET', KEYS[n + i])) or 0, tonumber(ARGV[at + 3]))
    if spent >= budget then out[2] = 0 end
  end
  if rc > 0 or tc > 0 then out[2] = 0 end
  local o = #out
  out[o + 1] = s.R; out[o + 2] = rc; out[o + 3] = leaves(s.rn, s.R)
  out[o + 4] = s.T; out[o + 5] = tc; out[o + 6] = leaves(s.tn, s.T)
  out[o + 7] = tostring(spent)
end
for i = 1, n do
  local s = subjects[i]
  if out[2] == 1 and s.rpm >= 0 then count(s, 'r', 1) else keep(s) end
end
return out
`;

/** The command `defineCommand` adds (ioredis types it only by name). */
interface LimitCommands {
  toolgateLimits(numKeys: number, ...args: (string | number)[]): Promise<(number | string)[]>;
}

/** What was recorded and not yet sent. */
interface Pending {
  /** Tokens by subject id. */
  tokens: Map<string, number>;
  tokensNow: number | undefined;
  /** Dollars by spend key, with when their period ends. */
  dollars: Map<string, { dollars: number; endsAt: number | undefined }>;
}

const DAY_MS = 86_400_000;

export interface RedisLimiterOptions extends WindowOptions {
  /** Before every key: `<prefix>rl:<subject id>`. */
  prefix: string;
  log: LimitsLog;
  /** Recorded usage is sent at the latest this long after it was recorded (default 250 ms). */
  recordFlushMs?: number;
}

export class RedisLimiter implements Limiter {
  private readonly redis: Redis & LimitCommands;
  private readonly keyPrefix: string;
  private readonly spendPrefix: string;
  private readonly bucketMs: number;
  private readonly span: number;
  private readonly recordFlushMs: number;
  private readonly log: LimitsLog;
  private pending: Pending = { tokens: new Map(), tokensNow: undefined, dollars: new Map() };
  private scheduled: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private lastWarning = 0;
  /** Limits while Redis fails. */
  private readonly fallback: MemoryLimiter;

  /** `redis`: a connection this limiter may define its script on; its owner closes it. */
  constructor(redis: Redis, opts: RedisLimiterOptions) {
    this.keyPrefix = `${opts.prefix}rl:`;
    this.spendPrefix = `${opts.prefix}sp:`;
    this.bucketMs = opts.bucketMs ?? DEFAULT_BUCKET_MS;
    this.span = windowSpan(opts.windowMs ?? DEFAULT_WINDOW_MS, this.bucketMs);
    this.recordFlushMs = opts.recordFlushMs ?? 250;
    this.log = opts.log;
    this.fallback = new MemoryLimiter(opts);
    redis.defineCommand('toolgateLimits', { lua: SCRIPT });
    this.redis = redis as Redis & LimitCommands;
  }

  async admit(subjects: readonly LimitSubject[], now?: number): Promise<Admission> {
    const list = limited(subjects);
    if (list.length === 0) return { allowed: true, headers: {} };
    const pending = this.take();
    let reply: (number | string)[];
    try {
      reply = await this.call(list, now, pending);
    } catch (err) {
      this.warn(err, 'rate limits checked in this process only: Redis failed');
      this.keepInProcess(pending);
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
      this.pending.tokens.set(s.id, (this.pending.tokens.get(s.id) ?? 0) + Math.round(tokens));
      added = true;
    }
    if (!added) return;
    if (now !== undefined) this.pending.tokensNow = now;
    this.schedule();
  }

  recordSpend(subjects: readonly LimitSubject[], dollars: number): void {
    if (!(dollars > 0)) return;
    let added = false;
    for (const s of subjects) {
      const key = spendKey(s);
      if (!key) continue;
      const held = this.pending.dollars.get(key);
      if (held) held.dollars += dollars;
      else this.pending.dollars.set(key, { dollars, endsAt: s.budget!.endsAt });
      added = true;
    }
    if (added) this.schedule();
  }

  /** Sends what was recorded now (one script call), and resolves once everything sent is written. */
  async flush(): Promise<void> {
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = undefined;
    const pending = this.take();
    if (pending) {
      const sent = this.call([], undefined, pending).then(
        () => {},
        (err: unknown) => {
          this.warn(err, 'usage counted in this process only: Redis failed');
          this.keepInProcess(pending);
        },
      );
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
    await Promise.all(this.inFlight);
  }

  /** Recorded usage goes at the latest after recordFlushMs (a long run's), if no admit or flush takes it first. */
  private schedule(): void {
    this.scheduled ??= setTimeout(() => void this.flush(), this.recordFlushMs).unref();
  }

  /** What was recorded, taken to be sent (undefined: nothing). */
  private take(): Pending | undefined {
    const p = this.pending;
    if (p.tokens.size === 0 && p.dollars.size === 0) return undefined;
    this.pending = { tokens: new Map(), tokensNow: undefined, dollars: new Map() };
    return p;
  }

  /**
   * One script call: the pending records written, then the subjects admitted. Each budget period's
   * counter lives a day past the period's end (a period without an end: 90 days past its last spend; the
   * store keeps the figure for good).
   */
  private call(list: readonly LimitSubject[], now: number | undefined, p: Pending | undefined): Promise<(number | string)[]> {
    const tokens = p?.tokens ?? new Map<string, number>();
    const dollars = p?.dollars ?? new Map<string, { dollars: number; endsAt: number | undefined }>();
    const keys: string[] = [];
    for (const s of list) keys.push(this.keyPrefix + s.id);
    for (const s of list) keys.push(this.spendPrefix + (spendKey(s) ?? s.id));
    for (const id of tokens.keys()) keys.push(this.keyPrefix + id);
    for (const key of dollars.keys()) keys.push(this.spendPrefix + key);
    const args: (string | number)[] = [now ?? '', this.bucketMs, this.span, p?.tokensNow ?? '', list.length, tokens.size, dollars.size];
    for (const s of list) args.push(s.rpm ?? -1, s.tpm ?? -1, s.budget?.max ?? -1, s.budget?.spent ?? 0);
    for (const t of tokens.values()) args.push(t);
    for (const d of dollars.values()) args.push(d.dollars.toFixed(15), d.endsAt !== undefined ? d.endsAt + DAY_MS : -90 * DAY_MS);
    return this.redis.toolgateLimits(keys.length, ...keys, ...args);
  }

  /** Usage Redis did not take is counted in this process, where the limits then stand. */
  private keepInProcess(p: Pending | undefined): void {
    if (!p) return;
    for (const [id, tokens] of p.tokens) this.fallback.recordTokens([{ id, tpm: 0 }], tokens, p.tokensNow);
    for (const [key, { dollars, endsAt }] of p.dollars) this.fallback.recordSpendAt(key, dollars, endsAt);
  }

  /** At most one warning in 10 s: a Redis that is down would otherwise log once per request. */
  private warn(err: unknown, msg: string): void {
    const t = Date.now();
    if (t - this.lastWarning < 10_000) return;
    this.lastWarning = t;
    this.log.warn({ err: (err as Error)?.message ?? String(err) }, msg);
  }
}
