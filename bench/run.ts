/**
 * `npm run bench`: the gateway against the direct path in the same run, as ratios and added latency,
 * plus its memory at idle and under 1,000 concurrent streams. The mock provider (bench/model-server.ts),
 * the fixture MCP server and each gateway run in their own processes (the gateway as a user runs it:
 * `node bin/toolgate.js serve --config FILE` with the flags of its `#!` line, default store, in a
 * temporary working directory); this process only drives load and measures. Every answer is read to
 * its end and checked; failures are counted and shown, and a target with any is INVALID. Results are
 * printed and written as JSON to the OS temp directory.
 *
 *   BENCH_SECONDS=3 BENCH_REPEATS=3 BENCH_ONLY=http.chat,mcp,streams,idle npm run bench
 *
 * Cell ids for BENCH_ONLY (an entry selects every id it begins): http.{chat,responses}.{nonstream,stream}.c{1,32},
 * wire.{gemini,bedrock}.stream.c1, keys.responses.nonstream.c1, metrics.record, toolsearch.{input,query}, mcp.call, mcp.call.2026, mcp.round, mcp.list, streams, idle. Other knobs: BENCH_WARMUP_SECONDS, BENCH_STREAMS, BENCH_STREAM_FRAME_MS, BENCH_CPU_PROF (a directory: the gateways write CPU profiles there).
 */
import { availableParallelism } from 'node:os';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import { wireCells } from './cells-wires.ts';
import { CONNECTION_LEVELS, GATEWAY_PREFIX, LONG_MODEL, longAnswerCellId, longAnswerCells, longAnswerTarget, type Endpoints } from './cells-http.ts';
import { connectMcp, connectModernMcp, measureToolRound, measureToolsList, toolsCallCell } from './cells-mcp.ts';
import { KEYS_CELL, keysCell, startKeysGateway } from './cells-keys.ts';
import { measureMetricsCost, METRICS_CELL } from './cells-metrics.ts';
import { measureSearchInput, measureSearchQuery, SEARCH_INPUT_CELL, SEARCH_QUERY_CELL } from './cells-tool-search.ts';
import { measureConcurrentStreams, measureIdleRss } from './cells-memory.ts';
import { loadHttp } from './http-load.ts';
import { mergeErrorReasons, type Sample, type Timing, type Watched } from './measure.ts';
import { runPairedCells, type PairedResult } from './pairs.ts';
import { assertRunning, gatewayConfig, gatewayLaunch, startFixture, startGateway, type Service } from './processes.ts';
import {
  errorLines,
  evaluateTargets,
  idleLine,
  pairTable,
  streamsLines,
  targetLines,
  toolRoundLine,
  toolsListLine,
  trustLines,
  writeResultsFile,
  type BenchResults,
} from './report.ts';
import { isSelected, readSettings, type Settings } from './settings.ts';

const print = (...lines: string[]) => {
  for (const line of lines) console.log(line);
};

/** Ids of the cells that share one gateway. */
const SHARED_GATEWAY_CELLS = [
  ...(['chat', 'responses'] as const).flatMap((api) => [false, true].flatMap((stream) => CONNECTION_LEVELS.map((c) => longAnswerCellId(api, stream, c)))),
  'wire.gemini.stream.c1',
  'wire.bedrock.stream.c1',
  'mcp.call',
  'mcp.call.2026',
  'mcp.round',
  'mcp.list',
];

/** Everything one shared gateway's cells need. */
interface Bench {
  settings: Settings;
  timing: Timing;
  endpoints: Endpoints;
  watched: Watched[];
  /** The processes under test, checked after every sample. */
  services: Service[];
  mcpDirect: Client;
  mcpViaGateway: Client;
  /** A 2026-07-28 client of the gateway's /mcp. */
  mcpModern: ModernClient;
}

/** Both APIs, both modes at 32 connections for a second, each way: the JIT's turn before anything counts. */
async function warmUp(endpoints: Endpoints, watched: Watched[]): Promise<void> {
  const timing = { seconds: 1, warmupSeconds: 0 };
  const samples: Sample[] = [];
  for (const api of ['chat', 'responses'] as const)
    for (const stream of [false, true]) {
      samples.push(await loadHttp(longAnswerTarget(api, stream, endpoints.mockUrl, LONG_MODEL), 32, timing, watched));
      samples.push(await loadHttp(longAnswerTarget(api, stream, endpoints.gatewayUrl, `${GATEWAY_PREFIX[api]}${LONG_MODEL}`), 32, timing, watched));
    }
  const calls = samples.reduce((n, s) => n + s.ok + s.errors, 0);
  print(`warm-up: ${calls} calls`, ...errorLines([{ label: 'warm-up', reasons: mergeErrorReasons(samples) }]));
}

function reasonsOf(results: PairedResult[]) {
  return results.map((r) => ({ label: r.label, connections: r.connections, reasons: r.summary.errorReasons }));
}

