/**
 * The router's LiteLLM settings on their own: the failure classifier, fallback order, cooldown
 * accounting (a fake clock, no sleeps), model_group_alias, and the startup errors for names that
 * resolve to nothing.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { ProviderError } from '../src/protocol/errors.ts';
import { Cooldowns } from '../src/providers/cooldown.ts';
import { globToRegExp } from '../src/protocol/glob.ts';
import type { Deployment } from '../src/providers/deployments.ts';
import { classifyFailure, FallbackTable } from '../src/providers/fallbacks.ts';
import { Router, routerOptions, type RouterOptions } from '../src/providers/router.ts';
import type { Provider } from '../src/providers/types.ts';

const http = (status: number, message: string, code?: string) => new ProviderError(message, { kind: 'http', status, code });

describe('classifyFailure', () => {
  const cases: [string, ProviderError, string][] = [
    ['OpenAI: context_length_exceeded', http(400, 'Input tokens exceed the configured limit of 272000 tokens.', 'context_length_exceeded'), 'context_window'],
    [
      'OpenAI-compatible: the message only',
      http(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens."),
      'context_window',
    ],
    ['Azure OpenAI: the same code', http(400, "This model's maximum context length is 128000 tokens.", 'context_length_exceeded'), 'context_window'],
    ['Anthropic: prompt is too long', http(400, 'prompt is too long: 250000 tokens > 200000 maximum', 'invalid_request_error'), 'context_window'],
    [
      'Gemini: input token count exceeds',
      http(400, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', 'INVALID_ARGUMENT'),
      'context_window',
    ],
    ['Bedrock: input is too long', http(400, 'Input is too long for requested model.', 'ValidationException'), 'context_window'],
    ['Bedrock: too many input tokens', http(400, 'The model returned the following errors: too many input tokens', 'ValidationException'), 'context_window'],
    [
      'Bedrock: any validation error saying too long',
      http(400, 'The text field in the ContentBlock object is too long.', 'ValidationException'),
      'context_window',
    ],
    ['Bedrock: other validation errors', http(400, 'Malformed input request: extraneous key [foo]', 'ValidationException'), 'final'],
    [
      'OpenAI: content_policy_violation',
      http(400, 'Your request was rejected as a result of our safety system.', 'content_policy_violation'),
      'content_policy',
    ],
    [
      'Azure OpenAI: content_filter',
      http(400, "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", 'content_filter'),
      'content_policy',
    ],
    ['a 400 naming the content policy', http(400, 'This request may violate our content policy.'), 'content_policy'],
    ['a 400 naming the content filter', http(400, 'Blocked by the content filter.'), 'content_policy'],
    [
      'a rate limit saying too many tokens is still a rate limit',
      http(429, 'Too many tokens, please wait before trying again.', 'ThrottlingException'),
      'retryable',
    ],
    ['a 500 whose text says the prompt is too long is still a 500', http(500, 'prompt is too long'), 'retryable'],
    ['503', http(503, 'overloaded'), 'retryable'],
    ['408', http(408, 'request timeout'), 'retryable'],
    ['timeout', new ProviderError('no answer', { kind: 'timeout' }), 'retryable'],
    ['connection', new ProviderError('ECONNREFUSED', { kind: 'connection' }), 'retryable'],
    ['aborted', new ProviderError('aborted', { kind: 'aborted' }), 'final'],
    ['another 400', http(400, "Invalid value for 'temperature'.", 'invalid_value'), 'final'],
    ['401', http(401, 'Incorrect API key provided', 'invalid_api_key'), 'final'],
    ['404', http(404, 'The model does not exist', 'model_not_found'), 'final'],
  ];
  for (const [name, e, expected] of cases) test(name, () => assert.equal(classifyFailure(e), expected));
});

// ---- a router over scripted deployments ------------------------------------------------------------

const provider = { api: 'openai-chat', owner: 'mock' } as unknown as Provider;

function deployment(modelName: string, index: number, maxRetries = 0): Deployment {
  return {
    id: `${modelName}#${index}`,
    modelName,
    pattern: modelName.includes('*') ? globToRegExp(modelName) : null,
    upstreamModel: modelName.includes('*') ? 'up-*' : `${modelName}-${index}`,
    provider,
    maxRetries,
    prices: {},
    inflight: 0,
  };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug', base: undefined },
    new Writable({
      write(chunk, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    }),
  );
  return {
    log,
    lines,
    fallbacks: () => lines.filter((l) => 'fallback' in l && l.level === 40).map(({ model, fallback, reason }) => ({ model, fallback, reason })),
  };
}

/** Each call answers by the deployment's upstream name: a script's result or error, else `ok <upstream>`. */
function scripted(script: Record<string, (() => ProviderError | string) | ProviderError>) {
  const calls: string[] = [];
  const attempt = async (_d: Deployment, upstream: string) => {
    calls.push(upstream);
    const s = script[upstream];
    const r = typeof s === 'function' ? s() : s;
    if (r instanceof ProviderError) throw r;
    return r ?? `ok ${upstream}`;
  };
  return { calls, attempt };
}

