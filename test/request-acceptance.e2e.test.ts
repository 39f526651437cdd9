/**
 * The gateway opened to real clients: whatever OpenAI's API accepts is accepted; unknown fields reach an
 * upstream of the client's own API and are dropped (and reported in `x-toolgate-dropped-params`) for the
 * others, or refused with `litellm_settings.drop_params: false`; the tools the client runs itself come
 * back through Chat and Anthropic providers exactly as OpenAI sends them; a conversation replayed under
 * `store: false` (reasoning items, item references) reaches each provider in the form it can read.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ResponseCreateParamsNonStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import type { MockRequest } from '../fixtures/mock-provider.ts';
import { openaiClients, parseSse, startTestGateway, type TestGateway, PROVIDER_KINDS } from './support/gateway.ts';
import { validateResponseStream } from './support/validate-stream.ts';

const HEADER = 'x-toolgate-dropped-params';
const CODEX: Record<string, Record<string, unknown>> = JSON.parse(readFileSync(new URL('../fixtures/codex-requests.json', import.meta.url), 'utf8'));

let t: TestGateway;
let strict: TestGateway;
let client: OpenAI;

before(async () => {
  t = await startTestGateway();
  strict = await startTestGateway({ litellm_settings: { drop_params: false } });
  client = openaiClients(t.gw.url).client;
});
after(async () => {
  await t.close();
  await strict.close();
});

let n = 0;
const uniq = (label: string) => `acc-${label}-${++n}`;

async function post(path: string, body: unknown, base = t.gw.url) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

/** A streamed /v1/responses call: its dropped-params header and its events, checked against the ordering rules (support/validate-stream.ts). */
async function stream(body: Record<string, unknown>) {
  const r = await post('/v1/responses', { ...body, stream: true });
  assert.equal(r.status, 200, r.text);
  const { violations, events } = validateResponseStream(parseSse(r.text).filter((f) => !f.comment));
  assert.deepEqual(violations, []);
  return { dropped: r.headers.get(HEADER), events, final: events.at(-1).response };
}

/** The provider kinds that need client tools mapped to functions and back. */
const KINDS = PROVIDER_KINDS.filter((k) => k.api !== 'responses');

describe('unknown fields', () => {
  test('reach an OpenAI Responses upstream as they were sent; nothing is reported dropped', async () => {
    const m = uniq('fwd');
    const params = { model: `r/${m}`, input: 'hi', client_metadata: { session_id: 's-1' }, future_knob: [1, 2] };
    const { data, response } = await client.responses.create(params).withResponse();
    assert.equal(data.output_text, 'echo: hi');
    assert.equal(response.headers.get(HEADER), null);
    const seen = t.mock.requestsFor(m)[0]!.body;
    assert.deepEqual(seen.client_metadata, { session_id: 's-1' });
    assert.deepEqual(seen.future_knob, [1, 2]);
  });

  test("an upstream's own 400 about a forwarded field is passed on", async () => {
    const m = uniq('fwd-400');
    t.mock.enqueue(m, { error: { status: 400, message: "Unknown parameter: 'future_knob'.", type: 'invalid_request_error' } });
    const r = await post('/v1/responses', { model: `r/${m}`, input: 'hi', future_knob: 1 });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.message, "Unknown parameter: 'future_knob'.");
  });

  for (const kind of KINDS)
    test(`are dropped for a ${kind.api} upstream and listed in ${HEADER}`, async () => {
      const m = uniq(`drop-${kind.prefix}`);
      const params = { model: `${kind.prefix}/${m}`, input: 'hi', client_metadata: { a: 'b' }, include: ['reasoning.encrypted_content' as const] };
      const { data, response } = await client.responses.create(params).withResponse();
      assert.equal(data.output_text, 'echo: hi');
      assert.equal(response.headers.get(HEADER), 'include:reasoning.encrypted_content,client_metadata');
      const seen = JSON.stringify(t.mock.requestsFor(m)[0]!.body);
      assert.doesNotMatch(seen, /client_metadata|encrypted_content/);
      // streamed too: the header goes out with the stream
      const s = await stream(params);
      assert.equal(s.dropped, 'include:reasoning.encrypted_content,client_metadata');
    });

  test('a debug log line lists them', () => {
    assert.ok(t.logs.some((l) => l.msg === 'request params the provider cannot take are dropped' && JSON.stringify(l.dropped).includes('client_metadata')));
  });

  test('Chat Completions: unknown fields reach a Chat upstream, and are dropped for Anthropic', async () => {
    const m = uniq('chat-fwd');
    const body = { messages: [{ role: 'user', content: 'hi' }], top_k: 40, chat_template_kwargs: { enable_thinking: false }, seed: 3 };
    const viaChat = await post('/v1/chat/completions', { model: `c/${m}`, ...body });
    assert.equal(viaChat.status, 200, viaChat.text);
    assert.equal(viaChat.headers.get(HEADER), null);
    const seen = t.mock.requestsFor(m)[0]!.body;
    assert.equal(seen.top_k, 40);
    assert.deepEqual(seen.chat_template_kwargs, { enable_thinking: false });
    assert.equal(seen.seed, 3);
    const viaAnthropic = await post('/v1/chat/completions', { model: `a/${m}`, ...body });
    assert.equal(viaAnthropic.status, 200);
    assert.equal(viaAnthropic.headers.get(HEADER), 'seed,top_k,chat_template_kwargs');
  });

  test('with drop_params: false, what a provider cannot take is a 400 naming it (OpenAI error shape)', async () => {
    const params = { model: 'c/strict', input: 'hi', client_metadata: { a: 'b' } };
    const r = await post('/v1/responses', params, strict.gw.url);
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(r.json.error.param, 'client_metadata');
    assert.equal(r.json.error.code, 'unsupported_parameter');
    assert.match(r.json.error.message, /drop_params/);
    const sdk = openaiClients(strict.gw.url).client;
    await assert.rejects(
      sdk.responses.create({ model: 'a/strict', input: 'hi', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.param, 'tools');
        return true;
      },
    );
    // an OpenAI Responses upstream takes it: no error
    assert.equal((await post('/v1/responses', { ...params, model: 'r/strict' }, strict.gw.url)).status, 200);
    assert.equal(strict.mock.requestsFor('strict').length, 1, 'the refused requests never reached the provider');
  });
});

