/**
 * The MCP bridge across its edges: a gateway restart in the middle of a conversation (and a process
 * killed mid-run), the run deadline, an upstream that is down, a remote server named by URL, and an
 * upstream on the legacy SSE transport.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { fixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, streamResponse, writeConfig, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
let client: OpenAI;
let legacy: ChildProcess;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let legacyUrl = '';

before(async () => {
  fixture = await startFixtureHttpServer();
  // server-everything on the legacy HTTP+SSE transport
  const port = await freePort();
  legacy = spawn(process.execPath, [`${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'sse'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  legacyUrl = `http://127.0.0.1:${port}/sse`;
  await new Promise<void>((resolve, reject) => {
    const check = (d: Buffer) => {
      if (/listening|running|port/i.test(d.toString())) resolve();
    };
    legacy.stdout!.on('data', check);
    legacy.stderr!.on('data', check);
    legacy.once('exit', (c) => reject(new Error(`server-everything exited ${c}`)));
  });
  t = await startTestGateway({
    mcp_servers: {
      fixture: { url: fixture.url },
      dead: { url: 'http://127.0.0.1:1/mcp', transport: 'http' },
      legacy: { url: legacyUrl, transport: 'sse', allowed_tools: ['echo'] },
      authed: {
        url: fixture.url,
        static_headers: { 'x-static': 'fixed' },
        auth_type: 'bearer_token',
        authentication_token: 'upstream-token',
        extra_headers: ['x-trace-id'],
        disallowed_tools: ['crash'],
        timeout: 0.3,
      },
    },
    mcp_settings: { run_timeout_seconds: 1, allowed_remote_hosts: ['127.0.0.1'], tool_timeout_seconds: 5 },
  });
  client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await t.close();
  await fixture.close();
  legacy.kill();
});

let n = 0;
const uniq = (label: string) => `life-${label}-${++n}`;

describe('upstreams', () => {
  test('an upstream that is down: its tools are unavailable with a clear error, the rest work', async () => {
    const m = uniq('down');
    t.mock.always(m, callThenAnswer([{ name: 'fixture-echo', arguments: { text: 'still here' } }]));
    const { violations, events } = await streamResponse(t.gw.url, {
      model: `c/${m}`,
      input: 'go',
      tools: [{ type: 'mcp', server_label: 'all', server_url: 'litellm_proxy/mcp/fixture,dead', require_approval: 'never' }],
    });
    assert.deepEqual(violations, []);
    const final = events.at(-1).response;
    assert.equal(final.status, 'completed');
    const list = final.output[0];
    assert.match(list.error, /MCP server 'dead' is unavailable/);
    assert.ok(list.tools.some((x: any) => x.name === 'echo'));
    assert.equal(final.output[1].output, 'still here');
    // only the dead server: the listing fails, the model answers without those tools
    const m2 = uniq('down-only');
    t.mock.always(m2, { text: 'no tools, sorry' });
    const r2 = await client.responses.create({
      model: `c/${m2}`,
      input: 'go',
      tools: [{ type: 'mcp', server_label: 'd', server_url: 'litellm_proxy/mcp/dead', require_approval: 'never' }],
    });
    assert.equal(r2.status, 'completed');
    assert.match((r2.output[0] as any).error, /'dead' is unavailable/);
    const ready = (await (await fetch(`${t.gw.url}/health/readiness`)).json()) as any;
    assert.equal(ready.status, 'ready');
    assert.equal(ready.mcp_servers.dead.state, 'error');
  });

  test('a remote server named by URL, allowed by host, gets the tool’s own headers', async () => {
    const m = uniq('remote');
    t.mock.always(m, callThenAnswer([{ name: 'remote-echo', arguments: { text: 'over the wire' } }]));
    const before = fixtureState().calls.length;
    const r = await client.responses.create({
      model: `r/${m}`,
      input: 'go',
      tools: [
        { type: 'mcp', server_label: 'remote', server_url: fixture.url, require_approval: 'never', headers: { 'x-team': 'green' }, allowed_tools: ['echo'] },
      ],
    });
    const call = r.output.find((o) => o.type === 'mcp_call') as any;
    assert.equal(call.server_label, 'remote');
    assert.equal(call.output, 'over the wire');
    const seen = fixtureState()
      .calls.slice(before)
      .find((c) => c.name === 'echo')!;
    assert.equal(seen.headers?.['x-team'], 'green');
    // headers are not echoed
    assert.equal((r.tools[0] as any).headers, null);
  });

  test('an upstream on the legacy SSE transport', async () => {
    const m = uniq('sse');
    t.mock.always(m, callThenAnswer([{ name: 'legacy-echo', arguments: { message: 'via sse' } }]));
    const r = await client.responses.create({
      model: `a/${m}`,
      input: 'go',
      tools: [{ type: 'mcp', server_label: 'old', server_url: 'litellm_proxy/mcp/legacy', require_approval: 'never' }],
    });
    assert.deepEqual(
      (r.output[0] as any).tools.map((x: any) => x.name),
      ['echo'],
    );
    assert.match((r.output.find((o) => o.type === 'mcp_call') as any).output, /via sse/);
  });
});

test('configured headers, credentials and forwarded client headers reach the server; timeouts and filters apply', async () => {
  const m = uniq('authed');
  t.mock.always(
    m,
    callThenAnswer([
      { name: 'authed-echo', arguments: { text: 'auth' } },
      { name: 'authed-slow', arguments: { ms: 2000 } },
    ]),
  );
  const before = fixtureState().calls.length;
  const r = await client.responses.create(
    { model: `c/${m}`, input: 'go', tools: [{ type: 'mcp', server_label: 'a', server_url: 'litellm_proxy/mcp/authed', require_approval: 'never' }] },
    { headers: { 'x-trace-id': 'trace-9', 'x-not-forwarded': 'no' } },
  );
  const echo = fixtureState()
    .calls.slice(before)
    .find((c) => c.name === 'echo')!;
  assert.equal(echo.headers?.['x-static'], 'fixed');
  assert.equal(echo.headers?.authorization, 'Bearer upstream-token');
  assert.equal(echo.headers?.['x-trace-id'], 'trace-9');
  assert.equal(echo.headers?.['x-not-forwarded'], undefined);
  const slow = r.output.find((o) => o.type === 'mcp_call' && (o as any).name === 'slow') as any;
  assert.equal(slow.status, 'failed');
  assert.equal(slow.error.type, 'mcp_protocol_error');
  assert.match(slow.error.message, /timed out/i);
  assert.ok(!(r.output[0] as any).tools.some((x: any) => x.name === 'crash'), 'disallowed_tools hides a tool');
});

test('the run deadline ends the response incomplete, naming the limit', async () => {
  const m = uniq('deadline');
  t.mock.always(m, callThenAnswer([{ name: 'fixture-slow', arguments: { ms: 3000 } }]));
  const { violations, events } = await streamResponse(t.gw.url, {
    model: `c/${m}`,
    input: 'go',
    tools: [{ type: 'mcp', server_label: 'fx', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' }],
  });
  assert.deepEqual(violations, []);
  const final = events.at(-1);
  assert.equal(final.type, 'response.incomplete');
  assert.deepEqual(final.response.incomplete_details, { reason: 'run_timeout' });
  const stored = await client.responses.retrieve(final.response.id);
  assert.equal(stored.status, 'incomplete');
});

describe('a gateway restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-restart-'));
  const config = join(dir, 'toolgate.yaml');

  async function serve(): Promise<{ url: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [`${root}bin/toolgate.js`, 'serve', '--config', config, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const u = JSON.parse(l).url;
        if (u) resolve(u);
      });
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    return { url, child };
  }

  async function stop(child: ChildProcess, signal: NodeJS.Signals) {
    child.kill(signal);
    await once(child, 'exit');
  }

  test('an approval-pending response continues after it; a run cut off by it is marked failed', async () => {
    writeConfig(
      {
        model_list: [{ model_name: 'c/*', litellm_params: { model: 'openai/*', api_base: t.mock.openaiBase, api_key: 'sk-x' } }],
        mcp_servers: { fixture: { url: fixture.url } },
        general_settings: { database_url: `sqlite:${join(dir, 'store.db')}` },
      },
      dir,
    );
    const m = uniq('restart');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-write_note', arguments: { note: 'survives' } }], (o) => `After restart: ${o[0]}`),
    );
    const tool = { type: 'mcp' as const, server_label: 'notes', server_url: 'litellm_proxy/mcp/fixture' };

    let gw = await serve();
    let c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const first = await c.responses.create({ model: `c/${m}`, input: 'write it', tools: [tool] });
    const req = first.output.find((o) => o.type === 'mcp_approval_request')!;
    // a run that is still going when the process dies: the client keeps its connection open meanwhile
    // (a client that goes away first gets its response marked failed as disconnected instead)
    const stalled = uniq('stalled');
    t.mock.enqueue(stalled, { text: 'never finishes this sentence', stallAfter: 2 });
    const live = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `c/${stalled}`, input: 'go', stream: true }),
    });
    const reader = live.body!.getReader();
    let seen = '';
    while (!seen.includes('response.output_text.delta')) seen += new TextDecoder().decode((await reader.read()).value);
    const cutId = /"id":"(resp_[0-9a-f]+)"/.exec(seen)![1]!;
    await stop(gw.child, 'SIGKILL');
    await reader.cancel().catch(() => {});

    gw = await serve();
    c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
    try {
      assert.equal((await c.responses.retrieve(first.id)).status, 'completed');
      const cut = await c.responses.retrieve(cutId);
      assert.equal(cut.status, 'failed');
      assert.match(cut.error!.message, /stopped while this response was in progress/);
      const second = await c.responses.create({
        model: `c/${m}`,
        previous_response_id: first.id,
        tools: [tool],
        input: [{ type: 'mcp_approval_response', approval_request_id: req.id!, approve: true }],
      });
      assert.equal(second.output_text, 'After restart: wrote: survives');
    } finally {
      await stop(gw.child, 'SIGTERM');
    }
  });
});