function fallbacks(settings: Record<string, unknown>): FallbackTable {
  return FallbackTable.fromConfig({ router_settings: settings, litellm_settings: {} } as never);
}

function router(groups: Record<string, number>, opts: RouterOptions = {}, maxRetries = 0): Router {
  const ds = Object.entries(groups).flatMap(([name, n]) => Array.from({ length: n }, (_, i) => deployment(name, i, maxRetries)));
  return new Router(ds, opts);
}

/** The answer, the model that gave it, and (checked to be the one whose attempt answered) its deployment. */
const run = async (
  r: Router,
  model: string,
  attempt: (d: Deployment, up: string) => Promise<string>,
  log = capture().log,
  usable?: (d: Deployment) => boolean,
) => {
  const { answer, model: answered, deployment } = await r.withFailover(r.resolve(model)!, { signal: new AbortController().signal, log, usable }, attempt);
  assert.equal(answer, `ok ${deployment.upstreamModel}`, 'the deployment that answered');
  return { answer, model: answered };
};

describe('fallbacks', () => {
  test('a failed group moves to its fallbacks in order, each a group with its own attempts; one warn line per fallback', async () => {
    const r = router({ primary: 1, fb1: 1, fb2: 1 }, { fallbacks: fallbacks({ fallbacks: [{ primary: ['fb1', 'fb2'] }] }) });
    const s = scripted({ 'primary-0': http(500, 'primary down'), 'fb1-0': http(503, 'fb1 down') });
    const c = capture();
    assert.deepEqual(await run(r, 'primary', s.attempt, c.log), { answer: 'ok fb2-0', model: 'fb2' });
    assert.deepEqual(s.calls, ['primary-0', 'fb1-0', 'fb2-0']);
    assert.deepEqual(c.fallbacks(), [
      { model: 'primary', fallback: 'fb1', reason: 'error' },
      { model: 'primary', fallback: 'fb2', reason: 'error' },
    ]);
  });

  test('the primary group is retried before its fallbacks are tried', async () => {
    const r = router({ primary: 1, fb: 1 }, { fallbacks: fallbacks({ fallbacks: [{ primary: ['fb'] }] }) }, 1);
    const s = scripted({ 'primary-0': http(500, 'down') });
    assert.equal((await run(r, 'primary', s.attempt)).model, 'fb');
    assert.deepEqual(s.calls, ['primary-0', 'primary-0', 'fb-0']);
  });

  test("when every fallback fails too, the error is the requested model's", async () => {
    const r = router({ primary: 1, fb: 1 }, { fallbacks: fallbacks({ fallbacks: [{ primary: ['fb'] }] }) });
    const s = scripted({ 'primary-0': http(500, 'primary down'), 'fb-0': http(400, 'fb refused') });
    await assert.rejects(run(r, 'primary', s.attempt), (e: ProviderError) => e.message === 'primary down' && e.status === 500);
    assert.deepEqual(s.calls, ['primary-0', 'fb-0']);
  });

  test('fallbacks of fallbacks are not followed, and a fallback naming the model itself is skipped', async () => {
    const r = router({ a: 1, b: 1, c: 1 }, { fallbacks: fallbacks({ fallbacks: [{ a: ['a', 'b'] }, { b: ['c'] }] }) });
    const s = scripted({ 'a-0': http(500, 'a down'), 'b-0': http(500, 'b down') });
    await assert.rejects(run(r, 'a', s.attempt), /a down/);
    assert.deepEqual(s.calls, ['a-0', 'b-0']);
  });

  test('default_fallbacks serve a model without an entry of its own; an entry wins over them', async () => {
    const table = fallbacks({ fallbacks: [{ a: ['b'] }], default_fallbacks: ['d'] });
    const r = router({ a: 1, b: 1, x: 1, d: 1 }, { fallbacks: table });
    const s = scripted({ 'a-0': http(500, ''), 'x-0': http(429, '') });
    assert.equal((await run(r, 'a', s.attempt)).model, 'b');
    assert.equal((await run(r, 'x', s.attempt)).model, 'd');
    assert.deepEqual(s.calls, ['a-0', 'b-0', 'x-0', 'd-0']);
  });

  test('a context-window error goes to context_window_fallbacks at once: no retry, no general fallbacks', async () => {
    const table = fallbacks({ fallbacks: [{ p: ['general'] }], context_window_fallbacks: [{ p: ['big'] }] });
    const r = router({ p: 2, general: 1, big: 1 }, { fallbacks: table }, 2);
    const s = scripted({ 'p-0': http(400, 'too long', 'context_length_exceeded'), 'p-1': http(400, 'too long', 'context_length_exceeded') });
    const c = capture();
    assert.equal((await run(r, 'p', s.attempt, c.log)).model, 'big');
    assert.equal(s.calls.length, 2, `one call to the group, then the fallback: ${s.calls}`);
    assert.equal(s.calls[1], 'big-0');
    assert.deepEqual(c.fallbacks(), [{ model: 'p', fallback: 'big', reason: 'context_window' }]);
  });

  test('a context-window error without context_window_fallbacks is the answer (the general ones are for retryable errors)', async () => {
    const r = router({ p: 1, general: 1 }, { fallbacks: fallbacks({ fallbacks: [{ p: ['general'] }] }) });
    const s = scripted({ 'p-0': http(400, 'prompt is too long: 9 tokens > 8 maximum') });
    await assert.rejects(run(r, 'p', s.attempt), /prompt is too long/);
    assert.deepEqual(s.calls, ['p-0']);
  });

  test('a content-policy refusal goes to content_policy_fallbacks; other 4xx are not fallen back', async () => {
    const table = fallbacks({ fallbacks: [{ p: ['general'] }], content_policy_fallbacks: [{ p: ['lenient'] }] });
    const r = router({ p: 1, general: 1, lenient: 1 }, { fallbacks: table });
    const c = capture();
    let s = scripted({ 'p-0': http(400, 'rejected', 'content_policy_violation') });
    assert.equal((await run(r, 'p', s.attempt, c.log)).model, 'lenient');
    assert.deepEqual(c.fallbacks(), [{ model: 'p', fallback: 'lenient', reason: 'content_policy' }]);
    s = scripted({ 'p-0': http(401, 'bad key') });
    await assert.rejects(run(r, 'p', s.attempt), /bad key/);
    assert.deepEqual(s.calls, ['p-0']);
  });

  test('entries are found by the requested name, then by its group (an alias target, a wildcard); a fallback may be an alias', async () => {
    const table = fallbacks({ fallbacks: [{ primary: ['spare'] }, { 'w/*': ['primary'] }] });
    const r = router({ primary: 1, backup: 1, 'w/*': 1 }, { fallbacks: table, aliases: { al: 'primary', spare: { model: 'backup', hidden: true } } });
    const s = scripted({ 'primary-0': http(500, 'primary down'), 'up-x': http(500, 'w down') });
    assert.deepEqual(await run(r, 'al', s.attempt), { answer: 'ok backup-0', model: 'spare' });
    s.calls.length = 0;
    await assert.rejects(run(r, 'w/x', s.attempt), /w down/);
    assert.deepEqual(s.calls, ['up-x', 'primary-0'], "the wildcard group's entry, and not primary's own fallbacks");
  });

  test('a fallback group keeps only the deployments the call can use (embeddings, images)', async () => {
    const r = router({ p: 1, fb: 1, fb2: 1 }, { fallbacks: fallbacks({ fallbacks: [{ p: ['fb', 'fb2'] }] }) });
    const s = scripted({ 'p-0': http(500, '') });
    const res = await run(r, 'p', s.attempt, undefined, (d) => d.modelName !== 'fb');
    assert.equal(res.model, 'fb2');
    assert.deepEqual(s.calls, ['p-0', 'fb2-0']);
  });
});