/** The long answer over HTTP and tools/call through /mcp, in rounds; prints their tables. */
async function runPaired(bench: Bench, results: BenchResults): Promise<void> {
  const { settings, timing, endpoints, watched } = bench;
  const cells = [
    ...longAnswerCells(endpoints, timing, watched),
    ...wireCells(endpoints, timing, watched),
    toolsCallCell({ id: 'mcp.call', label: 'tools/call (echo)' }, bench.mcpDirect, bench.mcpViaGateway, timing, watched),
    toolsCallCell({ id: 'mcp.call.2026', label: 'tools/call (echo), 2026-07-28 client' }, bench.mcpDirect, bench.mcpModern, timing, watched),
  ].filter((c) => isSelected(settings, c.id));
  if (cells.length === 0) return;
  await warmUp(endpoints, watched);
  assertRunning(bench.services);
  const started = performance.now();
  const paired = await runPairedCells(cells, settings.repeats, {
    afterSample: () => assertRunning(bench.services),
    afterRound: (round) => print(`round ${round}/${settings.repeats} of ${cells.length} cells done (${((performance.now() - started) / 1000).toFixed(0)} s)`),
  });
  results.longAnswer = paired.filter((r) => r.id.startsWith('http.'));
  results.wires = paired.filter((r) => r.id.startsWith('wire.'));
  results.mcpCall = paired.find((r) => r.id === 'mcp.call');
  results.mcpCallModern = paired.find((r) => r.id === 'mcp.call.2026');
  if (results.longAnswer.length)
    print('', ...pairTable('long answer (924 chars, 231 chunks)', results.longAnswer), ...errorLines(reasonsOf(results.longAnswer)));
  if (results.wires.length)
    print('', ...pairTable('provider wires (streamed; direct: the mock in its own wire)', results.wires), ...errorLines(reasonsOf(results.wires)));
  const mcpCalls = [results.mcpCall, results.mcpCallModern].filter((r) => r !== undefined);
  if (mcpCalls.length) print('', ...pairTable('MCP endpoint /mcp', mcpCalls), ...errorLines(reasonsOf(mcpCalls)));
}

async function runToolRound(bench: Bench, results: BenchResults): Promise<void> {
  const round = await measureToolRound(bench.endpoints.mockUrl, bench.endpoints.gatewayUrl, bench.mcpDirect, bench.timing, bench.watched);
  results.toolRound = round;
  print('', toolRoundLine(round), ...errorLines([{ label: 'tool round', reasons: mergeErrorReasons([round.modelCall, round.toolCall, round.round]) }]));
}

/** The cells that share one gateway, started for them: the long answer over HTTP and the MCP cells. */
async function runSharedGatewayCells(settings: Settings, timing: Timing, mock: Service, mcp: Service, results: BenchResults): Promise<void> {
  const gateway = await startGateway(gatewayConfig({ mockUrl: mock.url, mcpServers: { fixture: mcp.url } }));
  const mcpDirect = await connectMcp(mcp.url);
  const mcpViaGateway = await connectMcp(`${gateway.url}/mcp`);
  const mcpModern = await connectModernMcp(`${gateway.url}/mcp`);
  const bench: Bench = {
    settings,
    timing,
    endpoints: { mockUrl: mock.url, gatewayUrl: gateway.url },
    watched: [
      { name: 'mock', pid: mock.pid },
      { name: 'gateway', pid: gateway.pid },
      { name: 'mcp', pid: mcp.pid },
    ],
    services: [mock, mcp, gateway],
    mcpDirect,
    mcpViaGateway,
    mcpModern,
  };
  try {
    await runPaired(bench, results);
    if (isSelected(settings, 'mcp.round')) {
      await runToolRound(bench, results);
      assertRunning(bench.services);
    }
  } finally {
    await mcpDirect.close();
    await mcpViaGateway.close();
    await mcpModern.close();
    await gateway.stop();
  }
  if (isSelected(settings, 'mcp.list')) {
    results.toolsList = await measureToolsList(mock.url, mcp.url, timing, 3);
    print(toolsListLine(results.toolsList));
  }
}

/** A virtual key against the master key on a gateway of its own (with Redis): auth, limits and spend per request. */
async function runKeysCell(settings: Settings, timing: Timing, mock: Service, results: BenchResults): Promise<void> {
  if (!isSelected(settings, KEYS_CELL)) return;
  const { gateway, virtualKey, stop } = await startKeysGateway(mock.url);
  try {
    const watched = [
      { name: 'mock', pid: mock.pid },
      { name: 'gateway', pid: gateway.pid },
    ];
    const [keys] = await runPairedCells([keysCell(gateway.url, virtualKey, timing, watched)], settings.repeats, {
      afterSample: () => assertRunning([mock, gateway]),
      afterRound: () => {},
    });
    results.keys = keys;
    if (keys) print('', ...pairTable('virtual keys (Redis limits, spend)', [keys]), ...errorLines(reasonsOf([keys])));
  } finally {
    await stop();
  }
}

