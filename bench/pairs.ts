/**
 * Cells measured as a pair: the same calls made directly (client -> mock or upstream) and through
 * the gateway, back to back. Repeats run in rounds over all cells, so that a passing disturbance
 * (another process busy for a few seconds) spoils one repeat of several cells rather than every
 * repeat of one, and the median drops it.
 */
import { highest, median, mergeErrorReasons, type Sample } from './measure.ts';

export interface PairedCell {
  id: string;
  label: string;
  connections: number;
  measureDirect(): Promise<Sample>;
  measureGateway(): Promise<Sample>;
}

export interface PairSamples {
  direct: Sample;
  gateway: Sample;
}

/** Medians over the repeats; the ratio and the added latencies are medians of each repeat's own pair. */
export interface PairSummary {
  directRps: number;
  directP50: number;
  directP99: number;
  gatewayRps: number;
  gatewayP50: number;
  gatewayP99: number;
  rpsRatio: number;
  addedP50: number;
  addedP99: number;
  /** Failed calls over all repeats, both paths. */
  errors: number;
  errorReasons: Record<string, number>;
  gatewayCpuMsPerCall: number;
  /** Highest over the repeats: the load generator's CPU use and other load on the machine, % of one core. */
  benchCpuPercent: number;
  otherCpuPercent: number;
}

export interface PairedResult {
  id: string;
  label: string;
  connections: number;
  samples: PairSamples[];
  summary: PairSummary;
}

export function summarizePairs(pairs: PairSamples[]): PairSummary {
  const of = (pick: (p: PairSamples) => number) => median(pairs.map(pick));
  const all = pairs.flatMap((p) => [p.direct, p.gateway]);
  return {
    directRps: of((p) => p.direct.rps),
    directP50: of((p) => p.direct.p50),
    directP99: of((p) => p.direct.p99),
    gatewayRps: of((p) => p.gateway.rps),
    gatewayP50: of((p) => p.gateway.p50),
    gatewayP99: of((p) => p.gateway.p99),
    rpsRatio: of((p) => p.gateway.rps / p.direct.rps),
    addedP50: of((p) => p.gateway.p50 - p.direct.p50),
    addedP99: of((p) => p.gateway.p99 - p.direct.p99),
    errors: all.reduce((n, s) => n + s.errors, 0),
    errorReasons: mergeErrorReasons(all),
    gatewayCpuMsPerCall: of((p) => p.gateway.cpuMsPerCall.gateway ?? NaN),
    benchCpuPercent: highest(all.map((s) => s.benchCpuPercent)),
    otherCpuPercent: highest(all.map((s) => s.otherCpuPercent)),
  };
}

export interface RoundHooks {
  /** After every sample; throws to stop the run (a process under test is gone). */
  afterSample(): void;
  afterRound(round: number): void;
}

/** Runs every cell once per round, `repeats` rounds. */
export async function runPairedCells(cells: PairedCell[], repeats: number, hooks: RoundHooks): Promise<PairedResult[]> {
  const samples = cells.map((): PairSamples[] => []);
  for (let round = 1; round <= repeats; round++) {
    for (const [i, cell] of cells.entries()) {
      const direct = await cell.measureDirect();
      hooks.afterSample();
      const gateway = await cell.measureGateway();
      hooks.afterSample();
      samples[i]!.push({ direct, gateway });
    }
    hooks.afterRound(round);
  }
  return cells.map((cell, i) => ({
    id: cell.id,
    label: cell.label,
    connections: cell.connections,
    samples: samples[i]!,
    summary: summarizePairs(samples[i]!),
  }));
}
