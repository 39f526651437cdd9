/**
 * LiteLLM's router settings through the real gateway and the openai SDK: `fallbacks` (and which model
 * the answer names), `context_window_fallbacks`, `content_policy_fallbacks`, deployment cooldowns
 * (`allowed_fails`, `cooldown_time`) and `model_group_alias`, with the mock provider failing on cue.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import { openaiClients, startTestGateway, type TestGateway } from './support/gateway.ts';

let t: TestGateway;
let client: OpenAI;

/** An OpenAI-compatible (Chat) deployment on the mock, answering as `upstream`. */
const entry = (name: string, upstream: string, max_retries = 0) => ({
  model_name: name,
  litellm_params: { model: `openai/${upstream}`, api_base: 'MOCK', api_key: 'sk-mock', max_retries },
});

const COOLDOWN_S = 0.3;

before(async () => {
  t = await startTestGateway({
    model_list: [
      entry('fb-primary', 'fb-primary-up', 1),
      entry('fb-backup', 'fb-backup-up'),
      entry('cw-primary', 'cw-primary-up', 2),
      entry('cw-big', 'cw-big-up'),
      entry('cp-primary', 'cp-primary-up', 2),
      entry('cp-lenient', 'cp-lenient-up'),
      entry('cd', 'cd-bad'),
      entry('cd', 'cd-good'),
      entry('cd-both', 'cd-both-1'),
      entry('cd-both', 'cd-both-2'),
    ],
    router_settings: {
      fallbacks: [{ 'fb-primary': ['fb-backup'] }],
      // `a/claude-cw` is served by the test gateway's `a/*` (Anthropic) deployment.
      context_window_fallbacks: [{ 'cw-primary': ['cw-big'] }, { 'a/claude-cw': ['cw-big'] }],
      content_policy_fallbacks: [{ 'cp-primary': ['cp-lenient'] }],
      allowed_fails: 1,
      cooldown_time: COOLDOWN_S,
      model_group_alias: { 'fb-alias': 'fb-backup', 'fb-secret': { model: 'fb-backup', hidden: true } },
    },
  });
  ({ client } = openaiClients(t.gw.url));
  t.mock.always('fb-primary-up', { error: { status: 500, message: 'primary is down' } });
});
after(() => t.close());

/** The gateway's warn lines about fallbacks, as `{model, fallback, reason}`. */
const fallbackLines = () =>
  t.logs.filter((l) => l.msg === 'model group failed; trying its fallback').map(({ level, model, fallback, reason }) => ({ level, model, fallback, reason }));