describe('cooldowns', () => {
  const d = deployment('g', 0);
  const clock = () => {
    const c = { t: 0, now: () => c.t };
    return c;
  };

  test('more than allowed_fails failures within a minute start a cooldown of cooldown_time; then the count starts over', () => {
    const c = clock();
    const cd = new Cooldowns({ allowedFails: 2, cooldownMs: 5000, now: c.now });
    assert.equal(cd.failed(d), false);
    assert.equal(cd.failed(d), false);
    assert.equal(cd.isCooling(d), false);
    assert.equal(cd.failed(d), true, 'the third failure is one too many');
    assert.equal(cd.isCooling(d), true);
    assert.equal(cd.remainingMs([d]), 5000);
    c.t = 4999;
    assert.equal(cd.isCooling(d), true);
    c.t = 5000;
    assert.equal(cd.isCooling(d), false);
    assert.equal(cd.failed(d), false, 'a fresh allowance after the cooldown');
  });

  test('failures older than a minute do not count, and a success clears the count', () => {
    const c = clock();
    const cd = new Cooldowns({ allowedFails: 1, cooldownMs: 5000, now: c.now });
    cd.failed(d);
    c.t = 60_000;
    assert.equal(cd.failed(d), false, 'the first failure is a minute old');
    cd.succeeded(d);
    assert.equal(cd.failed(d), false, 'the success cleared the count');
    assert.equal(cd.failed(d), true);
  });

  test('a deployment past allowed_fails is skipped until its cooldown is over; the group serves from the other one', async () => {
    let now = 0;
    const r = router({ pair: 2 }, { allowedFails: 1, cooldownSeconds: 5, now: () => now });
    const s = scripted({ 'pair-0': http(500, 'down') });
    for (let i = 0; i < 4; i++) assert.equal((await run(r, 'pair', s.attempt)).answer, 'ok pair-1');
    assert.equal(s.calls.filter((c) => c === 'pair-0').length, 2, `two failures (one more than allowed_fails), then skipped: ${s.calls}`);
    s.calls.length = 0;
    for (let i = 0; i < 4; i++) await run(r, 'pair', s.attempt);
    assert.deepEqual(s.calls, ['pair-1', 'pair-1', 'pair-1', 'pair-1']);
    now = 5000;
    s.calls.length = 0;
    for (let i = 0; i < 2; i++) await run(r, 'pair', s.attempt);
    assert.ok(s.calls.includes('pair-0'), 'tried again once the cooldown is over');
  });

  test('429s count; a group whose deployments all cool down fails at once with a 429 in OpenAI terms, or moves to its fallbacks', async () => {
    let now = 0;
    const r = router({ pair: 2, spare: 1 }, { allowedFails: 0, cooldownSeconds: 5, now: () => now });
    const s = scripted({ 'pair-0': http(429, 'slow down'), 'pair-1': http(429, 'slow down') });
    await assert.rejects(run(r, 'pair', s.attempt), /slow down/);
    assert.equal(s.calls.length, 2);
    now = 2000;
    await assert.rejects(run(r, 'pair', s.attempt), (e: ProviderError) => {
      assert.equal(e.status, 429);
      assert.equal(e.type, 'rate_limit_error');
      assert.equal(e.code, 'rate_limit_exceeded');
      assert.equal(
        e.message,
        "No deployments available for model 'pair': all 2 of its deployments are cooling down after repeated failures. Try again in 3 seconds.",
      );
      return true;
    });
    assert.equal(s.calls.length, 2, 'no deployment was called');

    const withFallback = router({ pair: 2, spare: 1 }, { allowedFails: 0, now: () => now, fallbacks: fallbacks({ fallbacks: [{ pair: ['spare'] }] }) });
    const c = capture();
    await run(withFallback, 'pair', s.attempt, c.log);
    s.calls.length = 0;
    assert.equal((await run(withFallback, 'pair', s.attempt, c.log)).model, 'spare');
    assert.deepEqual(s.calls, ['spare-0']);
    assert.deepEqual(c.fallbacks().at(-1), { model: 'pair', fallback: 'spare', reason: 'cooldown' });
  });

  test("a group's only deployment is never cooled down (as in LiteLLM): its own errors stay the answer", async () => {
    const r = router({ solo: 1 }, { allowedFails: 0 });
    const s = scripted({ 'solo-0': http(500, 'down') });
    for (let i = 0; i < 3; i++) await assert.rejects(run(r, 'solo', s.attempt), /down/);
    assert.equal(s.calls.length, 3);
  });

  test('client errors do not count toward a cooldown', async () => {
    const r = router({ pair: 2 }, { allowedFails: 0 });
    const s = scripted({ 'pair-0': http(400, 'bad'), 'pair-1': http(400, 'bad') });
    for (let i = 0; i < 4; i++) await assert.rejects(run(r, 'pair', s.attempt), /bad/);
    assert.deepEqual(s.calls.sort(), ['pair-0', 'pair-0', 'pair-1', 'pair-1']);
  });
});

