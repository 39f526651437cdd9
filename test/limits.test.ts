/**
 * Rate limits and the replicas' bus: one list of behaviours run against the in-process limiter and against
 * the Redis at 127.0.0.1:6379 (keys and channels under a random prefix, deleted at the end), the clock
 * injected (no sleeps); then what only Redis does: two replicas sharing one count, Redis's own clock, a bus
 * across connections that resyncs after a cut, and a gateway still serving when Redis fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { openaiDuration } from '../src/limits/admission.ts';
import { MemoryLimiter } from '../src/limits/memory.ts';
import { RedisLimiter } from '../src/limits/redis.ts';
import { createLimits, type Limits, type LimitSubject, refusalError, redisUrlFromRouterSettings, TOPICS } from '../src/limits/index.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `toolgate-test-${randomBytes(6).toString('hex')}:`;
/** A bucket boundary: bucket c0 leaves the window at T0 + 61 s (a window of 60 one-second buckets, plus the current one). */
const T0 = 1_700_000_040_000;
const sec = (s: number) => T0 + s * 1000;

const uid = () => randomBytes(6).toString('hex');
const key = (rpm?: number, tpm?: number): LimitSubject => ({ id: `key:${uid()}`, rpm, tpm });
const team = (rpm?: number, tpm?: number): LimitSubject => ({ id: `team:${uid()}`, rpm, tpm });

/** Warnings the module logged. */
function recorder() {
  const lines: { obj: any; msg: string }[] = [];
  return { lines, log: { warn: (obj: object, msg: string) => lines.push({ obj, msg }) } };
}

/** Resolves with the next message the handler gets (no fixed sleeps). */
function nextMessage(): { handler: (m: string) => void; received: Promise<string> } {
  let resolve!: (m: string) => void;
  const received = new Promise<string>((r) => (resolve = r));
  return { handler: (m) => resolve(m), received };
}

