/**
 * The caches where the data is already known: `/mcp` routes prompts/get and resources/read by each
 * upstream's listing cache, and remote `server_url` sessions are pooled per label, URL and
 * credentials, closing when idle. A counting upstream (Streamable HTTP) records what reaches it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  isInitializeRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ReadResourceRequestSchema,
  ResourceListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { pino } from 'pino';
import { McpSettings } from '../src/config/schema.ts';
import { McpPool } from '../src/mcp-client/pool.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

function buildServer(): Server {
  const s = new Server({ name: 'counted', version: '1' }, { capabilities: { tools: {}, prompts: { listChanged: true }, resources: { listChanged: true } } });
  s.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  s.setRequestHandler(CallToolRequestSchema, async (req) => ({ content: [{ type: 'text', text: JSON.stringify(req.params.arguments) }] }));
  s.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [{ name: 'greet', arguments: [{ name: 'who' }] }] }));
  s.setRequestHandler(GetPromptRequestSchema, async (req) => {
    if (req.params.name !== 'greet') throw new McpError(ErrorCode.InvalidParams, 'no such prompt');
    return { messages: [{ role: 'user', content: { type: 'text', text: `hello ${req.params.arguments?.who}` } }] };
  });
  s.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'count://one', name: 'one' }] }));
  s.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [{ uriTemplate: 'count://item/{id}', name: 'item' }] }));
  s.setRequestHandler(ReadResourceRequestSchema, async (req) => ({ contents: [{ uri: req.params.uri, text: `read ${req.params.uri}` }] }));
  return s;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** A Streamable HTTP MCP server that records the methods it is sent, who initialized, and session ends ('delete' events). */