describe('model_group_alias', () => {
  test('an alias resolves to its group (a model_name or a wildcard match) and keeps the requested name', () => {
    const r = router({ 'gpt-4o': 2, 'w/*': 1 }, { aliases: { 'gpt-4': 'gpt-4o', fast: { model: 'w/mini', hidden: true } } });
    const a = r.resolve('gpt-4')!;
    assert.equal(a.requested, 'gpt-4');
    assert.equal(a.group, 'gpt-4o');
    assert.deepEqual(
      a.candidates.map((c) => c.upstreamModel),
      ['gpt-4o-0', 'gpt-4o-1'],
    );
    const f = r.resolve('fast')!;
    assert.deepEqual([f.requested, f.group, f.candidates[0]!.upstreamModel], ['fast', 'w/*', 'up-mini']);
  });

  test('/v1/models lists visible aliases, not hidden ones', async () => {
    const r = router({ 'gpt-4o': 1 }, { aliases: { 'gpt-4': 'gpt-4o', secret: { model: 'gpt-4o', hidden: true }, shown: { model: 'gpt-4o' } } });
    const ids = (await r.listModels(capture().log)).map((m) => m.id);
    assert.deepEqual(ids, ['gpt-4o', 'gpt-4', 'shown']);
    assert.ok(r.resolve('secret'), 'a hidden alias still routes');
  });
});

