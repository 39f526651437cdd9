/**
 * `npm run bench`: load through the gateway and directly at the mock provider, in the same run, and
 * the ratio between them. The mock and the gateway each run in their own process; this process only
 * drives load (keep-alive HTTP, fixed concurrency) and measures.
 *
 *   BENCH_SECONDS=3 BENCH_CONCURRENCY=1,10,50 npm run bench
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number);
const root = fileURLToPath(new URL('..', import.meta.url));

function startProcess(args: string[], match: (line: string) => string | undefined, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const v = match(line);
      if (v) {
        rl.removeAllListeners('line');
        child.stdout!.resume();
        resolve({ child, value: v });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Runs `one` from `concurrency` workers for SECONDS (after a warm-up round) and measures each call. */
async function measure(one: () => Promise<boolean>, concurrency: number): Promise<Result> {
  await Promise.all(Array.from({ length: concurrency }, one));
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await one().catch(() => false);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), errors };
}

/** Sends `body` to `url` from `concurrency` workers for SECONDS; reads every response to the end. */
async function load(url: string, body: object, concurrency: number): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const payload = JSON.stringify(body);
  const u = new URL(url);
  const one = () =>
    new Promise<boolean>((resolve) => {
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode === 200));
          res.on('error', () => resolve(false));
        },
      );
      req.on('error', () => resolve(false));
      req.end(payload);
    });
  const r = await measure(one, concurrency);
  agent.destroy();
  return r;
}

const f1 = (n: number) => n.toFixed(1).padStart(8);
const f2 = (n: number) => n.toFixed(2).padStart(7);

async function main() {
  const mock = await startProcess(['fixtures/mock-provider.ts', '--port', '0'], (l) => (l.startsWith('http://') ? l : undefined));
  const mcp = await startProcess(['fixtures/mcp-server.ts', 'http', '--port', '0'], (l) => (l.startsWith('http://') ? l : undefined));
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench-'));
  const config = join(dir, 'toolgate.yaml');
  writeFileSync(
    config,
    [
      'model_list:',
      `  - {model_name: "c/*", litellm_params: {model: "openai/*", api_base: "${mock.value}/v1", api_key: sk-bench, api_mode: chat}}`,
      `  - {model_name: "r/*", litellm_params: {model: "openai/*", api_base: "${mock.value}/v1", api_key: sk-bench, api_mode: responses}}`,
      'general_settings: {database_url: "sqlite::memory:"}',
      `mcp_servers: {fixture: {url: "${mcp.value}"}}`,
      '',
    ].join('\n'),
  );
  const gw = await startProcess(['bin/toolgate.js', 'serve', '--config', config, '--port', '0'], (l) => {
    try {
      return JSON.parse(l).url;
    } catch {
      return undefined;
    }
  });
  const messages = [{ role: 'user', content: 'Tell me something short.' }];
  const scenarios = [
    { name: 'chat, non-stream', gw: ['/v1/chat/completions', { model: 'c/bench', messages }], direct: ['/v1/chat/completions', { model: 'bench', messages }] },
    { name: 'chat, stream', gw: ['/v1/chat/completions', { model: 'c/bench', messages, stream: true }], direct: ['/v1/chat/completions', { model: 'bench', messages, stream: true }] },
    { name: 'responses, non-stream', gw: ['/v1/responses', { model: 'r/bench', input: 'Tell me something short.' }], direct: ['/v1/responses', { model: 'bench', input: 'Tell me something short.' }] },
    { name: 'responses, stream', gw: ['/v1/responses', { model: 'r/bench', input: 'Tell me something short.', stream: true }], direct: ['/v1/responses', { model: 'bench', input: 'Tell me something short.', stream: true }] },
  ] as const;

  console.log(`toolgate bench: ${SECONDS}s per cell, node ${process.version}; gateway -> mock vs client -> mock directly`);
  console.log('scenario                 conc |  direct rps   p50ms   p99ms | gateway rps   p50ms   p99ms | rps ratio  +p50ms  +p99ms  errors');
  for (const s of scenarios) {
    for (const c of LEVELS) {
      const d = await load(`${mock.value}${s.direct[0]}`, s.direct[1], c);
      const g = await load(`${gw.value}${s.gw[0]}`, s.gw[1], c);
      console.log(
        `${s.name.padEnd(24)} ${String(c).padStart(4)} | ${f1(d.rps)} ${f2(d.p50)} ${f2(d.p99)} | ${f1(g.rps)}    ${f2(d.p50 >= 0 ? g.p50 : NaN)} ${f2(g.p99)} | ${f2(g.rps / d.rps)}  ${f2(g.p50 - d.p50)} ${f2(g.p99 - d.p99)}  ${d.errors + g.errors}`,
      );
    }
  }
  await mcpRound(mock.value, mcp.value, gw.value);
  await mcpEndpoint(mcp.value, gw.value, config);
  console.log(`rss after the run: gateway ${rssMb(gw.child.pid)} MB, mock ${rssMb(mock.child.pid)} MB, fixture MCP server ${rssMb(mcp.child.pid)} MB`);
  gw.child.kill('SIGTERM');
  mock.child.kill('SIGTERM');
  mcp.child.kill('SIGTERM');
}