/** The behaviours both limiters share. */
function behaviours(name: string, make: (log: { warn(obj: object, msg: string): void }) => Promise<Limits>) {
  describe(name, () => {
    let limits: Limits;
    const { lines, log } = recorder();
    before(async () => {
      limits = await make(log);
    });
    after(() => limits.close());

    test('rpm 4: four requests admitted with OpenAI headers, the fifth refused with retry-after and counting for nothing', async () => {
      const k = key(4);
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await limits.limiter.admit([k], sec(i)));
      assert.deepEqual(
        seen.map((a) => [a.allowed, a.headers['x-ratelimit-remaining-requests']]),
        [
          [true, '3'],
          [true, '2'],
          [true, '1'],
          [true, '0'],
        ],
      );
      // A request counted now leaves the window when its bucket does: 61 s after its bucket began.
      assert.deepEqual(seen[0]!.headers, {
        'x-ratelimit-limit-requests': '4',
        'x-ratelimit-remaining-requests': '3',
        'x-ratelimit-reset-requests': '1m1s',
      });
      assert.equal(seen[3]!.retryAfterMs, undefined);

      const fifth = await limits.limiter.admit([k], sec(10.5));
      assert.equal(fifth.allowed, false);
      // The first request's bucket leaves at T0 + 61 s; the last one's at T0 + 64 s.
      assert.equal(fifth.retryAfterMs, 50_500);
      assert.deepEqual(fifth.headers, {
        'x-ratelimit-limit-requests': '4',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '53.5s',
        'retry-after': '51',
        'retry-after-ms': '50500',
      });
      assert.deepEqual(fifth.refusal, { subject: k, limit: 'requests', max: 4, used: 4 });
      assert.equal((await limits.limiter.admit([k], sec(60.999))).allowed, false, 'still four in the window');

      // Neither refusal counted: once the first request has left, exactly one more fits.
      const later = await limits.limiter.admit([k], sec(61));
      assert.deepEqual([later.allowed, later.headers['x-ratelimit-remaining-requests']], [true, '0']);
      const again = await limits.limiter.admit([k], sec(61));
      assert.deepEqual([again.allowed, again.retryAfterMs], [false, 1000]);
    });

    test('the window slides: a request counts 60 to 61 s, so rpm 1 admits again at the boundary of its bucket and not a millisecond before', async () => {
      const k = key(1);
      assert.equal((await limits.limiter.admit([k], sec(0.5))).allowed, true);
      const before = await limits.limiter.admit([k], sec(60.999));
      assert.deepEqual([before.allowed, before.retryAfterMs, before.headers['retry-after']], [false, 1, '1']);
      assert.equal((await limits.limiter.admit([k], sec(61))).allowed, true);
    });

    test('key and team both counted: the tighter refuses, names itself in the headers, and the refused request costs the key nothing', async () => {
      const k = key(10);
      const t = team(2);
      const first = await limits.limiter.admit([k, t], sec(0));
      // The team has fewer requests left (1 of 2) than the key (9 of 10): its numbers are the headers.
      assert.deepEqual(first.headers, {
        'x-ratelimit-limit-requests': '2',
        'x-ratelimit-remaining-requests': '1',
        'x-ratelimit-reset-requests': '1m1s',
      });
      assert.equal((await limits.limiter.admit([k, t], sec(1))).allowed, true);
      const third = await limits.limiter.admit([k, t], sec(2));
      assert.equal(third.allowed, false);
      assert.deepEqual(third.refusal, { subject: t, limit: 'requests', max: 2, used: 2 });
      assert.equal(third.headers['x-ratelimit-limit-requests'], '2');
      // The key counted two requests, not three: alone it has 10 - 2 - 1 left after this one.
      const alone = await limits.limiter.admit([k], sec(3));
      assert.deepEqual([alone.allowed, alone.headers['x-ratelimit-remaining-requests']], [true, '7']);
    });

    test('tpm: recorded tokens past the limit refuse the next request until they leave the window; the headers count tokens', async () => {
      const k = key(undefined, 1000);
      const t = team(100);
      const fresh = await limits.limiter.admit([k, t], sec(0));
      assert.deepEqual(fresh.headers, {
        'x-ratelimit-limit-requests': '100',
        'x-ratelimit-remaining-requests': '99',
        'x-ratelimit-reset-requests': '1m1s',
        'x-ratelimit-limit-tokens': '1000',
        'x-ratelimit-remaining-tokens': '1000',
        'x-ratelimit-reset-tokens': '0ms',
      });
      limits.limiter.recordTokens([k, t], 600, sec(1)); // the team has no tpm: not counted for it
      const under = await limits.limiter.admit([k, t], sec(2));
      assert.equal(under.allowed, true);
      assert.deepEqual([under.headers['x-ratelimit-remaining-tokens'], under.headers['x-ratelimit-reset-tokens']], ['400', '1m0s']);
      limits.limiter.recordTokens([k], 300, sec(2));
      limits.limiter.recordTokens([k], 200, sec(2)); // one batch: 500 more, 1100 in all
      const over = await limits.limiter.admit([k, t], sec(3));
      assert.equal(over.allowed, false);
      // 1100 - 1000 + 1 = 101 tokens must leave: the 600 of bucket 1, at T0 + 62 s.
      assert.equal(over.retryAfterMs, 59_000);
      assert.deepEqual(over.refusal, { subject: k, limit: 'tokens', max: 1000, used: 1100 });
      assert.deepEqual(
        [over.headers['x-ratelimit-remaining-tokens'], over.headers['x-ratelimit-reset-tokens'], over.headers['retry-after']],
        ['0', '1m0s', '59'],
      );
      // The refused request did not count for the team either: 2 of its 100 used.
      assert.equal(over.headers['x-ratelimit-remaining-requests'], '98');
      assert.equal((await limits.limiter.admit([k], sec(61.999))).allowed, false);
      const moved = await limits.limiter.admit([k], sec(62));
      assert.deepEqual([moved.allowed, moved.headers['x-ratelimit-remaining-tokens']], [true, '500']);
    });

    test('a limit of 0 refuses every request (as in LiteLLM), for a whole window at a time; subjects without limits cost nothing', async () => {
      const zero = await limits.limiter.admit([key(0)], sec(0.25));
      assert.deepEqual([zero.allowed, zero.retryAfterMs, zero.headers['x-ratelimit-remaining-requests']], [false, 60_750, '0']);
      const free = await limits.limiter.admit([key(), team()], sec(0));
      assert.deepEqual(free, { allowed: true, headers: {} });
      limits.limiter.recordTokens([key()], 1_000_000, sec(0)); // no tpm: nothing to write
      await limits.limiter.flush();
    });

    test('refusalError: a refusal as OpenAI answers it (429, rate_limit_exceeded, its message and headers)', async () => {
      const k = { ...key(1), label: 'key sk-...abcd' };
      await limits.limiter.admit([k], sec(0));
      const refused = await limits.limiter.admit([k], sec(30));
      const err = refusalError(refused);
      assert.equal(err.status, 429);
      assert.deepEqual(err.toBody(), {
        error: {
          message: 'Rate limit reached for key sk-...abcd on requests per min (RPM): Limit 1, Used 1, Requested 1. Please try again in 31s.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
      assert.equal(err.headers['retry-after'], '31');
      assert.equal(err.headers['x-ratelimit-remaining-requests'], '0');
      const t = team(undefined, 10);
      limits.limiter.recordTokens([t], 25, sec(0));
      const byTokens = refusalError(await limits.limiter.admit([t], sec(0)));
      assert.equal(
        byTokens.message,
        'Rate limit reached for team on tokens per min (TPM): Limit 10, Used 25. Please try again in 61s.',
        'no label: the kind of subject, never its id',
      );
      assert.equal(byTokens.type, 'tokens');
    });

    test('budget: spend counted since the store last knew refuses the request after the one that crossed it, with insufficient_quota; another period starts at 0', async () => {
      const budget = { max: 0.0001, spent: 0, period: '2026-12-01T00:00:00.000Z', endsAt: Date.parse('2026-12-01T00:00:00.000Z') };
      const k: LimitSubject = { id: `key:${uid()}`, budget, label: 'key sk-...wxyz' };
      const t = team(100);
      const first = await limits.limiter.admit([k, t], sec(0));
      assert.deepEqual([first.allowed, first.budgetLeft], [true, 0.0001]);
      limits.limiter.recordSpend([k, t], 0.00008); // the team has no budget: not counted for it
      const second = await limits.limiter.admit([k, t], sec(1));
      assert.equal(second.allowed, true, 'under the budget');
      assert.ok(Math.abs(second.budgetLeft! - 0.00002) < 1e-12, `left: ${second.budgetLeft}`);
      limits.limiter.recordSpend([k], 0.00004);
      const refused = await limits.limiter.admit([k, t], sec(2));
      assert.equal(refused.allowed, false);
      assert.deepEqual([refused.refusal?.subject, refused.refusal?.limit, refused.refusal?.max], [k, 'budget', 0.0001]);
      assert.ok(Math.abs(refused.refusal!.used - 0.00012) < 1e-12, String(refused.refusal!.used));
      assert.equal(refused.headers['retry-after'], undefined, 'waiting a minute does not help');
      assert.equal(refused.headers['x-ratelimit-remaining-requests'], '98', 'two admitted; the refused request counted for nothing');
      const err = refusalError(refused);
      assert.deepEqual([err.status, err.type, err.code], [429, 'insufficient_quota', 'insufficient_quota']);
      assert.equal(
        err.message,
        'You exceeded your current quota: key sk-...wxyz has spent $0.00012 of its $0.0001 budget. It resets at 2026-12-01T00:00:00.000Z.',
      );
      // The store's figure counts when it is the larger (another replica's spend, written in its batch).
      const known = { ...k, budget: { ...budget, spent: 0.5, max: 1 } };
      assert.equal((await limits.limiter.admit([known], sec(3))).allowed, true);
      assert.equal((await limits.limiter.admit([{ ...known, budget: { ...known.budget, max: 0.5 } }], sec(3))).allowed, false);
      // The next period (after a reset) counts from the store's 0.
      const next = { ...k, budget: { ...budget, period: '2027-01-01T00:00:00.000Z', endsAt: Date.parse('2027-01-01T00:00:00.000Z') } };
      assert.equal((await limits.limiter.admit([next], sec(4))).allowed, true);
      await limits.limiter.flush();
    });

    test('bus: a published message reaches every subscriber of its topic; a failing handler is contained; unsubscribe stops delivery', async () => {
      const keys = nextMessage();
      const tools = nextMessage();
      const gone: string[] = [];
      const offKeys = await limits.bus.subscribe(TOPICS.keys, keys.handler);
      const offThrow = await limits.bus.subscribe(TOPICS.keys, () => {
        throw new Error('handler bug');
      });
      const offReject = await limits.bus.subscribe(TOPICS.keys, () => Promise.reject(new Error('async handler bug')));
      const offTools = await limits.bus.subscribe(TOPICS.tools, tools.handler);
      const offGone = await limits.bus.subscribe(TOPICS.tools, (m) => void gone.push(m));
      await limits.bus.publish(TOPICS.keys, 'abc123');
      assert.equal(await keys.received, 'abc123');
      await offGone();
      await limits.bus.publish(TOPICS.tools, 'github');
      assert.equal(await tools.received, 'github');
      assert.deepEqual(gone, [], 'handlers of one topic run together: the removed one would have run by now');
      for (const off of [offKeys, offThrow, offReject, offTools]) await off();
      assert.deepEqual(
        lines.map((l) => [l.msg, l.obj.err]),
        [
          ['bus handler for keys failed', 'handler bug'],
          ['bus handler for keys failed', 'async handler bug'],
        ],
      );
    });
  });
}

behaviours('in process', (log) => createLimits({ log }));

describe('on Redis', () => {
  let admin: Redis;
  before(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true });
    await admin.connect();
  });
  after(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      if (keys.length) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    assert.deepEqual(await admin.keys(`${PREFIX}*`), []);
    const ended = new Promise((resolve) => admin.once('end', resolve));
    await admin.quit();
    await ended;
  });

  behaviours('Redis', (log) => createLimits({ redisUrl: REDIS_URL, prefix: PREFIX, log }));

  describe('Redis only', () => {
    const replicas: Limits[] = [];
    const replica = async (opts: { clientName?: string; log?: any; recordFlushMs?: number } = {}) => {
      const l = await createLimits({ redisUrl: REDIS_URL, prefix: PREFIX, ...opts });
      replicas.push(l);
      return l;
    };
    after(() => Promise.all(replicas.map((r) => r.close())));

    test('two replicas share one count: rpm 4, the fifth is refused whichever replica receives it', async () => {
      const [a, b] = [await replica(), await replica()];
      const k = key(4);
      const t = team(100);
      const got = [];
      for (const [i, r] of [a, b, a, b, a, b].entries()) got.push((await r.limiter.admit([k, t], sec(i))).allowed);
      assert.deepEqual(got, [true, true, true, true, false, false]);
    });

    test('atomic across replicas: twenty concurrent requests on two connections, exactly four admitted', async () => {
      const [a, b] = [await replica(), await replica()];
      const k = key(4);
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).limiter.admit([k, team(50)], sec(0))));
      assert.equal(all.filter((x) => x.allowed).length, 4);
    });

    test('tokens one replica records refuse the next request on the other; keys live under the prefix and expire with their newest bucket', async () => {
      const [a, b] = [await replica(), await replica()];
      const k = key(undefined, 100);
      a.limiter.recordTokens([k], 150, sec(0));
      await a.limiter.flush();
      assert.equal((await b.limiter.admit([k], sec(0.5))).allowed, false);
      const ttl = await admin.pttl(`${PREFIX}rl:${k.id}`);
      assert.ok(ttl > 59_000 && ttl <= 61_000, `ttl ${ttl}`);
      const c0 = T0 / 1000;
      assert.deepEqual(await admin.hgetall(`${PREFIX}rl:${k.id}`), { R: '0', T: '150', o: String(c0 - 60), tn: String(c0), [`t${c0}`]: '150' });
    });

    test('spend one replica records refuses the next request on the other; the counter expires a day after its period', async () => {
      const [a, b] = [await replica(), await replica()];
      const endsAt = Date.now() + 3_600_000;
      const k: LimitSubject = { id: `key:${uid()}`, budget: { max: 0.0001, spent: 0, period: 'p1', endsAt } };
      assert.equal((await a.limiter.admit([k])).allowed, true);
      a.limiter.recordSpend([k], 0.00015);
      await a.limiter.flush();
      const refused = await b.limiter.admit([k]);
      assert.deepEqual([refused.allowed, refused.refusal?.limit, refused.refusal?.used], [false, 'budget', 0.00015]);
      const ttl = await admin.pttl(`${PREFIX}sp:${k.id}:p1`);
      assert.ok(Math.abs(ttl - (endsAt + 86_400_000 - Date.now())) < 5000, `ttl ${ttl}`);
    });

    test('recorded usage goes with the next admit (one command), or on its own at flush; the other replica then sees a crossing', async () => {
      const [a, b] = [await replica({ recordFlushMs: 600_000 }), await replica()];
      const k: LimitSubject = { id: `key:${uid()}`, tpm: 1_000_000, budget: { max: 0.05, spent: 0, period: 'p' } };
      assert.equal((await a.limiter.admit([k])).allowed, true);
      a.limiter.recordTokens([k], 100);
      a.limiter.recordSpend([k], 0.01);
      assert.equal(await admin.exists(`${PREFIX}sp:${k.id}:p`), 0, 'held: the timer is ten minutes away');
      const next = await a.limiter.admit([k]);
      assert.equal(next.headers['x-ratelimit-remaining-tokens'], String(1_000_000 - 100), 'written by the next admit, before it judged');
      assert.equal(Number(await admin.get(`${PREFIX}sp:${k.id}:p`)), 0.01);
      a.limiter.recordSpend([k], 0.04);
      await a.limiter.flush();
      assert.equal((await b.limiter.admit([k])).refusal?.limit, 'budget', 'the other replica sees the crossing');
    });

    test("without a given time, the script reads Redis's clock (one clock for every replica)", async () => {
      const a = await replica();
      const k = key(1);
      assert.equal((await a.limiter.admit([k])).allowed, true);
      const refused = await a.limiter.admit([k]);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs! > 59_000 && refused.retryAfterMs! <= 61_000, `retry after ${refused.retryAfterMs}`);
    });

    test("buckets that left the window are deleted from the subject's hash, its totals kept", async () => {
      const a = await replica();
      const k = key(1000, 1_000_000);
      for (let i = 0; i < 5; i++) await a.limiter.admit([k], sec(i));
      a.limiter.recordTokens([k], 10, sec(4));
      const before = await a.limiter.admit([k], sec(64));
      assert.deepEqual([before.headers['x-ratelimit-remaining-requests'], before.headers['x-ratelimit-remaining-tokens']], ['998', '999990']);
      const c0 = T0 / 1000;
      assert.deepEqual(await admin.hgetall(`${PREFIX}rl:${k.id}`), {
        R: '2',
        T: '10',
        o: String(c0 + 4),
        rn: String(c0 + 64),
        tn: String(c0 + 4),
        [`r${c0 + 4}`]: '1',
        [`t${c0 + 4}`]: '10',
        [`r${c0 + 64}`]: '1',
      });
      // Once everything has left, the hash goes; a refused request or a subject with only tpm writes nothing back.
      await a.limiter.admit([{ ...k, rpm: undefined }], sec(200));
      assert.equal(await admin.exists(`${PREFIX}rl:${k.id}`), 0);
    });

    test('bus across replicas: published on one, received by the other; after its connection is cut, onResync runs and messages flow again', async () => {
      const name = `toolgate-test-${uid()}`;
      const a = await replica();
      const b = await replica({ clientName: name });
      const first = nextMessage();
      const off = await b.bus.subscribe(TOPICS.keys, first.handler);
      await a.bus.publish(TOPICS.keys, 'deleted-key-hash');
      assert.equal(await first.received, 'deleted-key-hash');
      await off();

      let resynced!: () => void;
      const resync = new Promise<void>((r) => (resynced = r));
      b.bus.onResync(resynced);
      const second = nextMessage();
      await b.bus.subscribe(TOPICS.tools, second.handler);
      const clients = (await admin.client('LIST')) as string;
      const id = /^id=(\d+) .*? name=(\S*)/gm;
      const bus = [...clients.matchAll(id)].find((m) => m[2] === `${name}-bus`);
      assert.ok(bus, 'the bus connection is named in CLIENT LIST');
      await admin.client('KILL', 'ID', bus[1]!);
      await resync;
      await a.bus.publish(TOPICS.tools, 'github');
      assert.equal(await second.received, 'github', 'subscribed again after the reconnection');
    });

    test('Redis failing: this replica limits on its own at once (no wait, no refusal for Redis), the failure logged once in 10 s', async () => {
      const { lines, log } = recorder();
      const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
      const limiter = new RedisLimiter(down, { prefix: PREFIX, log });
      const k = key(1);
      const first = await limiter.admit([k], sec(0));
      assert.deepEqual([first.allowed, first.headers['x-ratelimit-remaining-requests']], [true, '0']);
      assert.deepEqual([(await limiter.admit([k], sec(1))).retryAfterMs], [60_000]);
      const t = key(undefined, 10);
      limiter.recordTokens([t], 50, sec(0));
      await limiter.flush();
      const byTokens = await limiter.admit([t], sec(2));
      assert.deepEqual([byTokens.allowed, byTokens.refusal?.used], [false, 50], 'tokens Redis did not take are counted here');
      assert.deepEqual(
        lines.map((l) => l.msg),
        ['rate limits checked in this process only: Redis failed'],
      );
      down.disconnect();
    });

    test('a Redis that cannot be reached at start is an error naming it (password hidden)', async () => {
      await assert.rejects(createLimits({ redisUrl: 'redis://:secret@127.0.0.1:1', prefix: PREFIX }), (e: Error) => {
        assert.match(e.message, /^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: /);
        return true;
      });
    });
  });
});

