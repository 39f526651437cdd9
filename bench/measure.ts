/**
 * The measuring loop: a fixed number of workers each sending one call after another for a fixed time
 * (closed-loop load), every result checked, and the CPU time each process spent meanwhile.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusySeconds, processCpuSeconds } from './proc.ts';

/** One request: `send` resolves once the whole answer is in (its time is the latency), `check` then throws if it is wrong. */
export interface Call<T> {
  send(): Promise<T>;
  check(result: T): void;
}

/** A process whose CPU time is charged to the calls of a sample. */
export interface Watched {
  name: string;
  pid: number;
}

export interface Timing {
  seconds: number;
  warmupSeconds: number;
}

export interface Sample {
  /** Calls answered correctly. */
  ok: number;
  errors: number;
  /** Error messages (first 160 characters) and how often each occurred. */
  errorReasons: Record<string, number>;
  seconds: number;
  /** Correct answers per second. */
  rps: number;
  /** Latency to the last byte of correct answers, ms. */
  p50: number;
  p99: number;
  /** CPU ms per call, for this process (`bench`) and each watched process. */
  cpuMsPerCall: Record<string, number>;
  /** This process's CPU use, % of one core: near 100 means the load generator is the bottleneck. */
  benchCpuPercent: number;
  /** CPU used by processes that are not part of the benchmark, % of one core: other load on the machine. */
  otherCpuPercent: number;
}

/** How an error is told and counted: its message, cut short. */
export function errorReason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 160);
}

class Recorder {
  readonly latencies: number[] = [];
  readonly errorReasons: Record<string, number> = {};
  errors = 0;

  success(ms: number): void {
    this.latencies.push(ms);
  }

  failure(e: unknown): void {
    this.errors++;
    const reason = errorReason(e);
    this.errorReasons[reason] = (this.errorReasons[reason] ?? 0) + 1;
  }
}

async function runFor<T>(call: Call<T>, workers: number, seconds: number, recorder: Recorder): Promise<void> {
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    do {
      const started = performance.now();
      try {
        const result = await call.send();
        const ms = performance.now() - started;
        call.check(result);
        recorder.success(ms);
      } catch (e) {
        recorder.failure(e);
        // A target that refuses at once would otherwise turn this process into a busy loop.
        await sleep(1);
      }
    } while (performance.now() < end);
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The middle value; the mean of the two middle ones for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The highest of the values that are numbers (a process gone mid-sample leaves NaN); NaN if none is. */
export function highest(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? Math.max(...finite) : NaN;
}

export function mergeErrorReasons(samples: Sample[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const s of samples) for (const [reason, n] of Object.entries(s.errorReasons)) merged[reason] = (merged[reason] ?? 0) + n;
  return merged;
}

interface CpuSnapshot {
  bench: number;
  watched: number[];
  machine: number;
}

function cpuSnapshot(watched: Watched[]): CpuSnapshot {
  const own = process.cpuUsage();
  return { bench: (own.user + own.system) / 1e6, watched: watched.map((w) => processCpuSeconds(w.pid)), machine: machineBusySeconds() };
}

function summarize(recorder: Recorder, seconds: number, before: CpuSnapshot, after: CpuSnapshot, watched: Watched[]): Sample {
  const calls = recorder.latencies.length + recorder.errors;
  const benchCpu = after.bench - before.bench;
  const watchedCpu = watched.map((_, i) => after.watched[i]! - before.watched[i]!);
  const otherCpu = after.machine - before.machine - benchCpu - watchedCpu.reduce((a, b) => a + b, 0);
  const cpuMsPerCall: Record<string, number> = { bench: (benchCpu * 1000) / calls };
  for (const [i, w] of watched.entries()) cpuMsPerCall[w.name] = (watchedCpu[i]! * 1000) / calls;
  const sorted = recorder.latencies.sort((a, b) => a - b);
  return {
    ok: sorted.length,
    errors: recorder.errors,
    errorReasons: recorder.errorReasons,
    seconds,
    rps: sorted.length / seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    cpuMsPerCall,
    benchCpuPercent: (benchCpu / seconds) * 100,
    // Tick-granular accounting can dip a little below zero when nothing else runs.
    otherCpuPercent: Math.max(0, (otherCpu / seconds) * 100),
  };
}

/**
 * Warms up with the same load (opening every connection, giving the JIT its turn), then measures
 * `concurrency` workers for `timing.seconds`. Calls still in flight at the deadline are waited for and count.
 */
export async function measure<T>(call: Call<T>, concurrency: number, timing: Timing, watched: Watched[]): Promise<Sample> {
  if (timing.warmupSeconds > 0) await runFor(call, concurrency, timing.warmupSeconds, new Recorder());
  const recorder = new Recorder();
  const before = cpuSnapshot(watched);
  const started = performance.now();
  await runFor(call, concurrency, timing.seconds, recorder);
  const seconds = (performance.now() - started) / 1000;
  return summarize(recorder, seconds, before, cpuSnapshot(watched), watched);
}
