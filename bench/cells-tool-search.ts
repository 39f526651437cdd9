/**
 * What tool search saves and costs, over the fixture catalog (fixtures/catalog: servers modelled on real
 * public MCP servers, each a real stdio process behind one gateway):
 *   - input: the JSON characters of the tools the first model call carries, with every tool offered
 *     (`litellm_proxy`) and with them deferred behind `tool_search`, read from what the model received;
 *   - query: the index's search latency over 1,000 tools (the catalog, filled up with renamed copies),
 *     p50 per query over the catalog's queries, the median of repeated runs; and the time to build it.
 */
import { join } from 'node:path';
import { loadCatalog, loadQueries } from '../fixtures/catalog-server.ts';
import { startMockProvider } from '../fixtures/mock-provider.ts';
import { ToolIndex } from '../src/search/tool-index.ts';
import { median, quantile } from './measure.ts';
import { repoRoot, startGateway } from './processes.ts';

export const SEARCH_INPUT_CELL = 'toolsearch.input';
export const SEARCH_QUERY_CELL = 'toolsearch.query';

export interface SearchInputResult {
  servers: number;
  tools: number;
  /** JSON characters of `tools` in the first model request. */
  plainChars: number;
  deferredChars: number;
  plainFunctions: number;
  deferredFunctions: number;
}

export interface SearchQueryResult {
  tools: number;
  /** Median over the runs of each run's p50 µs per query. */
  p50Micros: number;
  p99Micros: number;
  buildMs: number;
  runs: number[];
}

export async function measureSearchInput(): Promise<SearchInputResult> {
  const catalog = loadCatalog();
  const mock = await startMockProvider();
  const servers = catalog.map(
    (s) =>
      `  ${s.name}: {command: "${process.execPath}", args: ["--experimental-strip-types", "--no-warnings", "${join(repoRoot, 'fixtures/catalog-server.ts')}", "${s.name}"]}`,
  );
  const gateway = await startGateway(
    [
      'model_list:',
      `  - {model_name: "r/*", litellm_params: {model: "openai/*", api_base: "${mock.openaiBase}", api_key: sk-bench, api_mode: responses}}`,
      'mcp_servers:',
      ...servers,
      '',
    ].join('\n'),
  );
  try {
    mock.always('bench-search', () => ({ text: 'ok' }));
    const gw = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy', require_approval: 'never' };
    const firstTools = async (tools: object[]): Promise<object[]> => {
      const before = mock.requestsFor('bench-search').length;
      const res = await fetch(`${gateway.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'r/bench-search', input: 'Open an issue about the flaky login test', tools }),
      });
      if (!res.ok) throw new Error(`tool search input: HTTP ${res.status} ${await res.text()}`);
      return mock.requestsFor('bench-search')[before]!.body.tools;
    };
    const plain = await firstTools([gw]);
    const deferred = await firstTools([{ type: 'tool_search' }, { ...gw, defer_loading: true }]);
    return {
      servers: catalog.length,
      tools: catalog.reduce((n, s) => n + s.tools.length, 0),
      plainChars: JSON.stringify(plain).length,
      deferredChars: JSON.stringify(deferred).length,
      plainFunctions: plain.length,
      deferredFunctions: deferred.length,
    };
  } finally {
    await gateway.stop();
    await mock.close();
  }
}

export function measureSearchQuery(repeats: number, size = 1000): SearchQueryResult {
  const catalog = loadCatalog();
  const entries = catalog.flatMap((s) => s.tools.map((tool) => ({ server: s.name, tool })));
  // Renamed copies fill the catalog up to `size`, so the index holds that many distinct tools.
  for (let copy = 2; entries.length < size; copy++)
    for (const s of catalog)
      for (const tool of s.tools) if (entries.length < size) entries.push({ server: `${s.name}${copy}`, tool: { ...tool, name: `${tool.name}_${copy}` } });
  const queries = loadQueries().map((q) => q.query);
  const t0 = performance.now();
  const index = new ToolIndex(entries);
  const buildMs = performance.now() - t0;
  for (let i = 0; i < 200; i++) index.search(queries[i % queries.length]!, 5); // the JIT's turn
  const runs: number[] = [];
  const all: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const times: number[] = [];
    for (let pass = 0; pass < 5; pass++)
      for (const q of queries) {
        const started = process.hrtime.bigint();
        index.search(q, 5);
        times.push(Number(process.hrtime.bigint() - started) / 1000);
      }
    times.sort((a, b) => a - b);
    runs.push(quantile(times, 0.5));
    all.push(...times);
  }
  all.sort((a, b) => a - b);
  return { tools: index.size, p50Micros: median(runs), p99Micros: quantile(all, 0.99), buildMs, runs };
}
