/**
 * Rate limits and the replicas' bus, on Redis when the config names one (`general_settings.redis_url`, or
 * LiteLLM's `router_settings.redis_host` / `redis_port` / `redis_password`), else in this process. ioredis is
 * loaded only when there is a Redis. Two connections: one for commands (the limiter's scripts, the bus's
 * PUBLISH), one in subscriber mode for the bus.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { ApiError } from '../protocol/errors.ts';
import { MemoryBus, RedisBus } from './bus.ts';
import { MemoryLimiter } from './memory.ts';
import { RedisLimiter } from './redis.ts';
import { type Admission, type Bus, type Limiter, type LimitsLog, SILENT, type WindowOptions } from './types.ts';

export type { Admission, Budget, Bus, BusHandler, Limiter, LimitSubject, Refusal } from './types.ts';
export { TOPICS } from './types.ts';

export interface LimitsOptions extends WindowOptions {
  /** `redis://` or `rediss://`; absent: everything in process. */
  redisUrl?: string | undefined;
  /** Before every Redis key and channel, so deployments (and test runs) can share a Redis. Default `toolgate:`. */
  prefix?: string;
  log?: LimitsLog;
  /** A Redis command taking longer fails (the request is then limited in process). Default 500 ms. */
  commandTimeoutMs?: number;
  /** In process: subjects held at most. */
  maxSubjects?: number;
  /** The connections' names in Redis's CLIENT LIST: `<clientName>` and `<clientName>-bus`. Default `toolgate`. */
  clientName?: string;
  /** Recorded usage far from any limit is sent at the latest this long after it was recorded (default 250 ms). */
  recordFlushMs?: number;
}

export interface Limits {
  limiter: Limiter;
  bus: Bus;
  /** Writes recorded tokens and closes the Redis connections. */
  close(): Promise<void>;
}

/** Connects to Redis first when there is one: a Redis the gateway cannot reach at start is a configuration error. */
export async function createLimits(opts: LimitsOptions = {}): Promise<Limits> {
  const log = opts.log ?? SILENT;
  const prefix = opts.prefix ?? 'toolgate:';
  if (!opts.redisUrl) {
    const limiter = new MemoryLimiter(opts);
    return { limiter, bus: new MemoryBus(log), close: () => limiter.flush() };
  }
  const { Redis } = await import('ioredis');
  const url = opts.redisUrl;
  const base: RedisOptions = { lazyConnect: true };
  // A request must not wait for Redis to come back: while it is away, commands fail at once (limits stay in process).
  const commands = new Redis(url, {
    ...base,
    connectionName: opts.clientName ?? 'toolgate',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 500,
  });
  const subscriber = new Redis(url, { ...base, connectionName: `${opts.clientName ?? 'toolgate'}-bus` });
  const conns = [commands, subscriber];
  let lastError = 0;
  for (const c of conns)
    c.on('error', (err: Error) => {
      // ioredis reports every failed reconnection: one line in 10 s says enough.
      if (Date.now() - lastError < 10_000) return;
      lastError = Date.now();
      log.warn({ err: err.message }, 'Redis connection failed; reconnecting');
    });
  try {
    await Promise.all(conns.map((c) => c.connect()));
  } catch (err) {
    for (const c of conns) c.disconnect();
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  const limiter = new RedisLimiter(commands, { ...opts, prefix, log });
  const bus = new RedisBus(commands, subscriber, { prefix, log });
  let closed: Promise<void> | undefined;
  return {
    limiter,
    bus,
    close: () => {
      closed ??= limiter.flush().then(() => Promise.all(conns.map(quit)).then(() => {}));
      return closed;
    },
  };
}

/** Resolves once the socket is closed (QUIT's answer comes before that), so nothing keeps the process alive. */
async function quit(c: Redis): Promise<void> {
  if (c.status === 'end') return;
  const ended = new Promise((resolve) => c.once('end', resolve));
  try {
    await c.quit();
  } catch {
    c.disconnect();
  }
  await ended;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/**
 * LiteLLM's `router_settings.redis_host` / `redis_port` / `redis_password` as a `redis://` URL (undefined
 * without a host). `general_settings.redis_url` wins over them.
 */
export function redisUrlFromRouterSettings(settings: {
  redis_host?: string | undefined;
  redis_port?: number | undefined;
  redis_password?: string | undefined;
}): string | undefined {
  const host = settings.redis_host?.trim();
  if (!host) return undefined;
  if (/^rediss?:\/\//.test(host)) return host;
  const url = new URL('redis://localhost');
  url.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  url.port = String(settings.redis_port ?? 6379);
  if (settings.redis_password) url.password = settings.redis_password;
  return url.toString();
}

/**
 * A refused admission as OpenAI answers it: 429 with OpenAI's message and the admission's headers. Past a
 * rate limit, `code: rate_limit_exceeded`, `type` `requests` or `tokens`, with `retry-after` and the
 * `x-ratelimit-*`; past a budget, `insufficient_quota` (OpenAI's answer to an account out of credit).
 */
export function refusalError(admission: Admission): ApiError {
  const r = admission.refusal;
  const label = r ? (r.subject.label ?? kindOf(r.subject.id)) : 'this key';
  if (r?.limit === 'budget') {
    const ends = r.subject.budget?.endsAt;
    const reset = ends !== undefined ? ` It resets at ${new Date(ends).toISOString()}.` : '';
    return new ApiError(429, `You exceeded your current quota: ${label} has spent $${round(r.used)} of its $${round(r.max)} budget.${reset}`, {
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      headers: admission.headers,
    });
  }
  const seconds = Math.ceil((admission.retryAfterMs ?? 0) / 1000);
  const what = r?.limit === 'tokens' ? 'tokens per min (TPM)' : 'requests per min (RPM)';
  const usage = r ? ` Limit ${r.max}, Used ${r.used}${r.limit === 'requests' ? ', Requested 1' : ''}.` : '';
  return new ApiError(429, `Rate limit reached for ${label} on ${what}:${usage} Please try again in ${seconds}s.`, {
    type: r?.limit ?? 'requests',
    code: 'rate_limit_exceeded',
    headers: admission.headers,
  });
}

/** Dollars as people read them: up to six significant digits, no float noise. */
function round(dollars: number): string {
  return String(Number(dollars.toPrecision(6)));
}

/** `key` of `key:<sha256>`: a refusal does not show the key's hash. */
function kindOf(id: string): string {
  const colon = id.indexOf(':');
  return colon > 0 ? id.slice(0, colon) : id;
}