/** Tool search over the fixture catalog: the first model call's input with and without deferral, and the query latency. */
async function runToolSearchCells(settings: Settings, results: BenchResults): Promise<void> {
  if (isSelected(settings, SEARCH_INPUT_CELL)) {
    const r = await measureSearchInput();
    results.searchInput = r;
    print(
      '',
      `tool search, first model call's tools (${r.tools} tools on ${r.servers} servers): every tool offered ${r.plainChars.toLocaleString('en')} JSON chars ` +
        `(${r.plainFunctions} functions); deferred behind tool_search ${r.deferredChars.toLocaleString('en')} chars (${r.deferredFunctions} function): ` +
        `${(r.plainChars / r.deferredChars).toFixed(0)}x smaller`,
    );
  }
  if (isSelected(settings, SEARCH_QUERY_CELL)) {
    const r = measureSearchQuery(Math.max(settings.repeats, 3));
    results.searchQuery = r;
    print(
      `tool search query over ${r.tools} tools: p50 ${r.p50Micros.toFixed(0)} µs (median of ${r.runs.length} runs), p99 ${r.p99Micros.toFixed(0)} µs; index built in ${r.buildMs.toFixed(0)} ms`,
    );
  }
}

/** The cells that start gateways of their own: the concurrent streams and idle memory. */
async function runFreshGatewayCells(settings: Settings, mock: Service, mcp: Service, results: BenchResults): Promise<void> {
  const config = gatewayConfig({ mockUrl: mock.url, mcpServers: { fixture: mcp.url } });
  if (isSelected(settings, 'streams')) {
    const streams = await measureConcurrentStreams(config, settings.streams, settings.streamFrameMs, settings.repeats);
    assertRunning([mock, mcp]);
    results.streams = streams;
    print('', ...streamsLines(streams), ...errorLines(streams.runs.map((r) => ({ label: 'streams', reasons: r.errorReasons }))));
  }
  if (isSelected(settings, 'idle')) {
    results.idle = await measureIdleRss(config, settings.repeats);
    print(idleLine(results.idle));
  }
}

function allPairedSamples(results: BenchResults): Sample[] {
  const paired = [
    ...results.longAnswer,
    ...results.wires,
    ...(results.mcpCall ? [results.mcpCall] : []),
    ...(results.mcpCallModern ? [results.mcpCallModern] : []),
    ...(results.keys ? [results.keys] : []),
  ];
  return paired.flatMap((r) => r.samples.flatMap((s) => [s.direct, s.gateway]));
}

async function main(): Promise<void> {
  const settings = readSettings();
  const timing: Timing = { seconds: settings.seconds, warmupSeconds: settings.warmupSeconds };
  const started = performance.now();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    gatewayLaunch: gatewayLaunch(),
    settings,
    longAnswer: [],
    wires: [],
    targets: [],
    totalSeconds: 0,
  };
  print(
    `toolgate bench: node ${results.node}, ${results.cpus} cpus; ${settings.seconds} s per sample after ${settings.warmupSeconds} s warm-up, ` +
      `median of ${settings.repeats}; ratios and +ms are gateway against direct${settings.only.length ? `; only ${settings.only.join(',')}` : ''}`,
    `gateway: ${results.gatewayLaunch}`,
  );
  const mock = await startFixture('mock provider', 'bench/model-server.ts', []);
  const mcp = await startFixture('fixture MCP server', 'fixtures/mcp-server.ts', ['http', '--port', '0']);
  try {
    if (SHARED_GATEWAY_CELLS.some((id) => isSelected(settings, id))) await runSharedGatewayCells(settings, timing, mock, mcp, results);
    await runKeysCell(settings, timing, mock, results);
    if (isSelected(settings, METRICS_CELL)) {
      results.metrics = measureMetricsCost(Math.max(settings.repeats, 3));
      print(
        '',
        `metrics recorded per request (1 model call, 2 tool calls): ${results.metrics.microsPerRequest.toFixed(2)} µs (median of ${results.metrics.runs.length})`,
      );
    }
    await runToolSearchCells(settings, results);
    await runFreshGatewayCells(settings, mock, mcp, results);
  } finally {
    await mock.stop();
    await mcp.stop();
  }
  results.targets = evaluateTargets(results);
  results.totalSeconds = (performance.now() - started) / 1000;
  print('', 'acceptance targets', ...targetLines(results.targets), '', ...trustLines(allPairedSamples(results)));
  print(`total ${results.totalSeconds.toFixed(0)} s; results as JSON: ${writeResultsFile(results)}`);
}

await main().catch((e: unknown) => {
  console.error(`\nbench stopped: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
