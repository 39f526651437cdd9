/**
 * /metrics as Prometheus scrapes it, parsed with a Prometheus text parser, after a scripted run: one
 * response whose model calls two MCP tools (one succeeds, one fails as a tool error), a streamed answer,
 * a denied approval and a call through /mcp. The counts and outcomes are exact; the master key guards it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import parse from 'parse-prometheus-text-format';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const MASTER = 'sk-master-metrics';
let t: TestGateway;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({ general_settings: { master_key: MASTER }, mcp_servers: { fixture: { url: fixture.url } } });
});
after(async () => {
  await t.close();
  await fixture.close();
});

const post = (path: string, body: unknown, key = MASTER) =>
  fetch(`${t.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

type Families = Map<string, ReturnType<typeof parse>[number]> & { text: string };

async function scrape(): Promise<Families> {
  const res = await fetch(`${t.gw.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return Object.assign(new Map(parse(text).map((f) => [f.name, f])), { text });
}

/**
 * A histogram's observation count for one label set, from its `_count` line (the parser merges a
 * histogram's label sets into one entry).
 */
function observations(families: Families, name: string, labels: Record<string, string>): number {
  assert.ok(families.has(name), `no metric ${name}`);
  const line = families.text.split('\n').find((l) => l.startsWith(`${name}_count{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** The value of the sample whose labels include `labels` (0 when there is none). */
function value(families: Families, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  assert.ok(family, `no metric ${name}`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}

test('with a master key, /metrics takes it: none is 401, a virtual key 403', async () => {
  assert.equal((await fetch(`${t.gw.url}/metrics`)).status, 401);
  const { key } = (await (await post('/key/generate', {})).json()) as { key: string };
  assert.equal((await fetch(`${t.gw.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status, 403);
});

test('after a scripted run, the counts and outcomes are exact', async () => {
  const tool = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' };
  t.mock.always(
    'two-tools',
    callThenAnswer([
      { name: 'fixture-add', arguments: { a: 1, b: 2 } },
      { name: 'fixture-fail', arguments: { reason: 'on purpose' } },
    ]),
  );
  const r = await post('/v1/responses', { model: 'c/two-tools', input: 'go', tools: [tool] });
  assert.equal(r.status, 200);
  // its access line: route, status, model, tokens and tool calls
  const id = r.headers.get('x-request-id');
  const line = t.logs.find((l) => l.msg === 'request' && l.req_id === id)!;
  const usage = ((await r.json()) as any).usage;
  assert.deepEqual(
    [line.route, line.status, line.model, line.tokens, line.tool_calls, line.key],
    ['/v1/responses', 200, 'c/two-tools', { input: usage.input_tokens, output: usage.output_tokens }, 2, undefined],
  );
  // a streamed answer: one more model call, with a first token
  const streamed = await post('/v1/responses', { model: 'r/streamed', input: 'hello', stream: true });
  assert.equal(streamed.status, 200);
  await streamed.text();
  // an approval asked for and denied
  t.mock.always('ask-first', callThenAnswer([{ name: 'fixture-echo', arguments: { text: 'x' } }]));
  const ask = { ...tool, require_approval: 'always' };
  const asked = (await (await post('/v1/responses', { model: 'c/ask-first', input: 'echo', tools: [ask] })).json()) as any;
  const request = asked.output.find((i: any) => i.type === 'mcp_approval_request');
  const denied = await post('/v1/responses', {
    model: 'c/ask-first',
    tools: [ask],
    previous_response_id: asked.id,
    input: [{ type: 'mcp_approval_response', approval_request_id: request.id, approve: false }],
  });
  assert.equal(denied.status, 200);
  // a call through /mcp
  const c = new Client({ name: 'metrics-test', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MASTER}` } } }));
  try {
    await c.callTool({ name: 'fixture-echo', arguments: { text: 'through /mcp' } });
    const single = new Client({ name: 'metrics-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp/fixture`), {
      requestInit: { headers: { authorization: `Bearer ${MASTER}` } },
    });
    await single.connect(transport);
    await single.callTool({ name: 'echo', arguments: { text: 'through /mcp/fixture' } });
    await transport.terminateSession(); // the session ends: the gauge counts the /mcp one only
    await single.close();
    const m = await scrape();
    assert.equal(value(m, 'toolgate_mcp_sessions'), 1);
    assert.equal(value(m, 'toolgate_mcp_tool_calls_total', { server: 'fixture', tool: 'add', outcome: 'ok' }), 1);
    assert.equal(value(m, 'toolgate_mcp_tool_calls_total', { server: 'fixture', tool: 'fail', outcome: 'tool_error' }), 1);
    assert.equal(value(m, 'toolgate_mcp_tool_calls_total', { server: 'fixture', tool: 'echo', outcome: 'denied' }), 1);
    assert.equal(value(m, 'toolgate_mcp_tool_calls_total', { server: 'fixture', tool: 'echo', outcome: 'ok' }), 2, 'the /mcp and /mcp/fixture calls');
    assert.equal(m.get('toolgate_mcp_tool_calls_total')!.metrics.length, 4, 'no other outcome');
    assert.equal(observations(m, 'toolgate_mcp_tool_call_duration_seconds', { server: 'fixture', tool: 'add' }), 1);
    // two model calls for the tool run, one streamed, one asking for approval, one after the denial
    assert.equal(observations(m, 'toolgate_model_call_duration_seconds', { model: 'c/*', provider: 'openai' }), 4);
    assert.equal(observations(m, 'toolgate_model_call_duration_seconds', { model: 'r/*', provider: 'openai' }), 1);
    assert.equal(observations(m, 'toolgate_model_time_to_first_token_seconds', { model: 'r/*' }), 1);
    assert.equal(observations(m, 'toolgate_model_time_to_first_token_seconds', { model: 'c/*' }), 0, 'non-streamed calls have no first token');
    assert.ok(value(m, 'toolgate_model_tokens_total', { model: 'r/*', direction: 'output' }) > 0);
    assert.equal(value(m, 'toolgate_http_requests_total', { route: '/v1/responses', method: 'POST', status: '200' }), 4);
    assert.equal(observations(m, 'toolgate_http_request_duration_seconds', { route: '/v1/responses' }), 4);
    assert.equal(value(m, 'toolgate_mcp_upstream_up', { server: 'fixture' }), 1);
    assert.ok(value(m, 'toolgate_mcp_list_tools_total', { server: 'fixture', cache: 'miss' }) >= 1);
    assert.ok(value(m, 'toolgate_mcp_list_tools_total', { server: 'fixture', cache: 'hit' }) >= 1);
    assert.equal(value(m, 'toolgate_open_streams'), 0);
    // label values are bounded: no response, request or key ids anywhere
    for (const f of m.values()) for (const s of f.metrics) for (const v of Object.values(s.labels ?? {})) assert.doesNotMatch(v, /resp_|req_|sk-|mcpr_/);
  } finally {
    await c.close();
  }
});

test('requests and spend by team', async () => {
  const { team_id } = (await (await post('/team/new', { team_alias: 'platform' })).json()) as { team_id: string };
  const { key } = (await (await post('/key/generate', { team_id, key_alias: 'ci-agent' })).json()) as { key: string };
  const r = await post('/v1/responses', { model: 'c/x', input: 'x' }, key);
  assert.equal(r.status, 200);
  const line = t.logs.find((l) => l.msg === 'request' && l.req_id === r.headers.get('x-request-id'))!;
  assert.equal(line.key, 'ci-agent', 'the access line names the key by its alias, never the key');
  assert.equal(value(await scrape(), 'toolgate_team_requests_total', { team: 'platform' }), 1);
});