/**
 * One MCP tool round through the gateway (model call -> tools/call -> model call, auto-executed)
 * against its parts made directly: two model calls to the mock and one tools/call with the MCP SDK.
 * The added cost is what the gateway spends on top of those parts.
 */
async function mcpRound(mockUrl: string, mcpUrl: string, gwUrl: string) {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  const tools = [{ type: 'mcp', server_label: 'fx', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' }];
  console.log('');
  console.log('MCP tool round           conc | direct: model p50 x2 + tools/call p50 = sum | gateway round p50   p99    rps | added p50ms');
  for (const c of LEVELS.filter((x) => x <= 10)) {
    const model = await load(`${mockUrl}/v1/responses`, { model: 'bench', input: 'x' }, c);
    const tool = await measure(async () => {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'bench' } });
      return !r.isError;
    }, c);
    const round = await load(`${gwUrl}/v1/responses`, { model: 'r/call:fixture-echo', input: 'x', tools }, c);
    const direct = 2 * model.p50 + tool.p50;
    console.log(
      `${'one round, non-stream'.padEnd(24)} ${String(c).padStart(4)} |        ${f2(model.p50)}       ${f2(tool.p50)}  ${f2(direct)} |       ${f2(round.p50)} ${f2(round.p99)} ${f1(round.rps)} |   ${f2(round.p50 - direct)}   errors ${model.errors + tool.errors + round.errors}`,
    );
  }
  await client.close();
}

/**
 * The gateway as an MCP server: tools/call through /mcp against the same call made directly to the
 * upstream; and tools/list on /mcp with 10 upstreams, from the cache and cold (a new gateway process).
 */
async function mcpEndpoint(mcpUrl: string, gwUrl: string, baseConfig: string) {
  const connect = async (url: string) => {
    const c = new Client({ name: 'bench', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
    return c;
  };
  const direct = await connect(mcpUrl);
  const via = await connect(`${gwUrl}/mcp`);
  console.log('');
  console.log('MCP endpoint             conc |  direct rps   p50ms   p99ms | gateway rps   p50ms   p99ms | rps ratio  +p50ms  +p99ms  errors');
  const row = (name: string, c: number, d: Result, g: Result) =>
    console.log(`${name.padEnd(24)} ${String(c).padStart(4)} | ${f1(d.rps)} ${f2(d.p50)} ${f2(d.p99)} | ${f1(g.rps)}    ${f2(g.p50)} ${f2(g.p99)} | ${f2(g.rps / d.rps)}  ${f2(g.p50 - d.p50)} ${f2(g.p99 - d.p99)}  ${d.errors + g.errors}`);
  for (const c of LEVELS.filter((x) => x <= 10)) {
    const d = await measure(async () => !(await direct.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, c);
    const g = await measure(async () => !(await via.callTool({ name: 'fixture-echo', arguments: { text: 'x' } })).isError, c);
    row('tools/call', c, d, g);
  }
  await direct.close();
  await via.close();

  // 10 upstreams: the fixture (paginated, 3 pages) registered ten times.
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench10-'));
  const config = join(dir, 'toolgate.yaml');
  const servers = Array.from({ length: 10 }, (_, i) => `  fx${i}: {url: "${mcpUrl}"}`).join('\n');
  writeFileSync(config, `${readFileSync(baseConfig, 'utf8').replace(/^mcp_servers:.*$/m, '')}mcp_servers:\n${servers}\nmcp_settings: {tools_cache_seconds: 3600}\n`);
  const cold: number[] = [];
  let toolCount = 0;
  for (let i = 0; i < 3; i++) {
    const g = await startProcess(['bin/toolgate.js', 'serve', '--config', config, '--port', '0'], (l) => {
      try {
        return JSON.parse(l).url;
      } catch {
        return undefined;
      }
    });
    const c = await connect(`${g.value}/mcp`);
    const t0 = performance.now();
    let cursor: string | undefined;
    toolCount = 0;
    do {
      const page = await c.listTools(cursor ? { cursor } : {});
      toolCount += page.tools.length;
      cursor = page.nextCursor;
    } while (cursor);
    cold.push(performance.now() - t0);
    if (i === 2) {
      const listAll = async () => {
        let n = 0;
        let cur: string | undefined;
        do {
          const page = await c.listTools(cur ? { cursor: cur } : {});
          n += page.tools.length;
          cur = page.nextCursor;
        } while (cur);
        return n === toolCount;
      };
      const warm = await measure(listAll, 1);
      console.log(`tools/list, 10 upstreams (${toolCount} tools, all pages): cold first listing ${cold.map((x) => x.toFixed(1)).join(' / ')} ms (one per new gateway); cached p50 ${f2(warm.p50)} ms, p99 ${f2(warm.p99)} ms, ${f1(warm.rps)} listings/s`);
    }
    await c.close();
    g.child.kill('SIGTERM');
  }
}

await main();