describe('startup errors', () => {
  const config = (extra: Record<string, unknown>) =>
    loadConfig({
      raw: {
        model_list: [
          { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o' } },
          { model_name: 'claude', litellm_params: { model: 'anthropic/claude-x' } },
          { model_name: 'groq/*', litellm_params: { model: 'groq/*' } },
        ],
        ...extra,
      },
      env: {},
    }).config;
  const build = (extra: Record<string, unknown>) => router({ 'gpt-4o': 1, claude: 1, 'groq/*': 1 }, routerOptions(config(extra)));

  test('fallback and alias names that resolve to nothing fail, naming the key', () => {
    assert.throws(
      () =>
        build({
          router_settings: {
            fallbacks: [{ 'gpt-4o': ['claude', 'gpt-5'] }],
            context_window_fallbacks: [{ nope: ['claude'] }],
            model_group_alias: { 'gpt-4': 'gpt-4o', old: { model: 'gpt-3', hidden: true } },
          },
          litellm_settings: { content_policy_fallbacks: [{ claude: ['llama'] }], default_fallbacks: ['missing'] },
        }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(
          e.message,
          [
            'invalid config:',
            "  router_settings.model_group_alias.old: 'gpt-3' is not a model_name of this config",
            "  router_settings.fallbacks[0].gpt-4o[1]: 'gpt-5' is not a model_name or model_group_alias of this config",
            "  litellm_settings.default_fallbacks[0]: 'missing' is not a model_name or model_group_alias of this config",
            "  router_settings.context_window_fallbacks[0].nope: 'nope' is not a model_name or model_group_alias of this config",
            "  litellm_settings.content_policy_fallbacks[0].claude[0]: 'llama' is not a model_name or model_group_alias of this config",
          ].join('\n'),
        );
        return true;
      },
    );
  });

  test('names may be a model_name, an alias or a wildcard match; router_settings wins over litellm_settings', () => {
    const r = build({
      router_settings: { fallbacks: [{ 'gpt-4': ['groq/llama', 'claude'] }], model_group_alias: { 'gpt-4': 'gpt-4o' } },
      litellm_settings: { fallbacks: [{ 'gpt-4o': ['ignored-because-router-settings-sets-fallbacks'] }] },
    });
    assert.ok(r.resolve('gpt-4'));
  });
});
