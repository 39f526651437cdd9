/** The benchmark's output: the tables, the acceptance targets, and the JSON file. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdleResult, StreamsResult } from './cells-memory.ts';
import type { ToolRoundResult, ToolsListResult } from './cells-mcp.ts';
import type { SearchInputResult, SearchQueryResult } from './cells-tool-search.ts';
import { highest, type Sample } from './measure.ts';
import type { PairedResult } from './pairs.ts';
import type { Settings } from './settings.ts';

export interface BenchResults {
  startedAt: string;
  node: string;
  cpus: number;
  /** The gateway's command line and whether it ran compiled or type-stripped code. */
  gatewayLaunch: string;
  settings: Settings;
  longAnswer: PairedResult[];
  /** One row per provider wire format beyond OpenAI's. */
  wires: PairedResult[];
  mcpCall?: PairedResult;
  /** tools/call through /mcp by a 2026-07-28 client. */
  mcpCallModern?: PairedResult;
  /** A virtual key against the master key (as "direct"). */
  keys?: PairedResult;
  /** µs the metrics cost a request. */
  metrics?: { microsPerRequest: number; runs: number[] };
  searchInput?: SearchInputResult;
  searchQuery?: SearchQueryResult;
  toolRound?: ToolRoundResult;
  toolsList?: ToolsListResult;
  streams?: StreamsResult;
  idle?: IdleResult;
  targets: TargetResult[];
  totalSeconds: number;
}

export type TargetStatus = 'PASS' | 'FAIL' | 'INVALID' | 'NOT RUN';

export interface TargetResult {
  target: string;
  status: TargetStatus;
  measured: string;
}

