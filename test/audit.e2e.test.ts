/**
 * The tool-call audit trail as an operator reads it: after a scripted run (two calls, one failing; an
 * approval asked for and denied; a call through /mcp and one through /mcp/<server>), GET /audit/tool_calls
 * lists every one with its outcome, filters and pages, and the store holds of the arguments only their size
 * and SHA-256.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const MASTER = 'sk-master-audit';
const SECRET = 'the-secret-argument-7f3a';
const db = join(mkdtempSync(join(tmpdir(), 'toolgate-audit-')), 'toolgate.db');
let t: TestGateway;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    general_settings: { master_key: MASTER, database_url: `sqlite:${db}` },
    mcp_servers: { fixture: { url: fixture.url } },
  });
});
after(async () => {
  await t.close();
  await fixture.close();
});

const post = (path: string, body: unknown, key = MASTER) =>
  fetch(`${t.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

async function audit(query = '', key = MASTER): Promise<{ status: number; json: any }> {
  const res = await fetch(`${t.gw.url}/audit/tool_calls${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: await res.json() };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('every tool call of a scripted run is listed with its outcome, filterable and paged; of the arguments only size and hash are kept', async () => {
  const tool = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' };
  const failArgs = { reason: SECRET };
  t.mock.always(
    'audited',
    callThenAnswer([
      { name: 'fixture-add', arguments: { a: 1, b: 2 } },
      { name: 'fixture-fail', arguments: failArgs },
    ]),
  );
  const run = await post('/v1/responses', { model: 'c/audited', input: 'go', tools: [tool] });
  assert.equal(run.status, 200);
  const runId = ((await run.json()) as any).id;
  const requestId = run.headers.get('x-request-id');
  t.mock.always('ask', callThenAnswer([{ name: 'fixture-echo', arguments: { text: 'approve me?' } }]));
  const ask = { ...tool, require_approval: 'always' };
  const asked = (await (await post('/v1/responses', { model: 'c/ask', input: 'x', tools: [ask] })).json()) as any;
  const request = asked.output.find((i: any) => i.type === 'mcp_approval_request');
  await post('/v1/responses', {
    model: 'c/ask',
    tools: [ask],
    previous_response_id: asked.id,
    input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: false }],
  });
  for (const path of ['/mcp', '/mcp/fixture']) {
    const c = new Client({ name: 'audit-test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } }));
    await c.callTool({ name: path === '/mcp' ? 'fixture-echo' : 'echo', arguments: { text: path } });
    await c.close();
  }

  // Records are written in batches, off the request path: wait for all six.
  let all: any[] = [];
  for (const deadline = Date.now() + 5000; all.length < 6; await new Promise((r) => setTimeout(r, 50))) {
    assert.ok(Date.now() < deadline, `only ${all.length} records`);
    all = (await audit('?limit=100')).json.data;
  }
  const summary = all.map((r) => [r.tool, r.outcome]).sort();
  assert.deepEqual(summary, [
    ['add', 'ok'],
    ['echo', 'approval_requested'],
    ['echo', 'denied'],
    ['echo', 'ok'],
    ['echo', 'ok'],
    ['fail', 'tool_error'],
  ]);
  const failed = all.find((r) => r.tool === 'fail');
  assert.deepEqual(
    [failed.server, failed.caller, failed.request_id, failed.response_id, failed.arguments_bytes, failed.arguments_sha256],
    ['fixture', 'master', requestId, runId, JSON.stringify(failArgs).length, sha256(JSON.stringify(failArgs))],
  );
  assert.ok(failed.duration_ms >= 0);
  const denied = all.find((r) => r.outcome === 'denied');
  assert.equal(denied.approval_request_id, request.id);
  assert.equal(JSON.stringify(all).includes(SECRET), false, 'no argument in the answer');
  const stored = new DatabaseSync(db, { readOnly: true });
  try {
    assert.equal(JSON.stringify(stored.prepare('SELECT * FROM tool_audit').all()).includes(SECRET), false, 'nor in the store');
  } finally {
    stored.close();
  }

  // Filters
  assert.deepEqual(
    (await audit('?outcome=tool_error')).json.data.map((r: any) => r.tool),
    ['fail'],
  );
  assert.equal((await audit('?tool=echo')).json.data.length, 4);
  assert.equal((await audit('?server=nowhere')).json.data.length, 0);
  const future = new Date(Date.now() + 60_000).toISOString();
  assert.equal((await audit(`?start=${future}`)).json.data.length, 0);
  assert.equal((await audit(`?end=${future}`)).json.data.length, 6);
  // Pages of two, newest first, adding up to the whole
  const paged: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { json: any } = await audit(`?limit=2${cursor ? `&after=${cursor}` : ''}`);
    paged.push(...page.json.data);
    cursor = page.json.next_cursor;
    assert.equal(page.json.has_more, cursor !== null);
  } while (cursor);
  assert.deepEqual(
    paged.map((r) => r.id),
    all.map((r) => r.id),
  );
  assert.ok(all.every((r, i) => i === 0 || all[i - 1].time >= r.time));
});

test('only the master key reads it; a bad query is a 400 naming the field', async () => {
  assert.equal((await fetch(`${t.gw.url}/audit/tool_calls`)).status, 401);
  const { key } = (await (await post('/key/generate', {})).json()) as { key: string };
  assert.equal((await audit('', key)).status, 403);
  const bad = await audit('?outcome=exploded');
  assert.deepEqual([bad.status, bad.json.error.param], [400, 'outcome']);
});
