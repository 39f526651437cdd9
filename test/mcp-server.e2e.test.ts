/**
 * The gateway as an MCP server, driven by the MCP SDK's own Client over Streamable HTTP, the legacy
 * HTTP+SSE transport and stdio (`toolgate mcp`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { MOCK_PNG_B64 } from '../fixtures/mock-provider.ts';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { toolText } from './support/mcp.ts';
import { startTestGateway, writeConfig, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const uploads = mkdtempSync(join(tmpdir(), 'toolgate-uploads-'));
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
const everything = { command: process.execPath, args: [`${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'stdio'] };

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    mcp_servers: { fixture: { url: fixture.url }, everything },
    mcp_settings: { upload_dir: uploads },
  });
});
after(async () => {
  await t.close();
  await fixture.close();
});

async function connect(transport: StreamableHTTPClientTransport | SSEClientTransport | StdioClientTransport): Promise<Client> {
  const c = new Client({ name: 'test', version: '1' });
  await c.connect(transport);
  return c;
}

async function allTools(c: Client): Promise<Tool[]> {
  const out: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.listTools(cursor ? { cursor } : {});
    out.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** What every transport must offer: gateway tools, namespaced upstream tools, a gateway call, an upstream call, a resource, a prompt. */
async function exercise(c: Client) {
  const tools = await allTools(c);
  const names = tools.map((x) => x.name);
  for (const n of ['chat', 'list_models', 'respond', 'embed', 'generate_image', 'fixture-add', 'fixture-echo', 'everything-echo', 'everything-get-sum'])
    assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
  assert.ok(
    tools.every((x) => x.description && x.inputSchema),
    'every tool has a description and an input schema',
  );
  assert.ok(!names.includes('fixture-needs_task'), 'task-only tools are hidden');
  const chat = await c.callTool({ name: 'chat', arguments: { model: 'c/mcp-chat', messages: [{ role: 'user', content: 'hello there' }] } });
  assert.equal(toolText(chat), 'echo: hello there');
  assert.equal((chat.structuredContent as { usage: { total_tokens: number } }).usage.total_tokens, 19);
  const sum = await c.callTool({ name: 'fixture-add', arguments: { a: 40, b: 2 } });
  assert.equal(toolText(sum), '42');
  assert.deepEqual(sum.structuredContent, { sum: 42 });
  const resources = await c.listResources();
  const doc = resources.resources.find((r) => r.uri.endsWith('architecture.md'))!;
  assert.ok(doc, 'server-everything resources are listed under their own URIs');
  const read = await c.readResource({ uri: doc.uri });
  assert.match((read.contents[0] as { text: string }).text, /\w/);
  const templated = await c.readResource({ uri: 'demo://resource/dynamic/text/7' });
  assert.match(JSON.stringify(templated.contents), /7/);
  const prompts = await c.listPrompts();
  assert.ok(prompts.prompts.some((p) => p.name === 'everything-simple-prompt'));
  const prompt = await c.getPrompt({ name: 'everything-args-prompt', arguments: { city: 'Oslo' } });
  assert.match(JSON.stringify(prompt.messages), /Oslo/);
}