const fixed = (n: number, width: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-').padStart(width);
const signed = (n: number, width: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(2)}` : '-').padStart(width);

export const PAIR_HEADER = 'conn |  direct rps   p50ms   p99ms |  gateway rps   p50ms   p99ms |  ratio   +p50ms   +p99ms | gw cpu ms/req  gen% other% | errors';

export function pairTable(title: string, results: PairedResult[]): string[] {
  const labelWidth = Math.max(title.length, ...results.map((r) => r.label.length));
  const lines = [`${title.padEnd(labelWidth)} ${PAIR_HEADER}`];
  for (const r of results) {
    const s = r.summary;
    lines.push(
      `${r.label.padEnd(labelWidth)} ${String(r.connections).padStart(4)} | ${fixed(s.directRps, 11, 1)} ${fixed(s.directP50, 7)} ${fixed(s.directP99, 7)} | ` +
        `${fixed(s.gatewayRps, 12, 1)} ${fixed(s.gatewayP50, 7)} ${fixed(s.gatewayP99, 7)} | ${fixed(s.rpsRatio, 6)} ${signed(s.addedP50, 8)} ${signed(s.addedP99, 8)} | ` +
        `${fixed(s.gatewayCpuMsPerCall, 13, 3)} ${fixed(s.benchCpuPercent, 4, 0)}% ${fixed(s.otherCpuPercent, 5, 0)}% | ${String(s.errors).padStart(6)}`,
    );
  }
  return lines;
}

/** One line per distinct error of each cell that had any. */
export function errorLines(results: { label: string; connections?: number; reasons: Record<string, number> }[]): string[] {
  const lines: string[] = [];
  for (const r of results)
    for (const [reason, n] of Object.entries(r.reasons)) lines.push(`  ! ${r.label}${r.connections ? ` @${r.connections}` : ''}: ${n}x ${reason}`);
  return lines;
}

export function toolRoundLine(r: ToolRoundResult): string {
  const errors = r.modelCall.errors + r.toolCall.errors + r.round.errors;
  return (
    `MCP tool round (1 conn): direct parts 2 x model p50 ${r.modelCall.p50.toFixed(2)} + tools/call p50 ${r.toolCall.p50.toFixed(2)} = ${r.partsP50.toFixed(2)} ms; ` +
    `gateway round p50 ${r.round.p50.toFixed(2)} p99 ${r.round.p99.toFixed(2)} ms, ${r.round.rps.toFixed(1)}/s; added p50 ${signed(r.addedP50, 0)} ms; errors ${errors}`
  );
}

export function toolsListLine(r: ToolsListResult): string {
  return (
    `tools/list on /mcp, ${r.upstreams} upstreams (${r.tools} tools, all pages): cold ${r.coldMs.map((ms) => ms.toFixed(1)).join(' / ')} ms (one per new gateway); ` +
    `cached p50 ${r.cached.p50.toFixed(2)} p99 ${r.cached.p99.toFixed(2)} ms, ${r.cached.rps.toFixed(1)}/s; errors ${r.cached.errors}`
  );
}

export function streamsLines(r: StreamsResult): string[] {
  const runs = r.runs.map(
    (run) =>
      `  run: ${run.completed}/${run.streams} completed, ${run.errors} errors, ${run.wallSeconds.toFixed(1)} s; peak live ${run.peakLive} ` +
      `(last started ${run.lastStartSeconds.toFixed(1)} s, first ended ${run.firstEndSeconds.toFixed(1)} s); ` +
      `peak VmRSS ${run.peakSampledRssMb.toFixed(1)} MB (${run.rssSamples} samples), VmHWM ${run.vmHwmMb.toFixed(1)} MB`,
  );
  return [
    `${r.streams} concurrent streams (half chat, half responses; long answer, ${r.frameMs} ms between frames), fresh gateway per run: ` +
      `median VmHWM ${r.medianVmHwmMb.toFixed(1)} MB, median peak sampled VmRSS ${r.medianPeakSampledRssMb.toFixed(1)} MB`,
    ...runs,
  ];
}

export function idleLine(r: IdleResult): string {
  return `idle RSS (fresh gateway, VmRSS 1 s after its startup line): median ${r.medianMb.toFixed(1)} MB (${r.samplesMb.map((mb) => mb.toFixed(1)).join(' / ')})`;
}

// ---- acceptance targets --------------------------------------------------------------------------

function judge(valid: boolean, holds: boolean): TargetStatus {
  return !valid ? 'INVALID' : holds ? 'PASS' : 'FAIL';
}

function pairTarget(results: PairedResult[], id: string, target: string, metric: 'rpsRatio' | 'addedP50', limit: number): TargetResult {
  const cell = results.find((r) => r.id === id);
  if (!cell) return { target, status: 'NOT RUN', measured: '' };
  const value = cell.summary[metric];
  const holds = metric === 'rpsRatio' ? value >= limit : value <= limit;
  const measured = metric === 'rpsRatio' ? `${value.toFixed(3)}x direct` : `${signed(value, 0)} ms`;
  return {
    target,
    status: judge(cell.summary.errors === 0 && Number.isFinite(value), holds),
    measured: `${measured}${cell.summary.errors ? ` (${cell.summary.errors} errors)` : ''}`,
  };
}

/**
 * Failed streams or too much memory fail it. Streams that did not all run at once make it invalid
 * otherwise: the memory measured is then that of fewer concurrent streams.
 */
function streamsStatus(r: StreamsResult): TargetStatus {
  if (!r.everyStreamCompleted || !(r.medianVmHwmMb <= 250)) return 'FAIL';
  return r.streams >= 1000 && r.leastOverlap === r.streams ? 'PASS' : 'INVALID';
}

function streamsTarget(r: StreamsResult | undefined): TargetResult {
  const target = '1,000 concurrent streams all complete, peak RSS <= 250 MB';
  if (!r) return { target, status: 'NOT RUN', measured: '' };
  const overlapped = r.leastOverlap === r.streams;
  const measured =
    `${r.runs.map((run) => `${run.completed}/${run.streams}`).join(', ')} completed; peak RSS (VmHWM, median) ${r.medianVmHwmMb.toFixed(1)} MB; ` +
    `${overlapped ? 'all' : `at most ${r.leastOverlap} of ${r.streams}`} live at once${overlapped ? '' : ' (not all overlapped: raise BENCH_STREAM_FRAME_MS)'}`;
  return { target, status: streamsStatus(r), measured };
}

export function evaluateTargets(results: BenchResults): TargetResult[] {
  const cells = results.longAnswer;
  const targets: TargetResult[] = [];
  for (const api of ['chat', 'responses'])
    targets.push(
      pairTarget(cells, `http.${api}.nonstream.c32`, `${api} non-stream @32: rps >= 0.15x direct`, 'rpsRatio', 0.15),
      pairTarget(cells, `http.${api}.stream.c32`, `${api} stream @32: rps >= 0.30x direct`, 'rpsRatio', 0.3),
      pairTarget(cells, `http.${api}.nonstream.c1`, `${api} non-stream @1: added p50 <= 0.4 ms`, 'addedP50', 0.4),
      pairTarget(cells, `http.${api}.stream.c1`, `${api} stream @1: added p50 <= 1.0 ms`, 'addedP50', 1.0),
    );
  targets.push(pairTarget(results.mcpCall ? [results.mcpCall] : [], 'mcp.call', 'tools/call through /mcp: added p50 <= 1.0 ms', 'addedP50', 1.0));
  targets.push(
    pairTarget(
      results.keys ? [results.keys] : [],
      'keys.responses.nonstream.c1',
      'virtual key (auth + Redis limits + spend) @1: added p50 <= 0.2 ms',
      'addedP50',
      0.2,
    ),
  );
  const cost = results.metrics?.microsPerRequest;
  targets.push({
    target: 'metrics recorded per request <= 20 us',
    status: cost === undefined ? 'NOT RUN' : judge(Number.isFinite(cost), cost <= 20),
    measured: cost === undefined ? '' : `${cost.toFixed(2)} us`,
  });
  const query = results.searchQuery?.p50Micros;
  targets.push({
    target: 'tool search over 1,000 tools: p50 <= 1 ms',
    status: query === undefined ? 'NOT RUN' : judge(Number.isFinite(query), query <= 1000),
    measured: query === undefined ? '' : `${(query / 1000).toFixed(3)} ms`,
  });
  targets.push(streamsTarget(results.streams));
  const idle = results.idle;
  targets.push(
    idle
      ? { target: 'idle RSS <= 90 MB', status: judge(Number.isFinite(idle.medianMb), idle.medianMb <= 90), measured: `${idle.medianMb.toFixed(1)} MB` }
      : { target: 'idle RSS <= 90 MB', status: 'NOT RUN', measured: '' },
  );
  return targets;
}

export function targetLines(targets: TargetResult[]): string[] {
  const width = Math.max(...targets.map((t) => t.target.length));
  return targets.map((t) => `  ${t.status.padEnd(7)} ${t.target.padEnd(width)}  ${t.measured}`);
}

/** Highest load-generator CPU and foreign CPU seen in any sample: whether to trust the run. */
export function trustLines(samples: Sample[]): string[] {
  if (samples.length === 0) return [];
  const bench = highest(samples.map((s) => s.benchCpuPercent));
  const other = highest(samples.map((s) => s.otherCpuPercent));
  const lines = [
    `load generator: at most ${bench.toFixed(0)}% of a core in any sample; other processes on the machine: at most ${other.toFixed(0)}% of a core`,
  ];
  if (bench > 90) lines.push('  ! the load generator was near a full core: those samples measure it, not the gateway');
  if (other > 25) lines.push('  ! other load on the machine during the run: the numbers are disturbed; run again on a quiet machine');
  return lines;
}

export function writeResultsFile(results: BenchResults): string {
  const path = join(tmpdir(), `toolgate-bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
