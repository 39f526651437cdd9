/**
 * A virtual key's limits on one gateway without Redis (the in-process limiter) and the embedded store, as a
 * client sees them: OpenAI's x-ratelimit headers on every answer, 429s in OpenAI's shape past rpm, tpm and
 * budget, the cost of a non-streamed answer in x-litellm-response-cost, and spend in /key/info and
 * /spend/logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const MASTER = 'sk-master-limits';
const PRICES = { input_cost_per_token: 0.000002, output_cost_per_token: 0.00001 };
let t: TestGateway;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    general_settings: { master_key: MASTER },
    model_list: [{ model_name: 'priced', litellm_params: { model: 'openai/priced-upstream', api_base: 'MOCK', api_key: 'sk-mock', ...PRICES } }],
    mcp_servers: { fixture: { url: fixture.url } },
  });
});
after(async () => {
  await t.close();
  await fixture.close();
});

async function post(path: string, body: unknown, key = MASTER) {
  const res = await fetch(`${t.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const newKey = async (body: Record<string, unknown>): Promise<{ key: string; token: string }> => JSON.parse((await post('/key/generate', body)).text);
const ask = (key: string, model = 'priced', extra: Record<string, unknown> = {}) => post('/v1/responses', { model, input: 'hello there', ...extra }, key);

/** Spend logs are written in batches, off the request path: wait for the one of this key. */
async function spendLogsOf(token: string, count = 1): Promise<any[]> {
  for (;;) {
    const res = await fetch(`${t.gw.url}/spend/logs?api_key=${token}`, { headers: { authorization: `Bearer ${MASTER}` } });
    const logs = (await res.json()) as any[];
    if (logs.length >= count) return logs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('rate limits', () => {
  test('rpm 2: two requests with OpenAI headers, the third refused with 429 rate_limit_exceeded and retry-after; the master key is not limited', async () => {
    const { key } = await newKey({ rpm_limit: 2 });
    const first = await ask(key, 'c/any');
    const second = await ask(key, 'c/any');
    assert.deepEqual([first.status, first.headers.get('x-ratelimit-limit-requests'), first.headers.get('x-ratelimit-remaining-requests')], [200, '2', '1']);
    assert.equal(second.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.match(second.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+(\.\d+)?s$|^\d+m/);
    const third = await ask(key, 'c/any');
    assert.equal(third.status, 429);
    assert.deepEqual(JSON.parse(third.text).error.code, 'rate_limit_exceeded');
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    assert.equal(third.headers.get('x-ratelimit-remaining-requests'), '0');
    for (let i = 0; i < 3; i++) assert.equal((await ask(MASTER, 'c/any')).status, 200);
  });

  test("a team's rpm counts every key of the team", async () => {
    const { team_id } = JSON.parse((await post('/team/new', { rpm_limit: 1 })).text);
    const a = await newKey({ team_id });
    const b = await newKey({ team_id });
    assert.equal((await ask(a.key, 'c/any')).status, 200);
    assert.equal((await ask(b.key, 'c/any')).status, 429);
  });

  test('tpm: the tokens of a run count; past the limit the next request is refused with type tokens', async () => {
    const { key } = await newKey({ tpm_limit: 5 });
    const first = await ask(key, 'c/any');
    assert.equal(first.status, 200);
    const refused = await ask(key, 'c/any');
    assert.equal(refused.status, 429);
    assert.deepEqual([JSON.parse(refused.text).error.type, refused.headers.get('x-ratelimit-limit-tokens')], ['tokens', '5']);
  });

  test('an MCP tool call on /mcp counts as a request; listing does not', async () => {
    const { key } = await newKey({ rpm_limit: 1 });
    const c = new Client({ name: 'limits-test', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    try {
      await c.listTools();
      await c.listTools();
      assert.equal((await c.callTool({ name: 'fixture-echo', arguments: { text: 'once' } })).isError, undefined);
      await assert.rejects(c.callTool({ name: 'fixture-echo', arguments: { text: 'twice' } }), /Rate limit reached/);
    } finally {
      await c.close();
    }
  });
});

describe('spend and budgets', () => {
  test('a non-streamed answer carries its cost; spend is logged per request and shows in /key/info', async () => {
    const { key, token } = await newKey({ key_alias: 'priced-key' });
    const r = await ask(key);
    assert.equal(r.status, 200, r.text);
    const usage = JSON.parse(r.text).usage;
    const cost = usage.input_tokens * PRICES.input_cost_per_token + usage.output_tokens * PRICES.output_cost_per_token;
    assert.ok(cost > 0);
    assert.equal(Number(r.headers.get('x-litellm-response-cost')), cost);
    const [log] = await spendLogsOf(token);
    assert.deepEqual(
      [log.api_key, log.model, log.prompt_tokens, log.completion_tokens, log.request_id],
      [token, 'priced', usage.input_tokens, usage.output_tokens, r.headers.get('x-request-id')],
    );
    assert.ok(Math.abs(log.spend - cost) < 1e-12);
    const info = await fetch(`${t.gw.url}/key/info`, { headers: { authorization: `Bearer ${key}` } });
    assert.ok(Math.abs(((await info.json()) as any).info.spend - cost) < 1e-12);
  });

  test('a streamed answer is logged at its end (its cost is not in a header)', async () => {
    const { key, token } = await newKey({});
    const r = await ask(key, 'priced', { stream: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-litellm-response-cost'), null);
    const [log] = await spendLogsOf(token);
    assert.ok(log.spend > 0 && log.completion_tokens > 0);
  });

  test('a budget of $0.0001 refuses the request after the one that crossed it, with 429 insufficient_quota', async () => {
    const { key } = await newKey({ max_budget: 0.0001 });
    let crossed = 0;
    for (; crossed < 50; crossed++) {
      const r = await ask(key);
      if (r.status !== 200) {
        assert.equal(r.status, 429);
        assert.deepEqual(JSON.parse(r.text).error.code, 'insufficient_quota');
        break;
      }
      if (Number(r.headers.get('x-litellm-response-cost')) * (crossed + 1) >= 0.0001) {
        const refused = await ask(key);
        assert.equal(refused.status, 429, 'the request right after the crossing');
        assert.deepEqual(JSON.parse(refused.text).error.type, 'insufficient_quota');
        return;
      }
    }
    assert.fail('the budget never refused');
  });
});
