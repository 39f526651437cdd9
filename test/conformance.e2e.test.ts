/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, server mode) against the
 * gateway: every active scenario through `/mcp/<fixture>` (a project-owned upstream implementing the
 * suite's fixture), and the core scenarios against `/mcp` itself.
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

/**
 * One run of the suite. A run that outlives `timeoutMs` is killed and reported with what it printed: a request
 * the gateway never answers would otherwise hang the test (the SDK client puts no time limit on a POST of a
 * notification or response).
 */
function conformance(args: string[], timeoutMs = 120_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      output += `\n(killed: still running after ${timeoutMs / 1000} s)\n`;
      child.kill();
    }, timeoutMs);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

test('every active scenario passes through /mcp/<server>', async () => {
  // The suite needs a localhost URL: the gateway listens on 127.0.0.1.
  const run = await conformance(['--url', `${t.gw.url}/mcp/conformance`]);
  assert.equal(run.code, 0, run.output.slice(-3000));
  assert.match(run.output, /Total: \d+ passed, 0 failed/);
});

test('the core scenarios pass against /mcp', async () => {
  for (const scenario of [
    'server-initialize',
    'ping',
    'logging-set-level',
    'tools-list',
    'resources-list',
    'prompts-list',
    'server-sse-multiple-streams',
    'dns-rebinding-protection',
  ]) {
    const run = await conformance(['--url', `${t.gw.url}/mcp`, '--scenario', scenario]);
    assert.equal(run.code, 0, `${scenario}:\n${run.output.slice(-3000)}`);
    assert.match(run.output, /Passed: (\d+)\/\1, 0 failed/);
  }
});