describe('known fields', () => {
  test('a wrong type is still a 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ include: 'reasoning.encrypted_content' }, 'include'],
      [{ reasoning: { summary: 'verbose' } }, 'reasoning.summary'],
      [{ input: [{ type: 'custom_tool_call_output', output: 'x' }] }, 'input[0].call_id'],
      [{ tools: [{ type: 'namespace', name: 'crm', tools: [{ type: 'function', name: 5 }] }] }, 'tools[0].tools[0].name'],
      [{ prompt_cache_key: 7 }, 'prompt_cache_key'],
    ];
    for (const [extra, param] of cases) {
      const r = await post('/v1/responses', { model: 'c/x', input: 'x', ...extra });
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.equal(r.json.error.param, param);
    }
    const c = await post('/v1/chat/completions', { model: 'c/x', messages: [{ role: 'user', content: 'x' }], logprobs: 'yes' });
    assert.equal(c.status, 400);
    assert.equal(c.json.error.param, 'logprobs');
  });

  test("every field of openai-node's ResponseCreateParams is accepted, through the SDK", async () => {
    const m = uniq('full');
    const params: ResponseCreateParamsNonStreaming = {
      model: `r/${m}`,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi', prompt_cache_breakpoint: { mode: 'explicit' } }] }],
      include: ['reasoning.encrypted_content', 'message.output_text.logprobs'],
      prompt_cache_key: 'k',
      prompt_cache_retention: '24h',
      prompt_cache_options: { mode: 'implicit' },
      safety_identifier: 'u-1',
      user: 'u',
      service_tier: 'flex',
      truncation: 'auto',
      reasoning: { effort: 'low', summary: 'auto' },
      text: { verbosity: 'low' },
      top_logprobs: 2,
      stream_options: { include_obfuscation: false },
      metadata: { k: 'v' },
      prompt: { id: 'pmpt_1', variables: { x: 'y' } },
      context_management: [{ type: 'compaction', compact_threshold: 10_000 }],
      moderation: { model: 'omni-moderation-latest' },
      access_programs: { cyber: 'standard' },
      image: { context_compression: 'auto' },
      max_tool_calls: 3,
      store: false,
    };
    const r = await client.responses.create(params);
    assert.equal(r.status, 'completed');
    const seen = t.mock.requestsFor(m)[0]!.body;
    for (const k of [
      'include',
      'prompt_cache_key',
      'prompt_cache_retention',
      'prompt_cache_options',
      'safety_identifier',
      'service_tier',
      'truncation',
      'reasoning',
      'text',
      'top_logprobs',
      'prompt',
      'context_management',
      'moderation',
      'access_programs',
      'image',
    ] as const)
      assert.deepEqual(seen[k], params[k], k);
    assert.deepEqual(seen.input[0].content[0].prompt_cache_breakpoint, { mode: 'explicit' });
  });
});