/** An MCP tool (the gateway's own servers, none configured): the response starts before the model is called. */
const mcpTool = { type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy', require_approval: 'never' } as const;

describe('fallbacks: a primary answering 500 is replaced by its fallback, and the answer names it', () => {
  const primaryCalls = () => t.mock.requestsFor('fb-primary-up').length;

  test('/v1/responses, not streamed', async () => {
    const before = primaryCalls();
    const logged = fallbackLines().length;
    const r = await client.responses.create({ model: 'fb-primary', input: 'hello' });
    assert.equal(r.model, 'fb-backup');
    assert.equal(r.output_text, 'echo: hello');
    assert.equal(primaryCalls() - before, 2, 'the primary and its one retry');
    assert.equal(t.mock.requestsFor('fb-backup-up').at(-1)!.body.model, 'fb-backup-up');
    assert.deepEqual(fallbackLines().slice(logged), [{ level: 40, model: 'fb-primary', fallback: 'fb-backup', reason: 'error' }]);
    const stored = await client.responses.retrieve(r.id);
    assert.equal(stored.model, 'fb-backup');
  });

  test('/v1/responses, streamed: the model was called before the stream began, so every event names the fallback', async () => {
    const stream = await client.responses.create({ model: 'fb-primary', input: 'streamed', stream: true });
    const events: any[] = [];
    for await (const ev of stream) events.push(ev);
    assert.deepEqual(
      events.filter((e) => 'response' in e).map((e) => [e.type, e.response.model]),
      [
        ['response.created', 'fb-backup'],
        ['response.in_progress', 'fb-backup'],
        ['response.completed', 'fb-backup'],
      ],
    );
    assert.equal(events.at(-1).response.output[0].content[0].text, 'echo: streamed');
  });

  test('/v1/responses, streamed with MCP tools: response.created already named the requested model, response.completed names the fallback', async () => {
    const stream = await client.responses.create({ model: 'fb-primary', input: 'with tools', tools: [mcpTool], stream: true });
    const events: any[] = [];
    for await (const ev of stream) events.push(ev);
    const lifecycle = events.filter((e) => 'response' in e).map((e) => [e.type, e.response.model]);
    assert.deepEqual(lifecycle, [
      ['response.created', 'fb-primary'],
      ['response.in_progress', 'fb-primary'],
      ['response.completed', 'fb-backup'],
    ]);
    assert.equal(events.at(-1).response.output.at(-1).content[0].text, 'echo: with tools');
  });

  test('/v1/chat/completions, not streamed and streamed', async () => {
    const c = await client.chat.completions.create({ model: 'fb-primary', messages: [{ role: 'user', content: 'chat' }] });
    assert.equal(c.model, 'fb-backup');
    assert.equal(c.choices[0]!.message.content, 'echo: chat');

    const stream = await client.chat.completions.create({
      model: 'fb-primary',
      messages: [{ role: 'user', content: 'chat stream' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 4);
    assert.deepEqual(new Set(chunks.map((ch) => ch.model)), new Set(['fb-backup']), 'every chunk names the model that answered');
    assert.equal(chunks.map((ch) => ch.choices[0]?.delta.content ?? '').join(''), 'echo: chat stream');
  });

  test('/v1/chat/completions, streamed with MCP tools: the finish and usage chunks name the fallback', async () => {
    const stream = await client.chat.completions.create({
      model: 'fb-primary',
      messages: [{ role: 'user', content: 'chat tools' }],
      tools: [mcpTool] as any,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const finish = chunks.findIndex((ch) => ch.choices[0]?.finish_reason);
    assert.equal(finish, chunks.length - 2, 'the finish chunk, then the usage chunk');
    assert.deepEqual(new Set(chunks.slice(0, finish).map((ch) => ch.model)), new Set(['fb-primary']));
    assert.deepEqual(
      chunks.slice(finish).map((ch) => ch.model),
      ['fb-backup', 'fb-backup'],
    );
    assert.equal(new Set(chunks.map((ch) => ch.id)).size, 1);
  });

  test('every fallback logged one warn line', () => {
    const lines = fallbackLines();
    assert.equal(lines.length, 6);
    for (const l of lines) assert.deepEqual(l, { level: 40, model: 'fb-primary', fallback: 'fb-backup', reason: 'error' });
  });
});

describe('context_window_fallbacks: a too-long input goes to the bigger model at once', () => {
  test("OpenAI's 400 context_length_exceeded: the primary is called once, though it has retries", async () => {
    t.mock.always('cw-primary-up', {
      error: {
        status: 400,
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 200512 tokens. Please reduce the length of the messages.",
      },
    });
    const logged = fallbackLines().length;
    const r = await client.responses.create({ model: 'cw-primary', input: 'a long story' });
    assert.equal(r.model, 'cw-big');
    assert.equal(r.output_text, 'echo: a long story');
    assert.equal(t.mock.requestsFor('cw-primary-up').length, 1);
    assert.deepEqual(fallbackLines().slice(logged), [{ level: 40, model: 'cw-primary', fallback: 'cw-big', reason: 'context_window' }]);
  });

  test('Anthropic\'s 400 "prompt is too long": the same, through a wildcard name', async () => {
    t.mock.always('claude-cw', { error: { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 250312 tokens > 200000 maximum' } });
    const c = await client.chat.completions.create({ model: 'a/claude-cw', messages: [{ role: 'user', content: 'long' }] });
    assert.equal(c.model, 'cw-big');
    assert.deepEqual(
      t.mock.requestsFor('claude-cw').map((r) => r.api),
      ['anthropic'],
    );
  });

  test('without a context-window fallback the 400 is the answer, after one call', async () => {
    t.mock.always('claude-cw2', { error: { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 250312 tokens > 200000 maximum' } });
    await assert.rejects(
      client.responses.create({ model: 'a/claude-cw2', input: 'long' }),
      (e: any) => e.status === 400 && /prompt is too long/.test(e.message),
    );
    assert.equal(t.mock.requestsFor('claude-cw2').length, 1);
  });
});

test('content_policy_fallbacks: a refusal by the content policy goes to the lenient model, the primary called once', async () => {
  t.mock.always('cp-primary-up', {
    error: { status: 400, type: 'invalid_request_error', message: 'Your request was rejected as a result of our content policy.' },
  });
  const logged = fallbackLines().length;
  const r = await client.responses.create({ model: 'cp-primary', input: 'something edgy' });
  assert.equal(r.model, 'cp-lenient');
  assert.equal(t.mock.requestsFor('cp-primary-up').length, 1);
  assert.deepEqual(fallbackLines().slice(logged), [{ level: 40, model: 'cp-primary', fallback: 'cp-lenient', reason: 'content_policy' }]);
});

describe('cooldowns', () => {
  const ask = (model: string, input = 'x') => client.responses.create({ model, input });

  test('a deployment past allowed_fails is skipped for cooldown_time, then tried again', async () => {
    t.mock.always('cd-bad', { error: { status: 500, message: 'bad deployment' } });
    const bad = () => t.mock.requestsFor('cd-bad').length;
    const good = () => t.mock.requestsFor('cd-good').length;
    // The group rotates, so every other request tries the failing deployment first (and then the good one).
    for (let i = 0; i < 6 && bad() < 2; i++) assert.equal((await ask('cd', `warm ${i}`)).output_text, `echo: warm ${i}`);
    assert.equal(bad(), 2, 'two failures: one more than allowed_fails');
    const cooledAt = Date.now();

    const servedBefore = good();
    for (let i = 0; i < 2; i++) assert.equal((await ask('cd', `cool ${i}`)).output_text, `echo: cool ${i}`);
    assert.ok(Date.now() - cooledAt < COOLDOWN_S * 1000, 'still within the cooldown (the machine is not too slow for this test)');
    assert.equal(bad(), 2, 'the cooling deployment was not called');
    assert.equal(good() - servedBefore, 2);

    t.mock.always('cd-bad', { text: 'back again' });
    let answer = '';
    for (let i = 0; i < 100 && answer !== 'back again'; i++) {
      answer = (await ask('cd')).output_text;
      if (answer !== 'back again') await sleep(20);
    }
    assert.equal(answer, 'back again', 'tried again once the cooldown was over');
    assert.ok(Date.now() - cooledAt >= COOLDOWN_S * 1000 - 100, 'not before the cooldown was over');
  });

  test('a group whose deployments are all cooling down answers 429 "No deployments available" (it has no fallbacks)', async () => {
    t.mock.always('cd-both-1', { error: { status: 500, message: 'down 1' } });
    t.mock.always('cd-both-2', { error: { status: 500, message: 'down 2' } });
    for (let i = 0; i < 2; i++) await assert.rejects(ask('cd-both'), (e: any) => e.status === 502);
    const calls = t.mock.requests.length;
    await assert.rejects(ask('cd-both'), (e: any) => {
      assert.equal(e.status, 429);
      assert.equal(e.error.type, 'rate_limit_error');
      assert.equal(e.error.code, 'rate_limit_exceeded');
      assert.match(e.error.message, /^No deployments available for model 'cd-both': all 2 of its deployments are cooling down after repeated failures\./);
      return true;
    });
    assert.equal(t.mock.requests.length, calls, 'no upstream was called');
  });
});

describe('model_group_alias', () => {
  test('an alias routes to its group and answers under its own name', async () => {
    const before = t.mock.requestsFor('fb-backup-up').length;
    const r = await client.responses.create({ model: 'fb-alias', input: 'via alias' });
    assert.equal(r.model, 'fb-alias');
    assert.equal(r.output_text, 'echo: via alias');
    const hidden = await client.chat.completions.create({ model: 'fb-secret', messages: [{ role: 'user', content: 'hidden' }] });
    assert.equal(hidden.model, 'fb-secret');
    assert.equal(t.mock.requestsFor('fb-backup-up').length - before, 2);
  });

  test('/v1/models lists visible aliases only', async () => {
    const ids = new Set<string>();
    for await (const m of client.models.list()) ids.add(m.id);
    assert.ok(ids.has('fb-alias'));
    assert.ok(ids.has('fb-backup'));
    assert.ok(!ids.has('fb-secret'));
    assert.equal((await client.models.retrieve('fb-secret')).id, 'fb-secret', 'a hidden alias can still be looked up by name');
  });
});