describe('clients on every transport', () => {
  test('Streamable HTTP at /mcp', async () => {
    const c = await connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`)));
    try {
      await exercise(c);
    } finally {
      await c.close();
    }
  });

  test('legacy HTTP+SSE at /sse', async () => {
    const c = await connect(new SSEClientTransport(new URL(`${t.gw.url}/sse`)));
    try {
      await exercise(c);
    } finally {
      await c.close();
    }
  });

  test('stdio: toolgate mcp', async () => {
    const config = writeConfig({
      model_list: [{ model_name: 'c/*', litellm_params: { model: 'openai/*', api_base: t.mock.openaiBase, api_key: 'sk-x' } }],
      mcp_servers: { fixture: { url: fixture.url }, everything },
      general_settings: { database_url: 'sqlite::memory:' },
    });
    const transport = new StdioClientTransport({ command: process.execPath, args: [`${root}bin/toolgate.js`, 'mcp', '--config', config], stderr: 'pipe' });
    const c = await connect(transport);
    try {
      await exercise(c);
    } finally {
      await c.close();
    }
    // --tool-search: the two virtual tools instead of the upstream tools.
    const searching = await connect(
      new StdioClientTransport({ command: process.execPath, args: [`${root}bin/toolgate.js`, 'mcp', '--tool-search', '--config', config], stderr: 'pipe' }),
    );
    try {
      const names = (await searching.listTools()).tools.map((x) => x.name);
      assert.ok(names.includes('mcp_tool_search') && !names.includes('fixture-add'), names.join());
      const found = await searching.callTool({ name: 'mcp_tool_search', arguments: { query: 'add two numbers', limit: 1 } });
      assert.deepEqual(
        (found.structuredContent as { tools: { name: string }[] }).tools.map((x) => x.name),
        ['fixture-add'],
      );
    } finally {
      await searching.close();
    }
  });
});

describe('gateway tools', () => {
  test('respond runs an agent turn that calls an upstream tool', async () => {
    t.mock.always(
      'respond-model',
      callThenAnswer([{ name: 'fixture-add', arguments: { a: 5, b: 6 } }], (o) => `It is ${o[0]!.split('\n')[0]}.`),
    );
    const c = await connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`)));
    try {
      const r = await c.callTool({ name: 'respond', arguments: { model: 'c/respond-model', input: '5+6?', servers: ['fixture'] } });
      assert.equal(toolText(r), 'It is 11.');
      const s = r.structuredContent as { response_id: string; tool_calls: { name: string; output: string }[] };
      assert.deepEqual(
        s.tool_calls.map((x) => [x.name, x.output]),
        [['add', '11\n{"sum":11}']],
      );
      assert.match(s.response_id, /^resp_/);
      const denied = await c.callTool({ name: 'respond', arguments: { model: 'c/x', input: 'x', require_approval: 'always' } });
      assert.equal(denied.isError, true);
    } finally {
      await c.close();
    }
  });

  test('list_models, embed, generate_image (inline and to the upload folder), and clear errors', async () => {
    const c = await connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`)));
    try {
      const models = (await c.callTool({ name: 'list_models', arguments: {} })).structuredContent as {
        models: { id: string; api: string; capabilities: string[] }[];
      };
      assert.ok(models.models.length > 0);
      const e = await c.callTool({ name: 'embed', arguments: { model: 'c/embedder', input: ['a', 'b'] } });
      assert.equal((e.structuredContent as { embeddings: number[][] }).embeddings.length, 2);
      const img = await c.callTool({ name: 'generate_image', arguments: { model: 'c/painter', prompt: 'a dot', file_name: 'dot.png' } });
      const block = (img.content as { type: string; data?: string }[]).find((b) => b.type === 'image')!;
      assert.equal(block.data, MOCK_PNG_B64);
      assert.deepEqual(readFileSync(join(uploads, 'dot.png')), Buffer.from(MOCK_PNG_B64, 'base64'));
      const escaped = await c.callTool({ name: 'generate_image', arguments: { model: 'c/painter', prompt: 'x', file_name: '../evil.png' } });
      assert.equal(escaped.isError, true);
      assert.match(toolText(escaped), /file_name/);
      const cannot = await c.callTool({ name: 'embed', arguments: { model: 'a/claude-x', input: 'x' } });
      assert.equal(cannot.isError, true);
      assert.match(toolText(cannot), /cannot create embeddings/);
    } finally {
      await c.close();
    }
  });
});

describe('sessions', () => {
  test('400 without a session id, 404 for an unknown one, 403 for a foreign Origin', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const missing = await fetch(`${t.gw.url}/mcp`, { method: 'POST', headers, body: list });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as any).error.code, -32000);
    const unknown = await fetch(`${t.gw.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': 'nope' }, body: list });
    assert.equal(unknown.status, 404);
    const foreign = await fetch(`${t.gw.url}/mcp`, { method: 'POST', headers: { ...headers, origin: 'http://evil.example.com' }, body: list });
    assert.equal(foreign.status, 403);
    assert.equal(((await foreign.json()) as any).jsonrpc, '2.0');
  });

  test('list_changed from an upstream reaches a connected client', async () => {
    const c = new Client({ name: 'watcher', version: '1' });
    const changed = new Promise<void>((resolve) => c.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`)));
    try {
      await allTools(c);
      await c.callTool({ name: 'fixture-add_tool', arguments: { name: 'fresh_tool' } });
      await changed;
      assert.ok((await allTools(c)).some((x) => x.name === 'fixture-fresh_tool'));
    } finally {
      await c.close();
    }
  });

  test('x-mcp-servers narrows /mcp to those servers', async () => {
    const c = await connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`), { requestInit: { headers: { 'x-mcp-servers': 'fixture' } } }));
    try {
      const names = (await allTools(c)).map((x) => x.name);
      assert.ok(names.includes('fixture-add'));
      assert.ok(!names.some((n) => n.startsWith('everything-')));
    } finally {
      await c.close();
    }
  });
});