describe('the requests Codex CLI sends', () => {
  for (const [name, body] of Object.entries(CODEX).filter(([k]) => !k.startsWith('_')))
    test(`${name}: accepted by every provider kind, streamed validly`, async () => {
      const m = uniq(`codex-${name}`);
      const expected: Record<string, string | null> = {
        r: null,
        c: `tools:web_search,include:reasoning.encrypted_content,${name === 'known_model' ? '' : 'reasoning.summary,'}client_metadata`,
        a: `include:reasoning.encrypted_content,prompt_cache_key,${name === 'known_model' ? 'reasoning.effort,text.verbosity' : 'reasoning.summary'},client_metadata`,
      };
      for (const prefix of ['r', 'c', 'a'] as const) {
        const s = await stream({ ...body, model: `${prefix}/${m}` });
        assert.equal(s.final.status, 'completed', prefix);
        assert.equal(s.dropped, expected[prefix], prefix);
      }
      const [viaResponses, viaChat, viaAnthropic] = t.mock.requestsFor(m);
      // OpenAI Responses: the client's request, but for the gateway's own state handling
      assert.deepEqual(viaResponses!.body.client_metadata, body.client_metadata);
      // Codex's client-run tool_search is offered to every model as a function with its own description
      // and parameters (the gateway runs tool search the same way for every provider).
      const tools = body.tools as Record<string, unknown>[];
      const search = tools.find((x) => x.type === 'tool_search');
      assert.deepEqual(
        viaResponses!.body.tools,
        search
          ? [
              ...tools.filter((x) => x !== search),
              { type: 'function', name: 'tool_search', description: search.description, parameters: search.parameters, strict: false },
            ]
          : tools,
      );
      if (search) for (const seen of [viaChat!, viaAnthropic!]) assert.ok(seen.functions.includes('tool_search'), seen.functions.join());
      assert.equal(viaResponses!.body.input.length, (body.input as unknown[]).length);
      // the namespace's functions are offered to the others under provider-safe names
      if (name !== 'known_model') {
        assert.ok(viaChat!.functions.includes('multi_agent_v1__spawn_agent'), viaChat!.functions.join());
        assert.ok(viaAnthropic!.functions.includes('multi_agent_v1__spawn_agent'));
      } else assert.ok(viaChat!.functions.includes('apply_patch'));
    });
});

describe('a conversation replayed with store: false', () => {
  const replay = (m: string, extra: ResponseInputItem[] = []): ResponseCreateParamsNonStreaming => ({
    model: m,
    store: false,
    include: ['reasoning.encrypted_content'],
    input: [
      { type: 'message', role: 'user', content: 'What is in the repo?' },
      { type: 'reasoning', id: 'rs_earlier', summary: [{ type: 'summary_text', text: 'Looking.' }], encrypted_content: 'gAAAA-opaque-reasoning' },
      { type: 'function_call', id: 'fc_earlier', call_id: 'call_ls', name: 'ls', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_ls', output: 'README.md' },
      ...extra,
    ],
    tools: [{ type: 'function', name: 'ls', parameters: { type: 'object', properties: {} }, strict: false }],
  });

  test('reasoning items with encrypted content go to the OpenAI Responses upstream that made them, never elsewhere', async () => {
    const m = uniq('replay');
    for (const prefix of ['r', 'c', 'a']) await client.responses.create(replay(`${prefix}/${m}`));
    const [r, c, a] = t.mock.requestsFor(m);
    const reasoning = r!.body.input.find((i: { type: string }) => i.type === 'reasoning');
    assert.deepEqual(reasoning, {
      type: 'reasoning',
      id: 'rs_earlier',
      summary: [{ type: 'summary_text', text: 'Looking.' }],
      encrypted_content: 'gAAAA-opaque-reasoning',
    });
    for (const other of [c!, a!]) {
      assert.doesNotMatch(JSON.stringify(other.body), /opaque-reasoning/);
      assert.deepEqual(other.toolOutputs, ['README.md']);
    }
  });

  test('an item_reference names an item of the conversation it continues, or one sent earlier in the same input', async () => {
    const m = uniq('ref');
    const first = await client.responses.create({ model: `c/${m}`, input: 'remember me' });
    const answer = first.output[0]!.id!;
    const second = await client.responses.create({
      model: `c/${m}`,
      store: false,
      previous_response_id: first.id,
      // Codex sends ids on its messages too, which openai-node's types do not list
      input: [
        { type: 'item_reference', id: answer },
        { type: 'message', id: 'msg_client_1', role: 'user', content: 'and me' } as ResponseInputItem,
        { type: 'item_reference', id: 'msg_client_1' },
      ],
    });
    assert.equal(second.status, 'completed');
    const seen = JSON.stringify(t.mock.requestsFor(m)[1]!.body.messages);
    const count = (text: string) => seen.split(text).length - 1;
    assert.equal(count('and me'), 2, seen);
    assert.equal(count('echo: remember me'), 2, 'the referenced answer follows the history it is in');
    const missing = await post('/v1/responses', { model: `c/${m}`, store: false, input: [{ type: 'item_reference', id: 'msg_nowhere' }] });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.param, 'input[0].id');
  });
});

