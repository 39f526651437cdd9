/**
 * /mcp sessions under pressure: expiry, the cap, abandoned sessions, keys; and /mcp/<server> relaying
 * the upstream's own requests (sampling, elicitation) and notifications (progress, logging) to the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { startConformanceServer } from '../fixtures/conformance-server.ts';
import { fixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const MAX = 5;
let conf: Awaited<ReturnType<typeof startConformanceServer>>;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
let keyed: TestGateway;
/** Sessions expire fast here: only tests about expiry use it. */
let short: TestGateway;
/** Few sessions allowed, and they stay: only the cap test uses it. */
let capped: TestGateway;

before(async () => {
  conf = await startConformanceServer();
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({ mcp_servers: { conf: { url: conf.url }, fixture: { url: fixture.url } } });
  keyed = await startTestGateway({ general_settings: { master_key: 'sk-gw' }, mcp_servers: { fixture: { url: fixture.url } } });
  short = await startTestGateway({ mcp_settings: { session_idle_seconds: 0.2 } });
  capped = await startTestGateway({ mcp_settings: { max_sessions: MAX } });
});
after(async () => {
  await t.close();
  await keyed.close();
  await short.close();
  await capped.close();
  await fixture.close();
  await conf.close();
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Opens a session with a bare initialize and walks away from it. */
async function openAndAbandon(base: string): Promise<Response> {
  const res = await fetch(`${base}/mcp`, { method: 'POST', headers: HEADERS, body: INIT });
  await res.arrayBuffer();
  return res;
}

/** Waits until `check` holds, polling (bounded): for the idle sweep, which is driven by a timer. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('session lifecycle', () => {
  test('an expired session answers 404', async () => {
    const res = await openAndAbandon(short.gw.url);
    const mcp = await short.gw.gateway.mcp.get();
    const sessions = () => mcp.sessions.size;
    assert.equal(res.status, 200);
    const sid = res.headers.get('mcp-session-id')!;
    const ping = () =>
      fetch(`${short.gw.url}/mcp`, {
        method: 'POST',
        headers: { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    assert.equal((await ping()).status, 200);
    await eventually(() => sessions() === 0); // swept once idle (pinging would keep it alive)
    assert.equal((await ping()).status, 404);
  });

  test('the cap: past it, a clear error; DELETE frees a place', async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX; i++) ids.push((await openAndAbandon(capped.gw.url)).headers.get('mcp-session-id')!);
    const over = await fetch(`${capped.gw.url}/mcp`, { method: 'POST', headers: HEADERS, body: INIT });
    assert.equal(over.status, 503);
    const body = (await over.json()) as { error: { message: string } };
    assert.match(body.error.message, /Too many MCP sessions \(the limit is 5\)/);
    const del = await fetch(`${capped.gw.url}/mcp`, {
      method: 'DELETE',
      headers: { ...HEADERS, 'mcp-session-id': ids[0]!, 'mcp-protocol-version': '2025-11-25' },
    });
    assert.equal(del.status, 200);
    assert.equal((await openAndAbandon(capped.gw.url)).status, 200);
  });

  test('1,000 open-and-abandon cycles leave no live sessions behind', async () => {
    const churn = await startTestGateway({ mcp_settings: { session_idle_seconds: 0.2, max_sessions: 5000 } });
    const mcp = await churn.gw.gateway.mcp.get();
    const live = () => mcp.sessions.size;
    try {
      const samples: number[] = [];
      for (let i = 1; i <= 1000; i++) {
        assert.equal((await openAndAbandon(churn.gw.url)).status, 200);
        if (i % 250 === 0) samples.push(live());
      }
      // Live sessions are bounded by the idle timeout, not by how many were ever opened.
      assert.ok(Math.max(...samples) < 1000, `live sessions while cycling: ${samples.join(', ')}`);
      await eventually(() => live() === 0);
    } finally {
      await churn.close();
    }
  });
});

describe('transport details', () => {
  const initialize = async (accept: string) => {
    const res = await fetch(`${t.gw.url}/mcp`, { method: 'POST', headers: { ...HEADERS, accept }, body: INIT });
    return { res, sid: res.headers.get('mcp-session-id')! };
  };

  test('a client that accepts only JSON gets JSON; one that accepts both gets SSE', async () => {
    const json = await initialize('application/json');
    assert.equal(json.res.status, 200);
    assert.match(json.res.headers.get('content-type')!, /^application\/json/);
    assert.equal(((await json.res.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name, 'toolgate');
    const sse = await initialize('application/json, text/event-stream');
    assert.match(sse.res.headers.get('content-type')!, /^text\/event-stream/);
    await sse.res.arrayBuffer();
  });

  test('a stream cut off mid-call resumes with Last-Event-ID', async () => {
    const { res, sid } = await initialize('application/json, text/event-stream');
    await res.arrayBuffer();
    const h = { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    await fetch(`${t.gw.url}/mcp`, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const ac = new AbortController();
    const call = await fetch(`${t.gw.url}/mcp`, {
      method: 'POST',
      headers: h,
      signal: ac.signal,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'fixture-slow', arguments: { ms: 300 } } }),
    });
    // The first event primes the stream with an id; the client then loses the connection.
    const reader = call.body!.getReader();
    let head = '';
    while (!/^id: .+$/m.test(head)) head += new TextDecoder().decode((await reader.read()).value);
    const lastId = /^id: (.+)$/m.exec(head)![1]!;
    ac.abort();
    // Until the server has seen the old connection go, it answers 409 (the stream is still live): retry.
    let resumed!: Response;
    await eventually(async () => {
      resumed = await fetch(`${t.gw.url}/mcp`, { method: 'GET', headers: { ...h, accept: 'text/event-stream', 'last-event-id': lastId } });
      if (resumed.status === 409) await resumed.arrayBuffer();
      return resumed.status !== 409;
    });
    assert.equal(resumed.status, 200);
    const r2 = resumed.body!.getReader();
    let text = '';
    while (!text.includes('"id":7')) text += new TextDecoder().decode((await r2.read()).value);
    await r2.cancel();
    assert.match(text, /max_in_flight=/);
  });
});

describe('keys on /mcp', () => {
  test('401 with WWW-Authenticate without the key; the key works in each header; it never reaches upstreams', async () => {
    const none = await fetch(`${keyed.gw.url}/mcp`, { method: 'POST', headers: HEADERS, body: INIT });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate')!, /^Bearer/);
    assert.equal(((await none.json()) as { jsonrpc: string }).jsonrpc, '2.0');
    for (const h of [{ authorization: 'Bearer sk-gw' }, { 'x-api-key': 'sk-gw' }, { 'x-litellm-api-key': 'sk-gw' }] as Record<string, string>[]) {
      const c = new Client({ name: 'k', version: '1' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`${keyed.gw.url}/mcp`), { requestInit: { headers: { ...h, 'x-mcp-fixture-x-tenant': 'acme' } } }),
      );
      const before = fixtureState().calls.length;
      const r = await c.callTool({ name: 'fixture-echo', arguments: { text: 'keyed' } });
      assert.deepEqual(r.content, [{ type: 'text', text: 'keyed' }]);
      const seen = fixtureState()
        .calls.slice(before)
        .find((x) => x.name === 'echo')!;
      assert.equal(seen.headers?.['x-tenant'], 'acme');
      assert.doesNotMatch(JSON.stringify(seen.headers), /sk-gw/);
      await c.close();
    }
  });
});

describe('/mcp/<server> relays both ways', () => {
  test('sampling and elicitation reach the client and their answers reach the upstream', async () => {
    const c = new Client({ name: 'relay', version: '1' }, { capabilities: { sampling: {}, elicitation: {} } });
    c.setRequestHandler(CreateMessageRequestSchema, async (req) => ({
      role: 'assistant',
      model: 'client-model',
      content: { type: 'text', text: `sampled "${(req.params.messages[0]!.content as { text: string }).text}"` },
    }));
    c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }));
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp/conf`)));
    try {
      const s = await c.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
      assert.deepEqual(s.content, [{ type: 'text', text: 'LLM response: sampled "hi"' }]);
      const e = await c.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } });
      assert.match((e.content as { text: string }[])[0]!.text, /action=accept.*ada@example.com/);
    } finally {
      await c.close();
    }
  });

  test('progress and logging notifications arrive on the request they belong to', async () => {
    const c = new Client({ name: 'notes', version: '1' });
    const logs: LoggingMessageNotification['params'][] = [];
    c.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => void logs.push(n.params));
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp/conf`)));
    try {
      const progress: number[] = [];
      await c.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, { onprogress: (p) => void progress.push(p.progress) });
      assert.deepEqual(progress, [0, 50, 100]);
      await c.callTool({ name: 'test_tool_with_logging', arguments: {} });
      assert.deepEqual(
        logs.map((l) => l.data),
        ['Tool execution started', 'Tool processing data', 'Tool execution completed'],
      );
      // names and URIs are the upstream's own
      const prompts = await c.listPrompts();
      assert.ok(prompts.prompts.some((p) => p.name === 'test_simple_prompt'));
      const done = await c.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } });
      assert.deepEqual(done.completion.values, ['paris', 'park', 'party']);
    } finally {
      await c.close();
    }
  });

  test('an unknown server is a 404', async () => {
    const r = await fetch(`${t.gw.url}/mcp/nope`, { method: 'POST', headers: HEADERS, body: INIT });
    assert.equal(r.status, 404);
  });
});
