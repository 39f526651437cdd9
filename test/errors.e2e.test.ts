/**
 * Failure paths: retries and failover, unreachable and slow upstreams, broken streams, client aborts,
 * bad inputs, auth and the browser guard. Every error must have OpenAI's shape, and the server must
 * keep serving.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';

let t: TestGateway;
let keyed: TestGateway;
let client: OpenAI;
const DEAD = 'http://127.0.0.1:1/v1';
const MASTER = 'sk-secret-master-key';

before(async () => {
  t = await startTestGateway({
    model_list: [
      { model_name: 'down', litellm_params: { model: 'openai/down', api_base: DEAD, api_key: 'sk-dead', max_retries: 0 } },
      { model_name: 'slow/*', litellm_params: { model: 'openai/*', api_base: 'MOCK', api_key: 'sk-slow', timeout: 0.3, max_retries: 0 } },
      { model_name: 'grp', litellm_params: { model: 'openai/grp-dead', api_base: 'MOCK', api_key: 'sk-dead', max_retries: 0 } },
      { model_name: 'grp', litellm_params: { model: 'openai/grp-live', api_base: 'MOCK', api_key: 'sk-live' } },
      { model_name: 'pair', litellm_params: { model: 'openai/pair-1', api_base: 'MOCK', api_key: 'sk-1' } },
      { model_name: 'pair', litellm_params: { model: 'openai/pair-2', api_base: 'MOCK', api_key: 'sk-2' } },
    ],
    general_settings: { max_request_size_mb: 1, sse_keepalive_seconds: 0.05 },
  });
  t.mock.always('grp-dead', { error: { status: 500, message: 'dead' } });
  client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  keyed = await startTestGateway({ general_settings: { master_key: MASTER } });
});
after(async () => {
  await t.close();
  await keyed.close();
});

let n = 0;
const uniq = (label: string) => `err-${label}-${++n}`;

async function post(path: string, body: unknown, headers: Record<string, string> = {}, base = t.gw.url) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

function assertErrorShape(json: any) {
  assert.ok(json && typeof json.error === 'object', `error body: ${JSON.stringify(json)}`);
  assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof json.error.message, 'string');
  assert.doesNotMatch(json.error.message, /\n\s+at /, 'no stack trace');
}

async function stillServing(base = t.gw.url) {
  assert.equal((await fetch(`${base}/health`)).status, 200);
}

describe('upstream failures', () => {
  test('a 500 then success: the gateway retries, the client sees success', async () => {
    const m = uniq('retry');
    t.mock.enqueue(m, { error: { status: 500, message: 'boom' } }, { text: 'recovered' });
    const r = await client.responses.create({ model: `c/${m}`, input: 'x' });
    assert.equal(r.output_text, 'recovered');
    assert.equal(t.mock.requestsFor(m).length, 2);
  });

  test('persistent 5xx becomes 502 after the retries', async () => {
    const m = uniq('5xx');
    t.mock.enqueue(m, { error: { status: 503, message: 'overloaded' } }, { error: { status: 503, message: 'overloaded' } });
    const r = await post('/v1/responses', { model: `c/${m}`, input: 'x' });
    assert.equal(r.status, 502);
    assertErrorShape(r.json);
    assert.match(r.json.error.message, /overloaded/);
    assert.equal(t.mock.requestsFor(m).length, 2); // 1 + max_retries (1)
  });

  test('provider 4xx is passed on with its status and message', async () => {
    const m = uniq('4xx');
    t.mock.enqueue(m, { error: { status: 400, message: 'context too long', type: 'invalid_request_error' } });
    const r = await post('/v1/responses', { model: `a/${m}`, input: 'x' });
    assert.equal(r.status, 400);
    assertErrorShape(r.json);
    assert.equal(r.json.error.message, 'context too long');
    assert.equal(t.mock.requestsFor(m).length, 1, '4xx is not retried');
  });

  test('upstream down: 502, stream or not, for both APIs', async () => {
    for (const [path, body] of [
      ['/v1/responses', { model: 'down', input: 'x' }],
      ['/v1/responses', { model: 'down', input: 'x', stream: true }],
      ['/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'x' }] }],
      ['/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'x' }], stream: true }],
    ] as const) {
      const r = await post(path, body);
      assert.equal(r.status, 502, `${path} ${JSON.stringify(body)}`);
      assertErrorShape(r.json);
      assert.equal(r.json.error.code, 'upstream_unavailable');
      assert.doesNotMatch(r.text, /sk-dead/);
    }
    await assert.rejects(client.responses.create({ model: 'down', input: 'x' }), (e: any) => e.status === 502);
  });

  test('upstream too slow: 504', async () => {
    const m = uniq('slow');
    t.mock.enqueue(m, { delayMs: 1500, text: 'late' });
    const r = await post('/v1/responses', { model: `slow/${m}`, input: 'x' });
    assert.equal(r.status, 504);
    assertErrorShape(r.json);
  });

  test('an upstream that goes silent mid-stream: the stream fails with a timeout, never hangs', async () => {
    const m = uniq('silent');
    t.mock.enqueue(m, { text: 'first then nothing for a long while', chunkDelayMs: 1500 });
    const { violations, events } = await streamResponse(t.gw.url, { model: `slow/${m}`, input: 'x' });
    assert.deepEqual(violations, []);
    const last = events.at(-1);
    assert.equal(last.type, 'response.failed');
    // response.failed's code is OpenAI's closed set; the type says what happened.
    assert.equal(last.response.error.code, 'server_error');
    assert.equal(last.response.error.type, 'timeout_error');
    await t.mock.waitFor((r) => r.model === m && r.aborted);
  });

  test('a group fails over from a failing deployment to a live one', async () => {
    // The group's order rotates per request, so one of two requests in a row tries the failing one first.
    for (let i = 0; i < 2; i++) {
      const r = await client.responses.create({ model: 'grp', input: `try ${i}` });
      assert.equal(r.output_text, `echo: try ${i}`);
    }
    assert.equal(t.mock.requestsFor('grp-dead').length, 1, 'the failing deployment was tried');
    assert.equal(t.mock.requestsFor('grp-live').length, 2, 'the live deployment served both');
  });

  test('a group balances load across its deployments', async () => {
    for (let i = 0; i < 4; i++) await client.responses.create({ model: 'pair', input: 'x' });
    assert.equal(t.mock.requestsFor('pair-1').length, 2);
    assert.equal(t.mock.requestsFor('pair-2').length, 2);
  });

  test('mid-stream drop ends the Responses stream with response.failed', async () => {
    const m = uniq('drop');
    t.mock.enqueue(m, { text: 'this will be cut off somewhere in the middle', dropAfter: 4 });
    const { violations, events } = await streamResponse(t.gw.url, { model: `c/${m}`, input: 'x' });
    assert.deepEqual(violations, []);
    const last = events.at(-1);
    assert.equal(last.type, 'response.failed');
    assert.equal(last.response.status, 'failed');
    assert.equal(last.response.error.code, 'server_error');
    assert.ok(
      events.some((e) => e.type === 'response.output_text.delta'),
      'text before the drop was forwarded',
    );
    // the item cut off was closed
    assert.ok(events.some((e) => e.type === 'response.output_item.done' && e.item.status === 'incomplete'));
  });

  test('mid-stream drop: the SDK stream resolves with status failed, the Chat stream throws', async () => {
    const m = uniq('drop-sdk');
    t.mock.enqueue(m, { text: 'a b c d e f g h', dropAfter: 5 }, { text: 'a b c d e f g h', dropAfter: 5 });
    const final = await client.responses.stream({ model: `a/${m}`, input: 'x' }).finalResponse();
    assert.equal(final.status, 'failed');
    const chat = await client.chat.completions.create({ model: `a/${m}`, messages: [{ role: 'user', content: 'x' }], stream: true });
    await assert.rejects(async () => {
      for await (const _ of chat);
    }, /upstream stream/);
  });

  test('client abort cancels the upstream request', async () => {
    const m = uniq('abort');
    t.mock.enqueue(m, { text: 'one two three four five six', stallAfter: 3 });
    const ac = new AbortController();
    const stream = await client.responses.create({ model: `c/${m}`, input: 'x', stream: true }, { signal: ac.signal });
    let id = '';
    for await (const ev of stream) {
      if (ev.type === 'response.created') id = ev.response.id;
      if (ev.type === 'response.output_text.delta') break;
    }
    ac.abort();
    const seen = await t.mock.waitFor((r) => r.model === m && r.aborted);
    assert.equal(seen.aborted, true);
    await stillServing();
    // The stored response says what happened to it.
    for (let i = 0; i < 100; i++) {
      const r = await client.responses.retrieve(id);
      if (r.status !== 'in_progress') {
        assert.equal(r.status, 'failed');
        assert.equal(r.error?.code, 'server_error');
        assert.equal(r.error?.type, 'cancelled');
        assert.equal(r.error?.message, 'The client closed the connection.');
        return;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.fail('the response stayed in_progress');
  });

  test('keep-alive comments while the model is silent', async () => {
    const m = uniq('keepalive');
    t.mock.enqueue(m, { text: 'slow words', chunkDelayMs: 150 });
    const res = await fetch(`${t.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `c/${m}`, input: 'x', stream: true }),
    });
    const text = await res.text();
    assert.match(text, /^: keep-alive$/m);
    // and the SDK is not disturbed by them
    t.mock.enqueue(m, { text: 'slow words', chunkDelayMs: 150 });
    const final = await client.responses.stream({ model: `c/${m}`, input: 'x' }).finalResponse();
    assert.equal(final.output_text, 'slow words');
  });
});

describe('bad inputs', () => {
  test('malformed JSON', async () => {
    const r = await post('/v1/responses', '{"model": "c/x", "input": ');
    assert.equal(r.status, 400);
    assertErrorShape(r.json);
    assert.equal(r.json.error.code, 'invalid_json');
    await stillServing();
  });

  test('wrong types name the field', async () => {
    const r = await post('/v1/responses', { model: 'c/x', input: 'x', temperature: 'hot' });
    assert.equal(r.status, 400);
    assertErrorShape(r.json);
    assert.equal(r.json.error.param, 'temperature');
    assert.equal(r.json.error.code, 'invalid_type');
    const r2 = await post('/v1/chat/completions', { model: 'c/x', messages: [{ role: 'user', content: 5 }] });
    assert.equal(r2.status, 400);
    assert.equal(r2.json.error.param, 'messages[0].content');
    // an unknown field is not an error: a Chat upstream cannot take it, so it is dropped and reported
    const r3 = await post('/v1/responses', { model: 'c/x', input: 'x', bogus: 1 });
    assert.equal(r3.status, 200);
    assert.equal(r3.headers.get('x-toolgate-dropped-params'), 'bogus');
    await stillServing();
  });

  test('missing model', async () => {
    const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 400);
    assertErrorShape(r.json);
    assert.equal(r.json.error.param, 'model');
    assert.equal(r.json.error.code, 'missing_required_parameter');
  });

  test('unknown model: 404 model_not_found', async () => {
    for (const [path, body] of [
      ['/v1/responses', { model: 'no-such-model', input: 'x' }],
      ['/v1/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }],
    ] as const) {
      const r = await post(path, body);
      assert.equal(r.status, 404);
      assertErrorShape(r.json);
      assert.equal(r.json.error.code, 'model_not_found');
    }
    await assert.rejects(client.responses.create({ model: 'no-such-model', input: 'x' }), OpenAI.NotFoundError);
  });

  test('a 2 MB body with the limit at 1 MB: 413', async () => {
    const r = await post('/v1/responses', { model: 'c/x', input: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(r.status, 413);
    assertErrorShape(r.json);
    await stillServing();
  });

  test('a text/plain body: 415', async () => {
    const r = await post('/v1/responses', '{"model":"c/x","input":"x"}', { 'content-type': 'text/plain' });
    assert.equal(r.status, 415);
    assertErrorShape(r.json);
  });

  test('a foreign Origin or Host is refused without a key: 403', async () => {
    const r = await post('/v1/responses', { model: 'c/x', input: 'x' }, { origin: 'https://evil.example' });
    assert.equal(r.status, 403);
    assertErrorShape(r.json);
    // fetch cannot set Host; a DNS-rebinding page would send its own name there
    const status = await new Promise<number>((resolve, reject) =>
      request(`${t.gw.url}/v1/models`, { headers: { host: 'evil.example:4000' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end(),
    );
    assert.equal(status, 403);
    const ok = await post('/v1/responses', { model: 'c/x', input: 'x' }, { origin: 'http://localhost:3000' });
    assert.equal(ok.status, 200);
  });

  test('unknown route: 404 in the error shape', async () => {
    const r = await post('/v1/nothing-here', {});
    assert.equal(r.status, 404);
    assertErrorShape(r.json);
  });
});

describe('auth with a master key', () => {
  test('no key or a wrong key: 401', async () => {
    const none = await post('/v1/responses', { model: 'c/x', input: 'x' }, {}, keyed.gw.url);
    assert.equal(none.status, 401);
    assertErrorShape(none.json);
    const wrong = await post('/v1/responses', { model: 'c/x', input: 'x' }, { authorization: 'Bearer nope' }, keyed.gw.url);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'invalid_api_key');
    const sdk = new OpenAI({ baseURL: `${keyed.gw.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(sdk.models.list(), OpenAI.AuthenticationError);
    await stillServing(keyed.gw.url);
  });

  test('the key is accepted as Bearer, x-api-key or x-litellm-api-key', async () => {
    for (const h of [{ authorization: `Bearer ${MASTER}` }, { 'x-api-key': MASTER }, { 'x-litellm-api-key': MASTER }] as Record<string, string>[]) {
      const r = await post('/v1/responses', { model: 'c/keyed', input: 'hi' }, h, keyed.gw.url);
      assert.equal(r.status, 200, JSON.stringify(h));
    }
    const sdk = new OpenAI({ baseURL: `${keyed.gw.url}/v1`, apiKey: MASTER, maxRetries: 0 });
    assert.equal((await sdk.responses.create({ model: 'c/keyed', input: 'hello' })).output_text, 'echo: hello');
  });

  test('the gateway key is never forwarded upstream', async () => {
    for (const route of ['c', 'r', 'a'])
      for (const h of [{ authorization: `Bearer ${MASTER}` }, { 'x-api-key': MASTER }, { 'x-litellm-api-key': MASTER }] as Record<string, string>[])
        assert.equal((await post('/v1/responses', { model: `${route}/keyed-forward`, input: 'hi' }, h, keyed.gw.url)).status, 200);
    const seen = keyed.mock.requestsFor('keyed-forward');
    assert.equal(seen.length, 9);
    for (const r of seen) assert.doesNotMatch(JSON.stringify(r.headers), new RegExp(MASTER));
  });

  test('health needs no key', async () => {
    assert.equal((await fetch(`${keyed.gw.url}/health`)).status, 200);
    assert.equal((await fetch(`${keyed.gw.url}/health/readiness`)).status, 200);
  });
});

test('no credentials in any log line', async () => {
  // Traffic of its own, failures included (their log lines carry upstream errors), so that it proves something run alone.
  const m = uniq('creds');
  for (const route of ['c', 'r', 'a']) {
    t.mock.enqueue(`${m}-${route}`, { error: { status: 500, message: 'boom' } });
    assert.equal((await post('/v1/responses', { model: `${route}/${m}-${route}`, input: 'x' })).status, 200);
  }
  assert.equal((await post('/v1/responses', { model: 'down', input: 'x' })).status, 502);
  t.mock.enqueue(`${m}-slow`, { delayMs: 1000, text: 'late' });
  assert.equal((await post('/v1/responses', { model: `slow/${m}-slow`, input: 'x' })).status, 504);
  for (const key of [MASTER, 'wrong']) await post('/v1/responses', { model: 'c/x', input: 'x' }, { authorization: `Bearer ${key}` }, keyed.gw.url);
  const all = [...t.rawLogs, ...keyed.rawLogs].join('\n');
  assert.match(all, /model call failed; retrying/);
  for (const secret of ['sk-mock-chat', 'sk-mock-responses', 'sk-ant-mock', 'sk-dead', 'sk-live', 'sk-slow', MASTER])
    assert.doesNotMatch(all, new RegExp(secret));
  assert.doesNotMatch(all, /\n\s+at /);
});
