/**
 * OpenTelemetry traces as a collector receives them: an in-process OTLP/HTTP (JSON) receiver is the
 * endpoint. One request with a `traceparent` gives one trace: the HTTP span under the client's span, a span
 * per model call and per MCP call under it, with the GenAI and MCP semantic conventions' attributes; the
 * provider gets the trace context in its headers, the MCP upstream in its headers and in `_meta`; `/mcp`
 * continues a client's `_meta.traceparent`. No prompt or tool content goes into spans.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number };
}

const spans: ReceivedSpan[] = [];
let receiver: Server;
let t: TestGateway;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

/** OTLP/JSON attribute values: `{stringValue}`, `{intValue}` (a string), `{boolValue}`, `{doubleValue}`. */
function attributes(list: { key: string; value: Record<string, unknown> }[] = []): Record<string, unknown> {
  return Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue))]),
  );
}

before(async () => {
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) spans.push({ ...s, attributes: attributes(s.attributes), parentSpanId: s.parentSpanId || undefined });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // The standard variables, as an operator sets them; the exporter reads them from the process.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '20';
  process.env.OTEL_SERVICE_NAME = 'toolgate-under-test';
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({ mcp_servers: { fixture: { url: fixture.url } } });
});
after(async () => {
  await t.close();
  await fixture.close();
  await new Promise((resolve) => receiver.close(resolve));
});

/** The spans of one trace, once `count` have arrived. */
async function trace(traceId: string, count: number): Promise<ReceivedSpan[]> {
  for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 20))) {
    const found = spans.filter((s) => s.traceId === traceId);
    if (found.length >= count) return found;
    assert.ok(Date.now() < deadline, `only ${found.length} spans of ${count} arrived: ${found.map((s) => s.name).join(', ')}`);
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

test('one request, one trace: the HTTP span under the client span, model and MCP calls under it, the context passed on', async () => {
  const traceId = hex(16);
  const clientSpan = hex(8);
  fixtureState().calls.length = 0;
  t.mock.always(
    'traced',
    callThenAnswer([
      { name: 'fixture-add', arguments: { a: 2, b: 3 } },
      { name: 'fixture-fail', arguments: { reason: 'traced failure' } },
    ]),
  );
  const res = await fetch(`${t.gw.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpan}-01` },
    body: JSON.stringify({
      model: 'c/traced',
      input: 'a secret prompt 41c9',
      tools: [{ type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' }],
    }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  const all = await trace(traceId, 5);
  const http = all.find((s) => s.name === 'POST /v1/responses')!;
  assert.ok(http, all.map((s) => s.name).join(', '));
  assert.equal(http.parentSpanId, clientSpan, 'the client span is the parent');
  assert.deepEqual([http.attributes['http.route'], http.attributes['http.response.status_code']], ['/v1/responses', 200]);

  const models = all.filter((s) => s.name === 'chat c/traced');
  assert.equal(models.length, 2);
  for (const m of models) {
    assert.equal(m.parentSpanId, http.spanId);
    assert.deepEqual(
      [
        m.attributes['gen_ai.operation.name'],
        m.attributes['gen_ai.provider.name'],
        m.attributes['gen_ai.request.model'],
        m.attributes['gen_ai.response.model'],
      ],
      ['chat', 'openai', 'c/traced', 'c/traced'],
    );
    assert.ok((m.attributes['gen_ai.usage.input_tokens'] as number) > 0 && (m.attributes['gen_ai.usage.output_tokens'] as number) > 0);
  }
  const calls = all.filter((s) => s.name.startsWith('tools/call '));
  assert.deepEqual(calls.map((c) => c.name).sort(), ['tools/call add', 'tools/call fail']);
  for (const c of calls) {
    assert.equal(c.parentSpanId, http.spanId);
    assert.equal(c.attributes['mcp.method.name'], 'tools/call');
    assert.ok(c.attributes['mcp.session.id'], 'the upstream session');
    assert.ok(c.attributes['mcp.protocol.version']);
  }
  const failed = calls.find((c) => c.name === 'tools/call fail')!;
  assert.equal(failed.attributes['error.type'], 'tool_error');
  assert.equal(calls.find((c) => c.name === 'tools/call add')!.attributes['error.type'], undefined);

  // The provider got the model span's context; the MCP upstream the call span's, as a header and in _meta.
  const providerCalls = t.mock.requestsFor('traced');
  assert.deepEqual(providerCalls.map((r) => r.headers.traceparent).sort(), models.map((m) => `00-${traceId}-${m.spanId}-01`).sort());
  const add = fixtureState().calls.find((c) => c.name === 'add')!;
  const addSpan = calls.find((c) => c.name === 'tools/call add')!;
  assert.equal(add.meta?.traceparent, `00-${traceId}-${addSpan.spanId}-01`);
  assert.equal(add.headers?.traceparent, `00-${traceId}-${addSpan.spanId}-01`);

  // Nothing of the prompt or the tools' contents in any span.
  assert.equal(JSON.stringify(all).includes('41c9'), false);
  assert.equal(JSON.stringify(all).includes('traced failure'), false);
  assert.ok(body.id);
});

test('/mcp: a tools/call continues the client’s _meta.traceparent in a server span, and the upstream call under it', async () => {
  const traceId = hex(16);
  const clientSpan = hex(8);
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(`${t.gw.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'trace-test', version: '1' } },
    }),
  });
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  const call = await fetch(`${t.gw.url}/mcp`, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'fixture-echo', arguments: { text: 'hi' }, _meta: { traceparent: `00-${traceId}-${clientSpan}-01` } },
    }),
  });
  assert.equal(call.status, 200);
  await call.text();
  const [server] = await trace(traceId, 1);
  assert.deepEqual(
    [server!.name, server!.parentSpanId, server!.kind, server!.attributes['mcp.method.name'], server!.attributes['gen_ai.tool.name']],
    ['tools/call fixture-echo', clientSpan, 2, 'tools/call', 'fixture-echo'],
  );
  assert.deepEqual(
    [server!.attributes['mcp.session.id'], server!.attributes['jsonrpc.request.id'], server!.attributes['mcp.protocol.version']],
    [sid, '7', '2025-11-25'],
  );
  const echo = fixtureState().calls.findLast((c) => c.name === 'echo')!;
  assert.match(String(echo.meta?.traceparent), new RegExp(`^00-${traceId}-`), 'the upstream call is in the same trace');
});

test('the access line carries the trace id', async () => {
  const traceId = hex(16);
  const res = await fetch(`${t.gw.url}/v1/models`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
  await res.text();
  const id = res.headers.get('x-request-id');
  assert.equal(t.logs.find((l) => l.msg === 'request' && l.req_id === id)?.trace_id, traceId);
});
