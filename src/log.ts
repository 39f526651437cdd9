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
  return pino(base, pino.destination({ dest: opts.destination ?? 1, sync: false }));
}
