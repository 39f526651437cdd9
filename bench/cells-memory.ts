/**
 * Memory cells, each on a fresh gateway process so that earlier load does not show in its numbers:
 * resident memory at idle, and the peak while many slow streams run at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { holdsTextDelta } from './checks.ts';
import { GATEWAY_PREFIX, LONG_MODEL, longAnswerTarget, type Api } from './cells-http.ts';
import { checkAnswer, newPool } from './http-load.ts';
import { errorReason, median } from './measure.ts';
import { memoryMb, RssSampler } from './proc.ts';
import { startGateway } from './processes.ts';

export interface IdleResult {
  samplesMb: number[];
  medianMb: number;
}

/** VmRSS of a new gateway one second after its startup line, once per repeat. */
export async function measureIdleRss(config: string, repeats: number): Promise<IdleResult> {
  const samplesMb: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const gateway = await startGateway(config);
    try {
      await sleep(Math.max(0, gateway.readyAt + 1000 - performance.now()));
      samplesMb.push(memoryMb(gateway.pid, 'VmRSS'));
    } finally {
      await gateway.stop();
    }
  }
  return { samplesMb, medianMb: median(samplesMb) };
}

/** Counts streams between their first text delta and their end: the most at once, the last start and the first end. */
class LiveStreams {
  private readonly startedAt = performance.now();
  now = 0;
  peak = 0;
  lastStartSeconds = NaN;
  firstEndSeconds = NaN;

  private elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  open(): void {
    this.now++;
    this.peak = Math.max(this.peak, this.now);
    this.lastStartSeconds = this.elapsed();
  }

  close(): void {
    this.now--;
    if (Number.isNaN(this.firstEndSeconds)) this.firstEndSeconds = this.elapsed();
  }
}

export interface StreamsRun {
  streams: number;
  completed: number;
  errors: number;
  errorReasons: Record<string, number>;
  /** The most streams mid-answer at the same moment: equal to `streams` when they all really overlapped. */
  peakLive: number;
  /** Seconds from the start until the last stream's first text delta, and until the first stream ended. */
  lastStartSeconds: number;
  firstEndSeconds: number;
  wallSeconds: number;
  /** The highest VmRSS sampled during the run, and the kernel's own high-water mark (VmHWM) after it. */
  peakSampledRssMb: number;
  vmHwmMb: number;
  rssSamples: number;
}

export interface StreamsResult {
  streams: number;
  frameMs: number;
  runs: StreamsRun[];
  medianVmHwmMb: number;
  medianPeakSampledRssMb: number;
  everyStreamCompleted: boolean;
  /** The lowest `peakLive` of the runs. */
  leastOverlap: number;
}

/** One streamed long answer, read as it comes (to see when it is under way), then checked whole. */
async function oneStream(pool: Pool, api: Api, frameMs: number, live: LiveStreams): Promise<void> {
  const target = longAnswerTarget(api, true, '', `${GATEWAY_PREFIX[api]}${LONG_MODEL}:${frameMs}`);
  const res = await pool.request({ path: target.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(target.body) });
  res.body.setEncoding('utf8');
  const pieces: string[] = [];
  let underWay = false;
  try {
    for await (const piece of res.body as AsyncIterable<string>) {
      pieces.push(piece);
      if (!underWay && holdsTextDelta(piece)) {
        underWay = true;
        live.open();
      }
    }
  } finally {
    if (underWay) live.close();
  }
  checkAnswer({ status: res.statusCode, body: pieces.join('') }, target.check);
}

function countReasons(failures: PromiseRejectedResult[]): Record<string, number> {
  const reasons: Record<string, number> = {};
  for (const f of failures) {
    const reason = errorReason(f.reason);
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return reasons;
}

/** `streams` streamed requests sent at once to a new gateway, half Chat and half Responses. */
async function streamsRun(config: string, streams: number, frameMs: number): Promise<StreamsRun> {
  const gateway = await startGateway(config);
  const pool = newPool(gateway.url, streams);
  try {
    const sampler = new RssSampler(gateway.pid);
    const started = performance.now();
    const live = new LiveStreams();
    const outcomes = await Promise.allSettled(Array.from({ length: streams }, (_, i) => oneStream(pool, i % 2 ? 'responses' : 'chat', frameMs, live)));
    const wallSeconds = (performance.now() - started) / 1000;
    const peakSampledRssMb = sampler.stop();
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    return {
      streams,
      completed: streams - failures.length,
      errors: failures.length,
      errorReasons: countReasons(failures),
      peakLive: live.peak,
      lastStartSeconds: live.lastStartSeconds,
      firstEndSeconds: live.firstEndSeconds,
      wallSeconds,
      peakSampledRssMb,
      vmHwmMb: memoryMb(gateway.pid, 'VmHWM'),
      rssSamples: sampler.samples,
    };
  } finally {
    await pool.close();
    await gateway.stop();
  }
}

export async function measureConcurrentStreams(config: string, streams: number, frameMs: number, repeats: number): Promise<StreamsResult> {
  const runs: StreamsRun[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await streamsRun(config, streams, frameMs));
  return {
    streams,
    frameMs,
    runs,
    medianVmHwmMb: median(runs.map((r) => r.vmHwmMb)),
    medianPeakSampledRssMb: median(runs.map((r) => r.peakSampledRssMb)),
    everyStreamCompleted: runs.every((r) => r.completed === streams),
    leastOverlap: Math.min(...runs.map((r) => r.peakLive)),
  };
}
