/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, server mode) against the
 * gateway: every active scenario through `/mcp/<fixture>` (a project-owned upstream implementing the
 * suite's fixture), and the core scenarios against `/mcp` itself. A failed scenario is run once more
 * (the elicitation scenarios are known to flake rarely).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startConformanceServer } from '../fixtures/conformance-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const CLI = fileURLToPath(new URL('../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url));
let upstream: Awaited<ReturnType<typeof startConformanceServer>>;
let t: TestGateway;

before(async () => {
  upstream = await startConformanceServer();
  t = await startTestGateway({ mcp_servers: { conformance: { url: upstream.url } } });
});
after(async () => {
  await t.close();
  await upstream.close();
});

function conformance(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Scenarios that failed in a suite run, from its summary lines (`✗ name: …`). */
function failedScenarios(output: string): string[] {
  return [...output.matchAll(/^✗ ([\w-]+):/gm)].map((m) => m[1]!);
}

test('every active scenario passes through /mcp/<server>', async () => {
  // The suite needs a localhost URL: the gateway listens on 127.0.0.1.
  const url = `${t.gw.url}/mcp/conformance`;
  const run = await conformance(['--url', url]);
  assert.match(run.output, /Total: \d+ passed/);
  const failed = failedScenarios(run.output);
  for (const scenario of failed) {
    const again = await conformance(['--url', url, '--scenario', scenario]);
    assert.equal(again.code, 0, `${scenario} failed twice:\n${again.output.slice(-3000)}`);
  }
  if (!failed.length) assert.equal(run.code, 0, run.output.slice(-3000));
  assert.ok(/Total: (\d+) passed, 0 failed/.test(run.output) || failed.length > 0);
});

test('the core scenarios pass against /mcp', async () => {
  for (const scenario of ['server-initialize', 'ping', 'logging-set-level', 'tools-list', 'resources-list', 'prompts-list', 'server-sse-multiple-streams', 'dns-rebinding-protection']) {
    let run = await conformance(['--url', `${t.gw.url}/mcp`, '--scenario', scenario]);
    if (run.code !== 0) run = await conformance(['--url', `${t.gw.url}/mcp`, '--scenario', scenario]);
    assert.equal(run.code, 0, `${scenario}:\n${run.output.slice(-3000)}`);
    assert.match(run.output, /Passed: (\d+)\/\1, 0 failed/);
  }
});