/** Only an upstream call that reached the mock with the function offered under its provider name. */
function offered(req: MockRequest | undefined, fn: string) {
  assert.ok(req, 'the provider was called');
  assert.ok(req.functions.includes(fn), `${fn} offered (got ${req.functions.join(', ')})`);
}

describe("the client's own tools through Chat and Anthropic providers", () => {
  const NAMESPACE = {
    type: 'namespace' as const,
    name: 'crm',
    description: 'Customer records.',
    tools: [{ type: 'function' as const, name: 'lookup', parameters: { type: 'object', properties: { email: { type: 'string' } } }, strict: false }],
  };

  for (const kind of KINDS) {
    test(`${kind.api}: a namespace function comes back as a function_call with its namespace (non-stream and stream)`, async () => {
      const m = uniq(`ns-${kind.prefix}`);
      const call = { name: 'crm__lookup', arguments: { email: 'a@b.c' }, id: 'call_ns_1' };
      t.mock.enqueue(m, { toolCalls: [call] }, { toolCalls: [call] });
      const r = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Find a@b.c', tools: [NAMESPACE] });
      offered(t.mock.requestsFor(m)[0], 'crm__lookup');
      const fc = r.output.find((i) => i.type === 'function_call');
      assert.deepEqual(fc && { name: fc.name, namespace: fc.namespace, arguments: JSON.parse(fc.arguments), call_id: fc.call_id }, {
        name: 'lookup',
        namespace: 'crm',
        arguments: { email: 'a@b.c' },
        call_id: 'call_ns_1',
      });
      const s = await stream({ model: `${kind.prefix}/${m}`, input: 'Find a@b.c', tools: [NAMESPACE] });
      const item = s.final.output.find((i: { type: string }) => i.type === 'function_call');
      assert.deepEqual({ name: item.name, namespace: item.namespace }, { name: 'lookup', namespace: 'crm' });
      const added = s.events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
      assert.deepEqual({ name: added.item.name, namespace: added.item.namespace }, { name: 'lookup', namespace: 'crm' });
      // the SDK's stream helper accumulates it as OpenAI's own
      t.mock.enqueue(m, { toolCalls: [call] });
      const final = await client.responses.stream({ model: `${kind.prefix}/${m}`, input: 'Find a@b.c', tools: [NAMESPACE] }).finalResponse();
      assert.equal(final.output.find((i) => i.type === 'function_call')?.namespace, 'crm');
    });

    test(`${kind.api}: a custom tool round trip (custom_tool_call with input, then custom_tool_call_output)`, async () => {
      const m = uniq(`custom-${kind.prefix}`);
      const patch = '*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch';
      const tools = [
        {
          type: 'custom' as const,
          name: 'apply_patch',
          description: 'Edit files.',
          format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: "*** Begin Patch"' },
        },
      ];
      t.mock.enqueue(m, { toolCalls: [{ name: 'apply_patch', arguments: { input: patch }, id: 'call_p' }] });
      const s = await stream({ model: `${kind.prefix}/${m}`, input: 'Add a.txt', tools, store: false });
      const call = s.final.output.find((i: { type: string }) => i.type === 'custom_tool_call');
      assert.deepEqual(call && { name: call.name, input: call.input, call_id: call.call_id }, { name: 'apply_patch', input: patch, call_id: 'call_p' });
      assert.ok(s.events.some((e) => e.type === 'response.custom_tool_call_input.done' && e.input === patch));
      // the client ran it and replays the conversation with the output
      t.mock.enqueue(m, { text: 'Created a.txt.' });
      const next = await client.responses.create({
        model: `${kind.prefix}/${m}`,
        store: false,
        tools,
        input: [
          { role: 'user', content: 'Add a.txt' },
          { type: 'custom_tool_call', call_id: call.call_id, name: 'apply_patch', input: patch },
          { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Success. Updated: A a.txt' },
        ],
      });
      assert.equal(next.output_text, 'Created a.txt.');
      const seen = t.mock.requestsFor(m)[1]!;
      offered(seen, 'apply_patch');
      assert.deepEqual(seen.toolOutputs, ['Success. Updated: A a.txt']);
      assert.match(JSON.stringify(seen.body), /Begin Patch/, 'the call is replayed with its input');
    });

    test(`${kind.api}: shell and local_shell round trips (shell_call / local_shell_call, then their outputs)`, async () => {
      const m = uniq(`shell-${kind.prefix}`);
      const tools = [{ type: 'shell' as const, environment: { type: 'local' as const } }, { type: 'local_shell' as const }];
      t.mock.enqueue(m, {
        toolCalls: [
          { name: 'shell', arguments: { commands: ['echo hi'] }, id: 'call_sh' },
          { name: 'local_shell', arguments: { command: ['ls', '-a'] }, id: 'call_lsh' },
        ],
      });
      const r = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Look around', tools });
      const sh = r.output.find((i) => i.type === 'shell_call');
      const lsh = r.output.find((i) => i.type === 'local_shell_call');
      assert.deepEqual(sh && { call_id: sh.call_id, action: sh.action, environment: sh.environment }, {
        call_id: 'call_sh',
        action: { commands: ['echo hi'], timeout_ms: null, max_output_length: null },
        environment: { type: 'local' },
      });
      assert.deepEqual(lsh && { call_id: lsh.call_id, command: lsh.action.command }, { call_id: 'call_lsh', command: ['ls', '-a'] });
      t.mock.enqueue(m, { text: 'All done.' });
      const next = await client.responses.create({
        model: `${kind.prefix}/${m}`,
        store: false,
        tools,
        input: [
          { role: 'user', content: 'Look around' },
          { type: 'shell_call', call_id: 'call_sh', action: { commands: ['echo hi'] }, environment: { type: 'local' } },
          { type: 'local_shell_call', id: lsh!.id, call_id: 'call_lsh', status: 'completed', action: lsh!.action },
          { type: 'shell_call_output', call_id: 'call_sh', output: [{ stdout: 'hi\n', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
          { type: 'local_shell_call_output', id: lsh!.id, output: '{"output":".\\n..\\n"}' },
        ],
      });
      assert.equal(next.output_text, 'All done.');
      assert.deepEqual(t.mock.requestsFor(m)[1]!.toolOutputs, ['Exit code: 0\nstdout:\nhi\n', '{"output":".\\n..\\n"}']);
    });
  }

  test('OpenAI Responses upstream: client tools and their items pass as they are', async () => {
    const m = uniq('client-tools-r');
    const tools = [NAMESPACE, { type: 'custom' as const, name: 'apply_patch' }, { type: 'shell' as const, environment: { type: 'local' as const } }];
    await client.responses.create({
      model: `r/${m}`,
      store: false,
      tools,
      input: [
        { role: 'user', content: 'go' },
        { type: 'shell_call', call_id: 'c1', action: { commands: ['ls'] } },
        { type: 'shell_call_output', call_id: 'c1', output: [{ stdout: 'a', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
      ],
    });
    const seen = t.mock.requestsFor(m)[0]!.body;
    assert.deepEqual(seen.tools, tools);
    assert.deepEqual(
      seen.input.map((i: { type?: string }) => i.type),
      ['message', 'shell_call', 'shell_call_output'],
    );
  });
});