test('in process: idle subjects are dropped when others come, and at most maxSubjects are held', async () => {
  const limiter = new MemoryLimiter({ maxSubjects: 3 });
  for (let i = 0; i < 3; i++) await limiter.admit([key(5)], sec(0));
  assert.equal(limiter.size, 3);
  await limiter.admit([key(5)], sec(30));
  assert.equal(limiter.size, 3, 'the least recently used went first, though not idle');
  await limiter.admit([key(5)], sec(91));
  assert.equal(limiter.size, 1, 'windows with nothing left in them were dropped');
});

test('window options: a 10 s window of 100 ms buckets', async () => {
  const limiter = new MemoryLimiter({ windowMs: 10_000, bucketMs: 100 });
  const k = key(1);
  await limiter.admit([k], T0);
  assert.equal((await limiter.admit([k], T0 + 10_099)).retryAfterMs, 1);
  assert.equal((await limiter.admit([k], T0 + 10_100)).allowed, true);
  assert.throws(() => new MemoryLimiter({ windowMs: 1000, bucketMs: 300 }), /whole number of buckets/);
});

test("LiteLLM's router_settings.redis_host / redis_port / redis_password as a URL", () => {
  assert.equal(redisUrlFromRouterSettings({}), undefined);
  assert.equal(redisUrlFromRouterSettings({ redis_host: 'cache.internal' }), 'redis://cache.internal:6379');
  assert.equal(
    redisUrlFromRouterSettings({ redis_host: 'cache.internal', redis_port: 6380, redis_password: 'p@ss/w:rd' }),
    'redis://:p%40ss%2Fw%3Ard@cache.internal:6380',
  );
  assert.equal(redisUrlFromRouterSettings({ redis_host: '::1', redis_port: 6379 }), 'redis://[::1]:6379');
  assert.equal(redisUrlFromRouterSettings({ redis_host: 'rediss://cache:6380' }), 'rediss://cache:6380');
});

test("OpenAI's durations", () => {
  assert.deepEqual([0, 20, 999, 1000, 6500, 60_000, 61_000, 360_000, 90_250].map(openaiDuration), [
    '0ms',
    '20ms',
    '999ms',
    '1s',
    '6.5s',
    '1m0s',
    '1m1s',
    '6m0s',
    '1m30.25s',
  ]);
});

test('every Redis connection is closed: no socket is left to keep the process alive', async () => {
  // Runs after the suites above closed their limits (after hooks) and the cleanup connection quit.
  // (The test runner's own stdio pipes are PipeWrap: only TCP sockets are Redis's.)
  const sockets = process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP'));
  assert.deepEqual(sockets, []);
});
