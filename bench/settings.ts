/** The benchmark's knobs, read once from the environment. */

export interface Settings {
  /** BENCH_SECONDS: measured seconds of every sample. */
  seconds: number;
  /** BENCH_REPEATS: samples per cell; the median is reported. */
  repeats: number;
  /** BENCH_WARMUP_SECONDS: the same load before every sample, not measured. */
  warmupSeconds: number;
  /** BENCH_ONLY: comma-separated cell ids or id prefixes (`http`, `http.chat`, `mcp.call`, `streams`, `idle`); empty runs all. */
  only: string[];
  /** BENCH_STREAMS: streams opened at once in the concurrency cell. */
  streams: number;
  /**
   * BENCH_STREAM_FRAME_MS: the mock's pause between stream frames in that cell, so that each stream lasts
   * (about 12 s at 50 ms) longer than the gateway takes to get all of them under way.
   */
  streamFrameMs: number;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got '${text}'`);
  return value;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    seconds: positiveNumber(env, 'BENCH_SECONDS', 3),
    repeats: Math.max(1, Math.round(positiveNumber(env, 'BENCH_REPEATS', 3))),
    warmupSeconds: positiveNumber(env, 'BENCH_WARMUP_SECONDS', 0.5),
    only: (env.BENCH_ONLY ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    streams: Math.max(1, Math.round(positiveNumber(env, 'BENCH_STREAMS', 1000))),
    streamFrameMs: positiveNumber(env, 'BENCH_STREAM_FRAME_MS', 50),
  };
}

/** Whether BENCH_ONLY selects a cell: an entry equal to its id or to a leading part of it (`http.chat`). */
export function isSelected(settings: Settings, cellId: string): boolean {
  return settings.only.length === 0 || settings.only.some((p) => cellId === p || cellId.startsWith(`${p}.`));
}
