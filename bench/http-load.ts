/**
 * The HTTP load generator, the same for the direct path and the gateway: undici's Pool with one
 * keep-alive connection per worker, every response read to its last byte and checked.
 */
import { Pool } from 'undici';
import type { BodyCheck } from './checks.ts';
import { measure, type Call, type Sample, type Timing, type Watched } from './measure.ts';

export interface HttpTarget {
  url: string;
  body: object;
  check: BodyCheck;
  /** Headers beyond content-type (a provider's credentials, for a direct call in its own wire). */
  headers?: Record<string, string>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
/** A stuck answer fails its call instead of stalling the benchmark. */
const TIMEOUT_MS = 60_000;

export function newPool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
}

/** POSTs a JSON payload and reads the whole answer. */
export async function post(pool: Pool, path: string, payload: string, headers: Record<string, string> = JSON_HEADERS): Promise<HttpAnswer> {
  const res = await pool.request({ path, method: 'POST', headers, body: payload });
  return { status: res.statusCode, body: await res.body.text() };
}

export function checkAnswer(answer: HttpAnswer, check: BodyCheck): void {
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 140)}`);
  check(answer.body);
}

/** `connections` workers POSTing to one target for `timing.seconds`. */
export async function loadHttp(target: HttpTarget, connections: number, timing: Timing, watched: Watched[]): Promise<Sample> {
  const url = new URL(target.url);
  const pool = newPool(url.origin, connections);
  const payload = JSON.stringify(target.body);
  const headers = { ...JSON_HEADERS, ...target.headers };
  const path = url.pathname + url.search;
  const call: Call<HttpAnswer> = {
    send: () => post(pool, path, payload, headers),
    check: (answer) => checkAnswer(answer, target.check),
  };
  try {
    return await measure(call, connections, timing, watched);
  } finally {
    await pool.close();
  }
}
