/**
 * A virtual key's MCP permissions, seen as a user sees them: over /v1/responses (mcp_list_tools, the calls
 * the gateway runs), /mcp (tools/list, tools/call, sessions) and /mcp/<server>. The key is granted the
 * server `fixture` whole and only `echo` of the server `second`; `third` is registered but not granted.
 * What it may not use is hidden, and naming it gets the answer a name that does not exist gets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const MASTER = 'sk-master-permissions';
const servers: Awaited<ReturnType<typeof startFixtureHttpServer>>[] = [];
let t: TestGateway;
let key: string;

before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startFixtureHttpServer());
  t = await startTestGateway({
    general_settings: { master_key: MASTER },
    mcp_servers: { fixture: { url: servers[0]!.url }, second: { url: servers[1]!.url }, third: { url: servers[2]!.url } },
  });
  key = (await admin('/key/generate', { object_permission: { mcp_servers: ['fixture'], mcp_tool_permissions: { second: ['echo'] } } })).key;
});
after(async () => {
  await t.close();
  for (const s of servers) await s.close();
});

async function admin(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${t.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function respond(body: Record<string, unknown>, as = key): Promise<{ status: number; json: any }> {
  const res = await fetch(`${t.gw.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function connect(path: string, as = key, headers: Record<string, string> = {}): Promise<{ c: Client; transport: StreamableHTTPClientTransport }> {
  const c = new Client({ name: 'permissions-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`), {
    requestInit: { headers: { authorization: `Bearer ${as}`, ...headers } },
  });
  await c.connect(transport);
  return { c, transport };
}

const gw = (server_url = 'litellm_proxy', extra: Record<string, unknown> = {}) => ({
  type: 'mcp',
  server_label: 'gw',
  server_url,
  require_approval: 'never',
  ...extra,
});

describe('on /v1/responses', () => {
  test('mcp_list_tools shows exactly the granted tools; a request naming servers sees only those granted', async () => {
    t.mock.always('listing', () => ({ text: 'done' }));
    const all = await respond({ model: 'c/listing', input: 'x', tools: [gw()] });
    assert.equal(all.status, 200, JSON.stringify(all.json));
    const listed = all.json.output.filter((i: any) => i.type === 'mcp_list_tools');
    assert.equal(listed.length, 1);
    const names = (r: any) => r.json.output.find((i: any) => i.type === 'mcp_list_tools').tools.map((x: any) => x.name);
    const fixtureTools = names(await respond({ model: 'c/listing', input: 'x', tools: [gw('litellm_proxy/mcp/fixture')] }, MASTER));
    assert.ok(fixtureTools.includes('add') && fixtureTools.includes('echo'));
    assert.deepEqual(names(all).sort(), [...fixtureTools, 'echo'].sort());
    const master = await respond({ model: 'c/listing', input: 'x', tools: [gw()] }, MASTER);
    assert.equal(names(master).length, 3 * fixtureTools.length, 'the master key sees all');
    // allowed_tools only narrows the grant
    const narrowed = await respond({ model: 'c/listing', input: 'x', tools: [gw('litellm_proxy/mcp/second', { allowed_tools: ['echo', 'add'] })] });
    assert.deepEqual(
      narrowed.json.output.find((i: any) => i.type === 'mcp_list_tools').tools.map((x: any) => x.name),
      ['echo'],
    );
  });

  test('a registered server outside the grant gets the answer an unknown server gets; a remote URL is refused', async () => {
    const hidden = await respond({ model: 'c/listing', input: 'x', tools: [gw('litellm_proxy/mcp/third')] });
    const unknown = await respond({ model: 'c/listing', input: 'x', tools: [gw('litellm_proxy/mcp/nowhere')] });
    assert.equal(hidden.status, 400);
    assert.deepEqual(
      [hidden.json.error.code, hidden.json.error.message.replace('third', '?')],
      [unknown.json.error.code, unknown.json.error.message.replace('nowhere', '?')],
    );
    assert.equal(hidden.json.error.message.includes('registered: fixture, second'), true, 'the servers it may use, no others');
    const remote = await respond({ model: 'c/listing', input: 'x', tools: [gw('https://mcp.example.com/mcp')] });
    assert.deepEqual([remote.status, remote.json.error.code], [400, 'mcp_host_not_allowed']);
  });

  test('a tool outside the grant is never run, even when the model names it', async () => {
    fixtureState().calls.length = 0;
    t.mock.always(
      'naming',
      callThenAnswer([
        { name: 'second-add', arguments: { a: 1, b: 2 } },
        { name: 'second-echo', arguments: { text: 'granted' } },
      ]),
    );
    const r = await respond({ model: 'c/naming', input: 'x', tools: [gw()] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const calls = r.json.output.filter((i: any) => i.type === 'mcp_call');
    assert.deepEqual(
      calls.map((c: any) => c.name),
      ['echo'],
    );
    assert.deepEqual(
      fixtureState().calls.map((c) => c.name),
      ['echo'],
      'nothing else reached an upstream',
    );
  });
});

describe('on /mcp, for 2026-07-28 clients (no session: the grant is applied request by request)', () => {
  const modern = async (path: string, as = key) => {
    const c = new ModernClient({ name: 'permissions-2026', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new ModernTransport(new URL(`${t.gw.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${as}` } } }));
    return c;
  };

  test('the key lists and calls exactly what it is granted, the master key everything, on /mcp and /mcp/<server>', async () => {
    const c = await modern('/mcp');
    const master = await modern('/mcp', MASTER);
    try {
      const upstream = (await c.listTools()).tools.map((x) => x.name).filter((n) => n.includes('-'));
      assert.ok(upstream.includes('second-echo') && !upstream.includes('second-add') && !upstream.some((n) => n.startsWith('third-')), upstream.join());
      const all = (await master.listTools()).tools.map((x) => x.name);
      assert.ok(all.includes('third-echo') && all.includes('second-add'));
      await assert.rejects(c.callTool({ name: 'second-add', arguments: { a: 1, b: 2 } }), /Tool second-add not found/);
      assert.equal((await master.callTool({ name: 'second-add', arguments: { a: 1, b: 2 } })).isError, undefined);
    } finally {
      await c.close();
      await master.close();
    }
    const second = await modern('/mcp/second');
    try {
      assert.deepEqual(
        (await second.listTools()).tools.map((x) => x.name),
        ['echo'],
      );
      await assert.rejects(second.callTool({ name: 'add', arguments: { a: 1, b: 2 } }), /Tool add not found/);
    } finally {
      await second.close();
    }
    // An ungranted server answers as one that does not exist.
    const refusal = (path: string) =>
      modern(path).then(
        () => 'connected',
        (e: Error) => e.message,
      );
    const [third, nowhere] = await Promise.all([refusal('/mcp/third'), refusal('/mcp/nowhere')]);
    assert.notEqual(third, 'connected');
    assert.equal(third, nowhere);
  });
});

describe('on /mcp', () => {
  test('tools/list holds the gateway tools and exactly the granted upstream tools; others are "not found" as unknown names are', async () => {
    const { c } = await connect('/mcp');
    try {
      const names = (await c.listTools()).tools.map((x) => x.name);
      const everything = (await connect('/mcp', MASTER)).c;
      const all = (await everything.listTools()).tools.map((x) => x.name);
      await everything.close();
      assert.ok(all.includes('third-echo') && all.includes('second-add'));
      const upstream = names.filter((n) => n.includes('-')).sort();
      assert.deepEqual(upstream, [...all.filter((n) => n.startsWith('fixture-')), 'second-echo'].sort());
      assert.ok(names.includes('chat') && names.includes('respond'));
      assert.equal((await c.callTool({ name: 'second-echo', arguments: { text: 'hi' } })).isError, undefined);
      const hidden = await c.callTool({ name: 'second-add', arguments: { a: 1, b: 2 } }).catch((e: Error) => e.message);
      const unknown = await c.callTool({ name: 'second-nope', arguments: {} }).catch((e: Error) => e.message);
      assert.equal(String(hidden).replace('second-add', '?'), String(unknown).replace('second-nope', '?'));
      assert.match(String(hidden), /not found/);
      const third = await c.callTool({ name: 'third-echo', arguments: { text: 'x' } }).catch((e: Error) => e.message);
      assert.match(String(third), /Tool third-echo not found/);
    } finally {
      await c.close();
    }
  });

  test('x-mcp-servers naming a server outside the grant is refused as an unknown one', async () => {
    const refused = await connect('/mcp', key, { 'x-mcp-servers': 'third' }).catch((e: Error) => e.message);
    assert.match(String(refused), /unknown servers: third; registered: fixture, second/);
  });

  test('/mcp/<server>: granted tools pass through, the rest are hidden; an ungranted server is 404 like an unknown one', async () => {
    const { c } = await connect('/mcp/second');
    try {
      assert.deepEqual(
        (await c.listTools()).tools.map((x) => x.name),
        ['echo'],
      );
      const hidden = await c.callTool({ name: 'add', arguments: { a: 1, b: 2 } }).catch((e: Error) => e.message);
      assert.match(String(hidden), /Tool add not found/);
    } finally {
      await c.close();
    }
    const init = (path: string) =>
      fetch(`${t.gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
    const [third, nowhere] = await Promise.all([init('/mcp/third'), init('/mcp/nowhere')]);
    assert.deepEqual([third.status, (await third.text()).replace('third', '?')], [nowhere.status, (await nowhere.text()).replace('nowhere', '?')]);
  });

  test('a session belongs to the key that opened it: another key, even the master key, is told it does not exist', async () => {
    const { c, transport } = await connect('/mcp');
    try {
      const sid = transport.sessionId!;
      const list = (as: string) =>
        fetch(`${t.gw.url}/mcp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${as}`,
            'mcp-session-id': sid,
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
        });
      assert.equal((await list(MASTER)).status, 404);
      const other = (await admin('/key/generate', {})).key;
      assert.equal((await list(other)).status, 404);
      assert.equal((await list(key)).status, 200);
    } finally {
      await c.close();
    }
  });

  test('the gateway tools apply the key\'s models: list_models shows only those, chat with another is "not found"', async () => {
    const limited = (await admin('/key/generate', { models: ['c/*'] })).key;
    const { c } = await connect('/mcp', limited);
    try {
      const listed = (await c.callTool({ name: 'list_models', arguments: {} })).structuredContent as { models: { id: string }[] };
      assert.ok(listed.models.length > 0 && listed.models.every((m) => m.id.startsWith('c/')));
      const chat = await c.callTool({ name: 'chat', arguments: { model: 'a/claude-x', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(chat.isError, true);
      assert.match(JSON.stringify(chat.content), /does not exist/);
    } finally {
      await c.close();
    }
  });
});
