/**
 * Rate limits and the replicas' invalidation bus, as the edges and the agent see them.
 *
 * A limit is LiteLLM's `rpm_limit` (client requests a minute), `tpm_limit` (every token of every model call
 * of a run, counted after the call) or `max_budget` (dollars a budget period) on a key or a team. The edge calls `admit` once per request for the key
 * and its team together and puts `headers` on the answer (OpenAI's `x-ratelimit-*`, "Rate limits" in OpenAI's
 * API documentation); the agent calls `recordTokens` after each model call.
 *
 * The window is a sliding one made of buckets (a minute of one-second buckets by default): a request or a
 * token counts for at least a whole window and at most one bucket more, so "at most rpm requests in any
 * minute" holds exactly, never approximately, and a refused request counts for nothing.
 */

/**
 * A budget within its period: refused once the spend reaches `max` (dollars). `spent` is the store's figure;
 * the limiter also counts what this period's requests cost since (`recordSpend`), because the store learns
 * of spend in batches and replicas read it at most once a second. The larger of the two counts.
 */
export interface Budget {
  max: number;
  spent: number;
  /** Names the period (its reset time, or `total`): spend counted for another period does not count. */
  period: string;
  /** When the period ends (ms since the epoch); absent: it does not. */
  endsAt?: number | undefined;
}

/** One thing limited: a key or a team. Without rpm, tpm and a budget it is not limited (nor counted). */
export interface LimitSubject {
  /** Unique across subjects: `key:<sha256>`, `team:<team_id>`. */
  id: string;
  /** Client requests a window. 0 refuses every request, as in LiteLLM. */
  rpm?: number | undefined;
  /** Tokens a window; a request is refused once the window's tokens reach it. */
  tpm?: number | undefined;
  budget?: Budget | undefined;
  /** How a refusal names the subject (`key sk-...abcd`, `team ci`); default: the part of `id` before `:`. */
  label?: string | undefined;
}

/** Which limit refused a request, and by how much (for the 429's message). */
export interface Refusal {
  subject: LimitSubject;
  limit: 'requests' | 'tokens' | 'budget';
  /** The subject's rpm, tpm or budget. */
  max: number;
  /** Requests or tokens counted in the window, or dollars spent in the budget's period. */
  used: number;
}

export interface Admission {
  allowed: boolean;
  /** Refused: how long until every limit that refused would admit the request again. */
  retryAfterMs?: number;
  /**
   * Every answer's headers: `x-ratelimit-{limit,remaining,reset}-requests` for the subject with the fewest
   * requests left (when a subject has rpm), the same `-tokens` for tpm; refused, `retry-after` (seconds) and
   * `retry-after-ms` too. `reset` is OpenAI's: the time until the limit is back to its initial state.
   */
  headers: Record<string, string>;
  /** Refused: the limit the message names (a budget first, else the rate limit that frees last). */
  refusal?: Refusal;
  /** Admitted with a budget: the dollars left before the tightest budget is spent (before this request). */
  budgetLeft?: number;
}

export interface Limiter {
  /**
   * Checks every subject's requests and tokens in the current window and, when all are within their
   * limits, counts one request for each, atomically (no other replica's request interleaves). A refused
   * request counts for nothing. `now` (ms since the epoch) is for tests; the Redis limiter otherwise uses
   * Redis's clock, so that replicas whose clocks differ still share one window.
   */
  admit(subjects: readonly LimitSubject[], now?: number): Promise<Admission>;
  /** Adds a model call's tokens to each subject with tpm. Never waits: written in batches, with the next admit or flush. */
  recordTokens(subjects: readonly LimitSubject[], tokens: number, now?: number): void;
  /** Adds a model call's cost (dollars) to each subject's budget period. Never waits, like recordTokens. */
  recordSpend(subjects: readonly LimitSubject[], dollars: number): void;
  /**
   * Sends what was recorded now (the edge calls it once an answer is out), and resolves once everything
   * sent is written (tests and shutdown wait for it).
   */
  flush(): Promise<void>;
}

/** The window: `windowMs` long, made of `bucketMs` buckets (it must divide windowMs). */
export interface WindowOptions {
  windowMs?: number;
  bucketMs?: number;
}

export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_BUCKET_MS = 1_000;

// ---- the bus ------------------------------------------------------------------------------------------

/**
 * What replicas tell each other. `keys`: a key (its sha256) or a team (`team:<id>`) changed or was deleted,
 * drop it from every cache. `tools`: an upstream MCP server's tool list changed (its name). `sessions`: a
 * client deleted an aggregated `/mcp` session (its id): no replica serves it again.
 */
export const TOPICS = { keys: 'keys', tools: 'tools', sessions: 'sessions' } as const;

export type BusHandler = (message: string) => void | Promise<void>;

export interface Bus {
  /** Reaches every replica's subscribers, this one's too. Never rejects: a lost message is logged. */
  publish(topic: string, message: string): Promise<void>;
  /** Resolves once subscribed (a message published after that reaches the handler); returns the unsubscribe. */
  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>>;
  /**
   * Called after the bus was cut off and is back: messages may have been lost meanwhile (Redis pub/sub
   * delivers at most once), so a cache should drop everything it holds.
   */
  onResync(handler: () => void): void;
}

/** Where the limits module reports what it cannot hand to a caller (pino's Logger fits). */
export interface LimitsLog {
  warn(obj: object, msg: string): void;
}

export const SILENT: LimitsLog = { warn() {} };
