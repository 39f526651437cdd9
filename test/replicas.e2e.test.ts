/**
 * Two gateway processes, A and B, run one config behind an imaginary round-robin balancer: one PostgreSQL
 * schema and one Redis key prefix of their own (dropped and deleted after), the mock provider and a fixture
 * MCP server in this process. What a platform team relies on: keys, responses, approvals, limits, budgets
 * and tool-list changes hold across replicas.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { fixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startMockProvider, type MockProvider } from '../fixtures/mock-provider.ts';
import { mockRoutes, serveProcess, writeConfig } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
const MASTER = 'sk-master-replicas';
const PRICES = { input_cost_per_token: 0.000002, output_cost_per_token: 0.00001 };
const hex = randomBytes(6).toString('hex');
const SCHEMA = `toolgate_test_${hex}`;
const PREFIX = `toolgate-test-${hex}:`;

let mock: MockProvider;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
const replicas: Awaited<ReturnType<typeof serveProcess>>[] = [];
let A: string;
let B: string;

before(async () => {
  mock = await startMockProvider();
  fixture = await startFixtureHttpServer();
  const config = writeConfig({
    general_settings: { master_key: MASTER, database_url: `${PG_BASE}?schema=${SCHEMA}`, redis_url: REDIS_URL, redis_prefix: PREFIX },
    model_list: [
      { model_name: 'priced', litellm_params: { model: 'openai/priced-upstream', api_base: mock.openaiBase, api_key: 'sk-mock', ...PRICES } },
      ...mockRoutes(mock),
    ],
    mcp_servers: { fixture: { url: fixture.url } },
  });
  // One at a time: the first runs the migrations, the second finds them done.
  for (let i = 0; i < 2; i++) replicas.push(await serveProcess(config));
  [A, B] = replicas.map((r) => r.url) as [string, string];
});

after(async () => {
  await Promise.all(
    replicas.map(async (r) => {
      r.child.kill('SIGTERM');
      await r.exited;
    }),
  );
  await mock.close();
  await fixture.close();
  const sql = postgres(PG_BASE, { max: 1, onnotice: () => {} });
  await sql`DROP SCHEMA IF EXISTS ${sql(SCHEMA)} CASCADE`;
  await sql.end({ timeout: 5 });
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

async function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown, key = MASTER) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null, text };
}

const newKey = async (on: string, body: Record<string, unknown>) => (await call(on, 'POST', '/key/generate', body)).json as { key: string; token: string };
const respond = (on: string, key: string, body: Record<string, unknown>) => call(on, 'POST', '/v1/responses', body, key);

describe('two gateway processes on one PostgreSQL and one Redis', () => {
  test('a key made on A works on B at once', async () => {
    const { key } = await newKey(A, { models: ['c/*'] });
    const r = await respond(B, key, { model: 'c/hello', input: 'hi' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await respond(B, key, { model: 'a/hidden', input: 'hi' })).status, 404, 'with its grant');
  });

  test('a response made on A is continued on B with previous_response_id', async () => {
    const { key } = await newKey(A, {});
    mock.enqueue('first-turn', { text: 'The answer is 42.' });
    const first = await respond(A, key, { model: 'c/first-turn', input: 'What is the answer?' });
    assert.equal(first.status, 200, first.text);
    mock.enqueue('second-turn', { text: 'Yes.' });
    const second = await respond(B, key, { model: 'c/second-turn', input: 'Sure?', previous_response_id: first.json.id });
    assert.equal(second.status, 200, second.text);
    const messages = mock.requestsFor('second-turn').at(-1)!.body.messages;
    assert.deepEqual(
      messages.map((m: any) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.equal(messages[1].content, 'The answer is 42.');
  });

  test('an approval requested through A is approved through B, and B runs the tool', async () => {
    fixtureState().calls.length = 0;
    mock.always('approve-me', callThenAnswer([{ name: 'fixture-add', arguments: { a: 20, b: 22 } }]));
    const tool = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'always' };
    const asked = await respond(A, MASTER, { model: 'c/approve-me', input: 'add', tools: [tool] });
    assert.equal(asked.status, 200, asked.text);
    const request = asked.json.output.find((i: any) => i.type === 'mcp_approval_request');
    assert.ok(request, asked.text);
    assert.deepEqual(fixtureState().calls, [], 'nothing ran before the approval');
    const approved = await respond(B, MASTER, {
      model: 'c/approve-me',
      tools: [tool],
      previous_response_id: asked.json.id,
      input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: true }],
    });
    assert.equal(approved.status, 200, approved.text);
    const ran = approved.json.output.find((i: any) => i.type === 'mcp_call');
    assert.deepEqual([ran.name, ran.output?.split('\n')[0], ran.approval_request_id], ['add', '42', request.id]);
    assert.deepEqual(
      fixtureState().calls.map((c) => c.name),
      ['add'],
    );
  });

  test('rpm 4: the fifth request in the minute is refused with 429 whichever replica receives it', async () => {
    const { key } = await newKey(A, { rpm_limit: 4 });
    const statuses = [];
    for (const on of [A, B, A, B, A, B]) statuses.push((await respond(on, key, { model: 'c/rpm', input: 'x' })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  });

  test('a key deleted on A is refused on B within a second', async () => {
    const { key } = await newKey(A, {});
    assert.equal((await respond(B, key, { model: 'c/x', input: 'x' })).status, 200, 'B has read (and cached) the key');
    assert.equal((await call(A, 'POST', '/key/delete', { keys: [key] })).status, 200);
    const deleted = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - deleted < 1000) status = (await respond(B, key, { model: 'c/x', input: 'x' })).status;
    assert.equal(status, 401, `still accepted ${Date.now() - deleted} ms after its deletion`);
  });

  test('a budget of $0.0001 refuses, on either replica, the request after the one that crossed it', async () => {
    const { key, token } = await newKey(A, { max_budget: 0.0001 });
    let spent = 0;
    for (let i = 0; spent < 0.0001; i++) {
      assert.ok(i < 50, 'the budget was never crossed');
      const r = await respond(i % 2 ? B : A, key, { model: 'priced', input: 'spend a little' });
      assert.equal(r.status, 200, r.text);
      spent += Number(r.headers.get('x-litellm-response-cost'));
    }
    for (const on of [A, B]) {
      const refused = await respond(on, key, { model: 'priced', input: 'one more' });
      assert.deepEqual([refused.status, refused.json.error.code], [429, 'insufficient_quota']);
    }
    // Spend reaches the store in batches, off the request path; then /key/info and /spend/logs show it.
    for (;;) {
      const info = await call(B, 'GET', `/key/info?key=${token}`);
      if (Math.abs(info.json.info.spend - spent) < 1e-12) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const logs = (await call(A, 'GET', `/spend/logs?api_key=${token}`)).json as any[];
    assert.ok(Math.abs(logs.reduce((s, l) => s + l.spend, 0) - spent) < 1e-12);
  });

  test("an upstream's list_changed heard by A drops B's tool cache, and B tells its own /mcp sessions", async () => {
    const c = new Client({ name: 'replica-b', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${B}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } }));
    try {
      assert.ok(!(await c.listTools()).tools.some((t) => t.name === 'fixture-grown'), 'B has listed (and cached) the tools');
      const changed = new Promise<void>((resolve) => c.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
      mock.always('grow', callThenAnswer([{ name: 'fixture-add_tool', arguments: { name: 'grown' } }]));
      const tool = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' };
      assert.equal((await respond(A, MASTER, { model: 'c/grow', input: 'grow', tools: [tool] })).status, 200);
      await changed;
      assert.ok((await c.listTools()).tools.some((t) => t.name === 'fixture-grown'));
    } finally {
      fixtureState().extraTools.length = 0;
      await c.close();
    }
  });

  test('an aggregated /mcp session opened on A is served by B under the same id; a tampered id or another key is "not found"', async () => {
    const onA = new StreamableHTTPClientTransport(new URL(`${A}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } });
    const a = new Client({ name: 'balanced', version: '1' });
    await a.connect(onA);
    const sid = onA.sessionId!;
    const onB = new StreamableHTTPClientTransport(new URL(`${B}/mcp`), { sessionId: sid, requestInit: { headers: { authorization: `Bearer ${MASTER}` } } });
    const b = new Client({ name: 'balanced', version: '1' });
    await b.connect(onB); // a transport that has a session id does not initialize again
    try {
      const sum = await b.callTool({ name: 'fixture-add', arguments: { a: 2, b: 3 } });
      assert.equal((sum.structuredContent as { sum: number }).sum, 5);
      assert.equal(onB.sessionId, sid);
      assert.ok((await b.listTools()).tools.some((t) => t.name === 'fixture-echo'));
      const list = (sessionId: string, key = MASTER, on = B) =>
        fetch(`${on}/mcp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${key}`,
            'mcp-session-id': sessionId,
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
      const forged = `${sid.slice(0, sid.indexOf('.') - 2)}AA${sid.slice(sid.indexOf('.'))}`;
      assert.equal((await list(forged)).status, 404);
      assert.equal((await list(sid, (await newKey(A, {})).key)).status, 404);
      // Deleted through B: A, which opened it, serves it no more either.
      await onB.terminateSession();
      assert.equal((await list(sid)).status, 404);
      const deleted = Date.now();
      const onAStill = () => list(sid, MASTER, A).then((r) => r.status);
      let status = 200;
      while (status === 200 && Date.now() - deleted < 1000) status = await onAStill();
      assert.equal(status, 404, 'A heard of the deletion');
    } finally {
      await b.close();
      await a.close();
    }
  });

  test('a /mcp/<server> session lives where its upstream session is: on the other replica it is "not found", so the client opens a new one (or the balancer keeps it sticky)', async () => {
    const onA = new StreamableHTTPClientTransport(new URL(`${A}/mcp/fixture`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } });
    const a = new Client({ name: 'passthrough', version: '1' });
    await a.connect(onA);
    try {
      const res = await fetch(`${B}/mcp/fixture`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${MASTER}`,
          'mcp-session-id': onA.sessionId!,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      assert.equal(res.status, 404);
      const again = new Client({ name: 'passthrough', version: '1' });
      await again.connect(new StreamableHTTPClientTransport(new URL(`${B}/mcp/fixture`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } }));
      assert.ok((await again.listTools()).tools.some((t) => t.name === 'echo'));
      await again.close();
    } finally {
      await a.close();
    }
  });
});
