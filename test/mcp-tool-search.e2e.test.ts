/**
 * Tool search on `/mcp` (LiteLLM's `mcp_tool_search` and `mcp_tool_call`) and the grant bounding every
 * search, seen through the MCP SDK's client and over /v1/responses. Three upstreams with the same tools:
 * `fixture`, `second` and `third`; a key granted `fixture` only never finds the others' tools.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const MASTER = 'sk-master-tool-search';
const servers: Awaited<ReturnType<typeof startFixtureHttpServer>>[] = [];
let t: TestGateway;
/** Granted `fixture` only, with tool search on for /mcp. */
let narrow: string;
const open: Client[] = [];

before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startFixtureHttpServer());
  t = await startTestGateway({
    general_settings: { master_key: MASTER },
    mcp_servers: { fixture: { url: servers[0]!.url }, second: { url: servers[1]!.url }, third: { url: servers[2]!.url } },
  });
  const res = await fetch(`${t.gw.url}/key/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
    body: JSON.stringify({ object_permission: { mcp_servers: ['fixture'], mcp_tool_search_enabled: true } }),
  });
  narrow = ((await res.json()) as { key: string }).key;
});
after(async () => {
  for (const c of open) await c.close();
  await t.close();
  for (const s of servers) await s.close();
});

async function connect(path: string, as = MASTER, headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'tool-search-test', version: '1' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${as}`, ...headers } } }),
  );
  open.push(c);
  return c;
}

const text = (r: any) => r.content.map((p: any) => p.text).join('');
const found = async (c: Client, query: string, limit?: number): Promise<string[]> => {
  const r: any = await c.callTool({ name: 'mcp_tool_search', arguments: { query, ...(limit ? { limit } : {}) } });
  assert.ok(!r.isError, text(r));
  assert.deepEqual(JSON.parse(text(r)), r.structuredContent, 'the text and the structured content agree');
  return r.structuredContent.tools.map((x: any) => x.name);
};

describe('/mcp with tool search on', () => {
  test('tools/list holds the gateway tools and the two virtual tools; a search finds a tool, mcp_tool_call runs it', async () => {
    const c = await connect('/mcp', MASTER, { 'x-toolgate-tool-search': 'on' });
    const { tools } = await c.listTools();
    const names = tools.map((x) => x.name);
    assert.deepEqual(names.slice(-2), ['mcp_tool_search', 'mcp_tool_call']);
    assert.ok(names.includes('chat') && !names.some((n) => n.startsWith('fixture-')), names.join());

    const hits = await found(c, 'echo the text back');
    assert.deepEqual(hits.slice(0, 3).sort(), ['fixture-echo', 'second-echo', 'third-echo']);
    const r: any = await c.callTool({ name: 'mcp_tool_search', arguments: { query: 'add two numbers', limit: 1 } });
    const [add] = r.structuredContent.tools;
    assert.match(add.name, /^(fixture|second|third)-add$/);
    assert.equal(add.description, 'Add two numbers');
    assert.deepEqual(add.inputSchema.required, ['a', 'b']);

    const called: any = await c.callTool({ name: 'mcp_tool_call', arguments: { name: 'second-echo', arguments: { text: 'through the search' } } });
    assert.ok(!called.isError);
    assert.equal(text(called), 'through the search');
  });

  test('?tool_search=on does the same; without it the upstream tools are listed and the virtual tools do not exist', async () => {
    const on = await connect('/mcp?tool_search=on');
    assert.ok((await on.listTools()).tools.some((x) => x.name === 'mcp_tool_search'));
    const off = await connect('/mcp');
    const names = (await off.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('fixture-echo') && !names.includes('mcp_tool_search'));
    await assert.rejects(off.callTool({ name: 'mcp_tool_search', arguments: { query: 'echo' } }), /Tool mcp_tool_search not found/);
  });

  test('bad arguments are a tool error that says what is wrong', async () => {
    const c = await connect('/mcp', MASTER, { 'x-toolgate-tool-search': 'on' });
    const r: any = await c.callTool({ name: 'mcp_tool_search', arguments: { limit: 3 } });
    assert.equal(r.isError, true);
    assert.match(text(r), /Invalid arguments for mcp_tool_search: .*query/s);
    const loop: any = await c.callTool({ name: 'mcp_tool_call', arguments: { name: 'mcp_tool_call', arguments: {} } });
    assert.equal(loop.isError, true);
  });
});

describe('a key granted one server', () => {
  test('its key turns tool search on; it never finds, nor calls, another server’s tools', async () => {
    const c = await connect('/mcp', narrow);
    const names = (await c.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('mcp_tool_search'), 'mcp_tool_search_enabled turns it on without a header');
    for (const q of ['echo the text back', 'add two numbers', 'write a note', 'second echo', 'third'])
      for (const hit of await found(c, q, 20)) assert.match(hit, /^fixture-/, `${q}: ${hit}`);
    assert.deepEqual((await found(c, 'echo the text back')).slice(0, 1), ['fixture-echo']);
    await assert.rejects(
      c.callTool({ name: 'mcp_tool_call', arguments: { name: 'second-echo', arguments: { text: 'x' } } }),
      /Tool second-echo not found/,
      'a tool outside the grant is answered as one that does not exist',
    );
    const ok: any = await c.callTool({ name: 'mcp_tool_call', arguments: { name: 'fixture-echo', arguments: { text: 'mine' } } });
    assert.equal(text(ok), 'mine');
  });

  test('on /v1/responses its searches find only the granted server’s tools', async () => {
    t.mock.always('granted-search', (req) =>
      req.toolOutputs.length ? { text: 'done' } : { toolCalls: [{ name: 'tool_search', arguments: { query: 'echo the text back', limit: 20 } }] },
    );
    const search = async (as: string) => {
      const res = await fetch(`${t.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` },
        body: JSON.stringify({
          model: 'c/granted-search',
          input: 'echo',
          tools: [{ type: 'tool_search' }, { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy', require_approval: 'never', defer_loading: true }],
        }),
      });
      assert.equal(res.status, 200);
      const out = ((await res.json()) as any).output.find((i: any) => i.type === 'tool_search_output');
      return { loaded: out.tools[0].allowed_tools as string[], offered: t.mock.requestsFor('granted-search').at(-1)!.functions };
    };
    // For this key `litellm_proxy` is one server: its tools go by their MCP names.
    const mine = await search(narrow);
    assert.equal(mine.loaded[0], 'echo');
    assert.ok(mine.offered.includes('fixture-echo') && mine.offered.every((f) => f === 'tool_search' || f.startsWith('fixture-')), mine.offered.join());
    // For the master key it spans three servers, each with an echo: each is named <server>-<tool>.
    const all = await search(MASTER);
    assert.deepEqual(all.loaded.slice(0, 3).sort(), ['fixture-echo', 'second-echo', 'third-echo']);
    assert.ok(
      ['fixture-echo', 'second-echo', 'third-echo'].every((f) => all.offered.includes(f)),
      all.offered.join(),
    );
  });
});