async function startCountingServer() {
  const methods: string[] = [];
  const inits: (string | undefined)[] = [];
  const events = new EventEmitter<{ delete: [sessionId: string] }>();
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();
  const http = createServer(async (req, res) => {
    const sid = req.headers['mcp-session-id'] as string | undefined;
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    for (const m of [body].flat() as { method?: string }[]) if (m?.method) methods.push(m.method);
    if (req.method === 'DELETE' && sid) events.emit('delete', sid);
    let s = sid ? sessions.get(sid) : undefined;
    if (sid && !s) return void res.writeHead(404).end();
    if (!s) {
      if (!isInitializeRequest(body)) return void res.writeHead(400).end();
      inits.push(req.headers.authorization);
      const server = buildServer();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, { transport, server }),
      });
      transport.onclose = () => void (transport.sessionId && sessions.delete(transport.sessionId));
      await server.connect(transport);
      s = { transport, server };
    }
    await s.transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    methods,
    inits,
    events,
    sessions,
    count: (method: string) => methods.filter((m) => m === method).length,
    close: async () => {
      for (const s of sessions.values()) await s.transport.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
type CountingServer = Awaited<ReturnType<typeof startCountingServer>>;

const LISTS = ['prompts/list', 'resources/list', 'resources/templates/list'];

describe('/mcp routes prompts/get and resources/read by the listing cache', () => {
  let up: CountingServer;
  let t: TestGateway;
  let c: Client;
  before(async () => {
    up = await startCountingServer();
    t = await startTestGateway({ mcp_servers: { counted: { url: up.url } } });
    c = new Client({ name: 'test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`)));
  });
  after(async () => {
    await c.close();
    await t.close();
    await up.close();
  });

  test('after a first listing, gets and reads list nothing upstream', async () => {
    assert.deepEqual(
      (await c.listPrompts()).prompts.map((p) => p.name),
      ['counted-greet'],
    );
    await c.listResources();
    await c.listResourceTemplates();
    up.methods.length = 0;
    const got = await c.getPrompt({ name: 'counted-greet', arguments: { who: 'you' } });
    assert.deepEqual(got.messages[0]!.content, { type: 'text', text: 'hello you' });
    await c.getPrompt({ name: 'counted-greet', arguments: { who: 'again' } });
    assert.equal(((await c.readResource({ uri: 'count://one' })).contents[0] as { text: string }).text, 'read count://one');
    assert.equal(((await c.readResource({ uri: 'count://item/7' })).contents[0] as { text: string }).text, 'read count://item/7');
    await assert.rejects(
      c.getPrompt({ name: 'counted-nope' }),
      (e: McpError) => e.code === ErrorCode.InvalidParams && /Prompt counted-nope not found/.test(e.message),
    );
    await assert.rejects(c.readResource({ uri: 'other://x' }), (e: McpError) => e.code === -32002);
    assert.deepEqual(
      up.methods.filter((m) => LISTS.includes(m)),
      [],
    );
    assert.equal(up.count('prompts/get'), 2);
    assert.equal(up.count('resources/read'), 2);
  });

  test("an upstream's list_changed makes the next get or read list it again, once", async () => {
    await c.listPrompts();
    await c.listResources();
    const promptsChanged = new Promise((r) => c.setNotificationHandler(PromptListChangedNotificationSchema, async () => r(null)));
    const resourcesChanged = new Promise((r) => c.setNotificationHandler(ResourceListChangedNotificationSchema, async () => r(null)));
    up.methods.length = 0;
    for (const s of up.sessions.values()) await s.server.sendPromptListChanged();
    await promptsChanged; // relayed downstream after the cache was dropped
    await c.getPrompt({ name: 'counted-greet', arguments: { who: 'x' } });
    await c.getPrompt({ name: 'counted-greet', arguments: { who: 'y' } });
    assert.equal(up.count('prompts/list'), 1);
    assert.equal(up.count('resources/list'), 0);
    for (const s of up.sessions.values()) await s.server.sendResourceListChanged();
    await resourcesChanged;
    await c.readResource({ uri: 'count://one' });
    await c.readResource({ uri: 'count://one' });
    assert.equal(up.count('resources/list'), 1);
    assert.equal(up.count('prompts/list'), 1);
  });
});

describe('remote server_url sessions are pooled', () => {
  let up: CountingServer;
  let t: TestGateway;
  before(async () => {
    up = await startCountingServer();
    t = await startTestGateway({ mcp_settings: { allowed_remote_hosts: ['127.0.0.1'] } });
    t.mock.always('pooled', { text: 'done' });
    t.mock.always('pooled-call', callThenAnswer([{ name: 'rem-echo', arguments: { x: 1 } }]));
  });
  after(async () => {
    await t.close();
    await up.close();
  });

  const respond = async (authorization: string, model = 'r/pooled') => {
    const res = await fetch(`${t.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'hi', tools: [{ type: 'mcp', server_label: 'rem', server_url: up.url, authorization, require_approval: 'never' }] }),
    });
    const body = (await res.json()) as { status: string; output: { type: string; tools?: unknown[] }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.output.find((i) => i.type === 'mcp_list_tools')?.tools?.length, 1);
  };

  test('one session per credentials, reused across requests', async () => {
    await respond('tok-a');
    await respond('tok-a');
    assert.deepEqual(up.inits, ['Bearer tok-a']);
    await respond('tok-b');
    await respond('tok-b');
    assert.deepEqual(up.inits, ['Bearer tok-a', 'Bearer tok-b']);
  });

  test('a session the server lost is reopened on the next request', async () => {
    for (const s of [...up.sessions.values()]) await s.transport.close();
    await respond('tok-a', 'r/pooled-call');
    assert.equal(up.count('tools/call'), 2, 'refused (404) on the lost session, then made on a new one');
    assert.deepEqual(up.inits, ['Bearer tok-a', 'Bearer tok-b', 'Bearer tok-a']);
  });
});

describe('the remote pool lets sessions go', () => {
  let up: CountingServer;
  before(async () => {
    up = await startCountingServer();
  });
  after(() => up.close());
  const settings = McpSettings.parse({});
  const log = pino({ level: 'silent' });

  test('an idle session is closed, and reopened on the next use', async () => {
    const pool = new McpPool({}, settings, log, { idleMs: 50 });
    try {
      const u = pool.remote('rem', up.url, { authorization: 'Bearer idle' });
      const ended = once(up.events, 'delete');
      await u.listTools();
      const [sid] = await ended;
      assert.ok(!up.sessions.has(sid), 'the upstream session was terminated');
      assert.equal(pool.remote('rem', up.url, { authorization: 'Bearer idle' }), u, 'the same pooled upstream');
      await u.listTools();
      assert.deepEqual(up.inits.slice(-2), ['Bearer idle', 'Bearer idle']);
    } finally {
      await pool.close();
    }
  });

  test('past the cap, the least recently used session is closed', async () => {
    const pool = new McpPool({}, settings, log, { idleMs: 60_000, max: 1 });
    try {
      const first = pool.remote('rem', up.url, { authorization: 'Bearer one' });
      await first.listTools();
      const ended = once(up.events, 'delete');
      const second = pool.remote('rem', up.url, { authorization: 'Bearer two' });
      assert.notEqual(second, first);
      await ended;
      assert.equal(first.state, 'idle');
      assert.notEqual(pool.remote('rem', up.url, { authorization: 'Bearer one' }), first, 'the one let go is no longer pooled');
    } finally {
      await pool.close();
    }
  });
});
