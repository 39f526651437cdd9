/**
 * From each subject's window to the answer: allowed or not, and OpenAI's rate-limit headers ("Rate limits"
 * in OpenAI's API documentation: `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`,
 * `x-ratelimit-reset-requests` and the same for tokens; `retry-after` on a 429). Both limiters measure the
 * windows (in process, or in Redis's script) and share this.
 */
import type { Admission, LimitSubject, Refusal } from './types.ts';

/** One subject's window before this request is counted. The `...ClearMs` are 0 when under the limit. */
export interface SubjectUsage {
  requests: number;
  /** Until requests are below rpm again. */
  requestsClearMs: number;
  /** Until no request is left in the window. */
  requestsResetMs: number;
  tokens: number;
  tokensClearMs: number;
  tokensResetMs: number;
  /** Dollars spent in the budget's period (the larger of the store's figure and the limiter's count); 0 without a budget. */
  spent: number;
}

/**
 * The decision the limiter made (`allowed`, the same rule as the Redis script's: every subject under each
 * of its limits) with its headers. `fullMs`: how long a request counted now stays in the window.
 */
export function admissionOf(subjects: readonly LimitSubject[], usage: readonly SubjectUsage[], fullMs: number): Admission {
  let refusal: Refusal | undefined;
  let retryAfterMs = 0;
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[i]!;
    const u = usage[i]!;
    if (s.rpm !== undefined && u.requestsClearMs > 0 && u.requestsClearMs > retryAfterMs) {
      retryAfterMs = u.requestsClearMs;
      refusal = { subject: s, limit: 'requests', max: s.rpm, used: u.requests };
    }
    if (s.tpm !== undefined && u.tokensClearMs > 0 && u.tokensClearMs > retryAfterMs) {
      retryAfterMs = u.tokensClearMs;
      refusal = { subject: s, limit: 'tokens', max: s.tpm, used: u.tokens };
    }
  }
  // A budget refuses whatever the windows say, and waiting a minute does not help: no retry-after.
  const broke = subjects.findIndex((s, i) => s.budget !== undefined && usage[i]!.spent >= s.budget.max);
  if (broke >= 0) {
    const s = subjects[broke]!;
    refusal = { subject: s, limit: 'budget', max: s.budget!.max, used: usage[broke]!.spent };
  }
  const allowed = refusal === undefined;
  const headers: Record<string, string> = {};
  let req = -1;
  let tok = -1;
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[i]!;
    const u = usage[i]!;
    if (s.rpm !== undefined && (req < 0 || remainingRequests(s, u, allowed) < remainingRequests(subjects[req]!, usage[req]!, allowed))) req = i;
    if (s.tpm !== undefined && (tok < 0 || remainingTokens(s, u) < remainingTokens(subjects[tok]!, usage[tok]!))) tok = i;
  }
  if (req >= 0) {
    const s = subjects[req]!;
    const u = usage[req]!;
    headers['x-ratelimit-limit-requests'] = String(s.rpm);
    headers['x-ratelimit-remaining-requests'] = String(remainingRequests(s, u, allowed));
    headers['x-ratelimit-reset-requests'] = openaiDuration(allowed ? fullMs : u.requestsResetMs);
  }
  if (tok >= 0) {
    const s = subjects[tok]!;
    const u = usage[tok]!;
    headers['x-ratelimit-limit-tokens'] = String(s.tpm);
    headers['x-ratelimit-remaining-tokens'] = String(remainingTokens(s, u));
    headers['x-ratelimit-reset-tokens'] = openaiDuration(u.tokensResetMs);
  }
  if (allowed) {
    let budgetLeft: number | undefined;
    for (let i = 0; i < subjects.length; i++) {
      const budget = subjects[i]!.budget;
      if (budget) budgetLeft = Math.min(budgetLeft ?? Number.POSITIVE_INFINITY, budget.max - usage[i]!.spent);
    }
    return budgetLeft === undefined ? { allowed, headers } : { allowed, headers, budgetLeft };
  }
  if (broke >= 0) return { allowed, headers, refusal };
  headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  headers['retry-after-ms'] = String(retryAfterMs);
  return { allowed, retryAfterMs, headers, refusal };
}

/** Requests left once this one is counted (when it is). */
function remainingRequests(s: LimitSubject, u: SubjectUsage, allowed: boolean): number {
  return Math.max(0, s.rpm! - u.requests - (allowed ? 1 : 0));
}

function remainingTokens(s: LimitSubject, u: SubjectUsage): number {
  return Math.max(0, s.tpm! - u.tokens);
}

/** OpenAI's form of a reset time: `20ms`, `1s`, `6.5s`, `6m0s`. */
export function openaiDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round(ms - minutes * 60_000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** Only limited subjects are counted: one with neither rpm, tpm nor a budget costs nothing. */
export function limited(subjects: readonly LimitSubject[]): LimitSubject[] {
  return subjects.filter((s) => s.rpm !== undefined || s.tpm !== undefined || s.budget !== undefined);
}

/** Where a subject's spend in one budget period is counted (Redis key suffix, or the in-process map's key). */
export function spendKey(s: LimitSubject): string | undefined {
  return s.budget ? `${s.id}:${s.budget.period}` : undefined;
}

/** Buckets a window spans: windowMs / bucketMs, plus the current one (partly elapsed). */
export function windowSpan(windowMs: number, bucketMs: number): number {
  if (!(bucketMs > 0) || !(windowMs >= bucketMs) || windowMs % bucketMs !== 0)
    throw new Error(`the limits' window (${windowMs} ms) must be a whole number of buckets (${bucketMs} ms)`);
  return windowMs / bucketMs + 1;
}
