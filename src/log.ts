/** pino JSON logs, pretty on a TTY. Credentials are redacted wherever they could appear. */
import { pino, type Logger } from 'pino';

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: number } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY && opts.destination === undefined);
  const base = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    redact: {
      paths: ['*.authorization', '*.api_key', '*.apiKey', '*["x-api-key"]', '*.master_key', 'headers.*'],
      censor: '[redacted]',
    },
  };
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: opts.destination ?? 1 } } });
  // Lines are written in batches (at 4 KB, or every 200 ms), not one write per line: an access line per
  // request would otherwise cost a system call per request.
  return pino(base, pino.destination({ dest: opts.destination ?? 1, sync: false, minLength: 4096, periodicFlush: 200 }));
}
