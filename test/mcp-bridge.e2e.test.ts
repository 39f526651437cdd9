/**
 * The MCP bridge end to end: `{"type":"mcp"}` tools through the real openai SDK, with real upstream MCP
 * servers (the project's fixture over Streamable HTTP and stdio, and server-everything over stdio) and
 * the mock provider as the model.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type OpenAI6 from 'openai6';
import { fixtureState, resetFixtureState, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { openaiClients, startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
let client: OpenAI;
let client6: OpenAI6;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    mcp_servers: {
      fixture: { url: fixture.url, transport: 'http' },
      fixstdio: {
        command: process.execPath,
        args: ['--experimental-strip-types', '--no-warnings', `${root}fixtures/mcp-server.ts`, 'stdio'],
        transport: 'stdio',
      },
      everything: {
        command: process.execPath,
        args: [`${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'stdio'],
        transport: 'stdio',
      },
    },
  });
  ({ client, client6 } = openaiClients(t.gw.url));
});
after(async () => {
  await t.close();
  await fixture.close();
});

let n = 0;
const uniq = (label: string) => `mcp-${label}-${++n}`;

const gw = (extra: Record<string, unknown> = {}) => ({
  type: 'mcp' as const,
  server_label: 'gw',
  server_url: 'litellm_proxy',
  require_approval: 'never' as const,
  ...extra,
});

const streamFrames = (body: Record<string, unknown>) => streamResponse(t.gw.url, body);

const strip = (output: any[]) => output.map(({ id: _id, approval_request_id: _a, ...rest }) => rest);

for (const prefix of ['r', 'c', 'a'] as const) {
  describe(`auto-executed MCP call via ${prefix}/`, () => {
    test('stream and non-stream: list, call, answer', async () => {
      const m = uniq(`auto-${prefix}`);
      t.mock.always(
        m,
        callThenAnswer([{ name: 'fixture-add', arguments: { a: 2, b: 3 } }], (outs) => `The sum is ${outs[0]!.split('\n')[0]}.`),
      );
      const body = { model: `${prefix}/${m}`, input: 'What is 2+3? Use the tool.', tools: [gw()] };
      const { violations, events } = await streamFrames(body);
      assert.deepEqual(violations, []);
      const types = events.map((e) => e.type);
      assert.deepEqual(types.slice(0, 6), [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.mcp_list_tools.in_progress',
        'response.mcp_list_tools.completed',
        'response.output_item.done',
      ]);
      const callEvents = types.filter((x) => x.startsWith('response.mcp_call'));
      assert.deepEqual(callEvents, [
        'response.mcp_call.in_progress',
        'response.mcp_call_arguments.delta',
        'response.mcp_call_arguments.done',
        'response.mcp_call.completed',
      ]);
      const final = events.at(-1).response;
      assert.equal(final.status, 'completed');
      const [list, call, msg] = final.output;
      assert.equal(list.type, 'mcp_list_tools');
      assert.equal(list.server_label, 'gw');
      assert.match(list.id, /^mcpl_/);
      assert.ok(list.tools.some((x: any) => x.name === 'add' && x.annotations.read_only === true));
      assert.ok(
        list.tools.some((x: any) => x.name === 'get-sum'),
        'server-everything tools are listed too',
      );
      assert.deepEqual(
        { ...call, id: 'x' },
        {
          id: 'x',
          type: 'mcp_call',
          server_label: 'gw',
          name: 'add',
          arguments: '{"a":2,"b":3}',
          output: '5\n{"sum":5}',
          error: null,
          status: 'completed',
          approval_request_id: null,
        },
      );
      assert.equal(msg.type, 'message');
      assert.equal(msg.content[0].text, 'The sum is 5.');
      // usage sums both model calls (12 + 12 in, 7 + 7 out)
      assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens, final.usage.total_tokens], [24, 14, 38]);

      const plain = await client.responses.create(body);
      assert.deepEqual(strip(plain.output), strip(final.output));
      assert.equal(plain.output_text, 'The sum is 5.');
      // The model saw MCP tools as functions named <server>-<tool>.
      const offered = t.mock.requestsFor(m)[0]!.functions;
      assert.ok(offered.includes('fixture-add') && offered.includes('everything-get-sum') && offered.includes('fixstdio-echo'));
      assert.ok(
        offered.every((f) => /^[a-zA-Z0-9_-]{1,64}$/.test(f)),
        offered.join(','),
      );
    });
  });
}

describe('the loop', () => {
  test('two calls in one turn run in parallel', async () => {
    resetFixtureState();
    const m = uniq('parallel');
    t.mock.always(
      m,
      callThenAnswer([
        { name: 'fixture-slow', arguments: { ms: 300 } },
        { name: 'fixture-slow', arguments: { ms: 300 } },
      ]),
    );
    const r = await client.responses.create({ model: `c/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
    const calls = r.output.filter((o) => o.type === 'mcp_call');
    assert.equal(calls.length, 2);
    for (const c of calls) assert.equal((c as any).output, 'max_in_flight=2');
    assert.equal(fixtureState().maxInFlight, 2);
  });

  test('allowed_tools narrows what the model is offered', async () => {
    const m = uniq('allowed');
    t.mock.always(m, { text: 'ok' });
    await client.responses.create({ model: `c/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture', allowed_tools: ['add', 'echo'] })] });
    assert.deepEqual(t.mock.requestsFor(m)[0]!.functions.sort(), ['fixture-add', 'fixture-echo']);
    const m2 = uniq('allowed-ro');
    t.mock.always(m2, { text: 'ok' });
    const r = await client.responses.create({
      model: `c/${m2}`,
      input: 'go',
      tools: [gw({ server_url: 'litellm_proxy/mcp/fixture', allowed_tools: { read_only: true } })],
    });
    assert.deepEqual(t.mock.requestsFor(m2)[0]!.functions.sort(), ['fixture-add', 'fixture-echo', 'fixture-image', 'fixture-slow']);
    assert.equal((r.output[0] as any).tools.length, 4);
  });

  test('zero usable tools is an mcp_list_tools item with an error, never a silent call', async () => {
    const m = uniq('zero');
    t.mock.always(m, { text: 'no tools' });
    const { violations, events } = await streamFrames({
      model: `c/${m}`,
      input: 'go',
      tools: [gw({ server_url: 'litellm_proxy/mcp/fixture', allowed_tools: ['nope'] })],
    });
    assert.deepEqual(violations, []);
    assert.ok(events.some((e) => e.type === 'response.mcp_list_tools.failed'));
    const list = events.at(-1).response.output[0];
    assert.match(list.error, /allowed_tools matched none/);
    assert.deepEqual(list.tools, []);
  });

  test('a failing tool: the call fails, the model sees the error, the loop goes on', async () => {
    const m = uniq('fail');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-fail', arguments: { reason: 'disk full' } }], (outs) => `Saw: ${outs[0]}`),
    );
    const { violations, events } = await streamFrames({ model: `a/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
    assert.deepEqual(violations, []);
    assert.ok(events.some((e) => e.type === 'response.mcp_call.failed'));
    const final = events.at(-1).response;
    const call = final.output.find((o: any) => o.type === 'mcp_call');
    assert.equal(call.status, 'failed');
    assert.deepEqual(call.error, { type: 'mcp_tool_execution_error', content: [{ type: 'text', text: 'failed on purpose: disk full' }] });
    assert.equal(final.status, 'completed');
    assert.equal(final.output.at(-1).content[0].text, 'Saw: Error: failed on purpose: disk full');
  });

  test('the upstream killed mid-run: the call fails and the response still ends', async () => {
    const m = uniq('crash');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixstdio-crash', arguments: {} }], (outs) => `After crash: ${outs[0]}`),
    );
    const { violations, events } = await streamFrames({ model: `c/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixstdio' })] });
    assert.deepEqual(violations, []);
    const final = events.at(-1).response;
    const call = final.output.find((o: any) => o.type === 'mcp_call');
    assert.equal(call.status, 'failed');
    assert.equal(call.error.type, 'mcp_protocol_error');
    assert.equal(final.status, 'completed');
    assert.match(final.output.at(-1).content[0].text, /^After crash: Error/);
    // The crashed stdio server is restarted: the next request can use it again.
    const m2 = uniq('after-crash');
    t.mock.always(m2, callThenAnswer([{ name: 'fixstdio-echo', arguments: { text: 'back' } }]));
    const again = await client.responses.create({ model: `c/${m2}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixstdio' })] });
    assert.equal((again.output.find((o) => o.type === 'mcp_call') as any).output, 'back');
  });

  test('image content reaches the model as image input', async () => {
    for (const prefix of ['r', 'c', 'a']) {
      const m = uniq(`image-${prefix}`);
      t.mock.always(m, callThenAnswer([{ name: 'fixture-image', arguments: {} }]));
      const r = await client.responses.create({ model: `${prefix}/${m}`, input: 'show me', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
      assert.equal((r.output.find((o) => o.type === 'mcp_call') as any).output, 'here is a picture');
      const seen = t.mock.requestsFor(m)[1]!.toolOutputs[0]!;
      assert.match(seen, /here is a picture/);
      assert.match(seen, /\[image/, `${prefix}: ${seen}`);
    }
  });

  test('tool names the model cannot take are mapped, and mapped back', async () => {
    const m = uniq('names');
    let offered: string[] = [];
    t.mock.always(m, (req) => {
      offered = req.functions;
      const dots = req.functions.find((f) => f.startsWith('fixture-name_with_dots'))!;
      const long = req.functions.find((f) => f.startsWith('fixture-a_really_long'))!;
      return req.toolOutputs.length
        ? { text: req.toolOutputs.join(',') }
        : {
            toolCalls: [
              { name: dots, arguments: {} },
              { name: long, arguments: {} },
            ],
          };
    });
    const r = await client.responses.create({ model: `c/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
    assert.ok(offered.every((f) => /^[a-zA-Z0-9_-]{1,64}$/.test(f)));
    assert.equal(new Set(offered).size, offered.length);
    const calls = r.output.filter((o) => o.type === 'mcp_call') as any[];
    assert.deepEqual(
      calls.map((c) => [c.name, c.output]),
      [
        ['name.with.dots', 'dots ok'],
        ['a_really_long_tool_name_that_goes_on_and_on_well_past_the_limit_of_sixty_four', 'long ok'],
      ],
    );
    // task-only tools are hidden; pages 1-3 were all listed
    const list = r.output[0] as any;
    assert.equal(list.tools.length, 10);
    assert.ok(!list.tools.some((x: any) => x.name === 'needs_task'));
  });

  test('the tool-call limit: calls past it are not run, then the model must answer', async () => {
    const m = uniq('limit');
    t.mock.always(m, (req) =>
      req.body.tool_choice === 'none' ? { text: 'giving up' } : { toolCalls: [{ name: 'fixture-echo', arguments: { text: 'again' } }] },
    );
    const r = await client.responses.create({ model: `c/${m}`, input: 'loop', max_tool_calls: 2, tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
    const calls = r.output.filter((o) => o.type === 'mcp_call') as any[];
    assert.equal(calls.filter((c) => c.status === 'completed').length, 2);
    assert.equal(r.output_text, 'giving up');
    assert.equal(t.mock.requestsFor(m).at(-1)!.body.tool_choice, 'none');
    assert.equal(r.max_tool_calls, 2);
  });

  test('the iteration limit (10 by default) ends with a forced answer', async () => {
    const m = uniq('iterations');
    t.mock.always(m, (req) => (req.body.tool_choice === 'none' ? { text: 'final' } : { toolCalls: [{ name: 'fixture-echo', arguments: { text: 'x' } }] }));
    const r = await client.responses.create({ model: `r/${m}`, input: 'loop', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
    assert.equal(t.mock.requestsFor(m).length, 11);
    assert.equal(r.output.filter((o) => o.type === 'mcp_call').length, 10);
    assert.equal(r.output_text, 'final');
  });

  test('client function tools mixed in: a client call ends the response with it', async () => {
    const m = uniq('mixed');
    t.mock.always(
      m,
      callThenAnswer([
        { name: 'fixture-echo', arguments: { text: 'hi' } },
        { name: 'local_fn', arguments: {} },
      ]),
    );
    const r = await client.responses.create({
      model: `a/${m}`,
      input: 'go',
      tools: [
        gw({ server_url: 'litellm_proxy/mcp/fixture' }),
        { type: 'function', name: 'local_fn', parameters: { type: 'object', properties: {} }, strict: false },
      ],
    });
    assert.deepEqual(
      r.output.map((o) => o.type),
      ['mcp_list_tools', 'mcp_call', 'function_call'],
    );
    assert.equal(t.mock.requestsFor(m).length, 1);
  });
});

describe('approvals', () => {
  test('always -> approve -> the call runs and the model answers', async () => {
    const m = uniq('approve');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-write_note', arguments: { note: 'hello' } }], (outs) => `Done: ${outs[0]}`),
    );
    const tool = { type: 'mcp' as const, server_label: 'notes', server_url: 'litellm_proxy/mcp/fixture' }; // require_approval defaults to "always"
    const { violations, events } = await streamFrames({ model: `c/${m}`, input: 'write hello', tools: [tool] });
    assert.deepEqual(violations, []);
    const first = events.at(-1).response;
    assert.equal(first.status, 'completed');
    const req = first.output.find((o: any) => o.type === 'mcp_approval_request');
    assert.match(req.id, /^mcpr_/);
    assert.deepEqual({ ...req, id: 'x' }, { id: 'x', type: 'mcp_approval_request', server_label: 'notes', name: 'write_note', arguments: '{"note":"hello"}' });
    // the approval item is streamed as added + done only
    const reqEvents = events.filter((e) => e.item_id === req.id || e.item?.id === req.id).map((e) => e.type);
    assert.deepEqual(reqEvents, ['response.output_item.added', 'response.output_item.done']);
    assert.equal(fixtureState().calls.filter((c) => c.name === 'write_note').length, 0, 'not run before approval');

    const second = await client.responses.create({
      model: `c/${m}`,
      previous_response_id: first.id,
      tools: [tool],
      input: [{ type: 'mcp_approval_response', approval_request_id: req.id, approve: true }],
    });
    const call = second.output.find((o) => o.type === 'mcp_call') as any;
    assert.equal(call.approval_request_id, req.id);
    assert.equal(call.output, 'wrote: hello');
    assert.equal(second.output_text, 'Done: wrote: hello');
    assert.ok(!second.output.some((o) => o.type === 'mcp_list_tools'), 'the listing in the conversation is reused');
  });

  test('deny: the model is told', async () => {
    const m = uniq('deny');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-write_note', arguments: { note: 'x' } }], (outs) => `Model saw: ${outs[0]}`),
    );
    const tool = { type: 'mcp' as const, server_label: 'notes', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'always' as const };
    const first = await client.responses.create({ model: `a/${m}`, input: 'write', tools: [tool] });
    const req = first.output.find((o) => o.type === 'mcp_approval_request')!;
    const before = fixtureState().calls.length;
    const second = await client.responses.create({
      model: `a/${m}`,
      previous_response_id: first.id,
      tools: [tool],
      input: [{ type: 'mcp_approval_response', approval_request_id: req.id!, approve: false, reason: 'not today' }],
    });
    assert.equal(fixtureState().calls.length, before, 'nothing ran');
    assert.match(second.output_text, /Model saw: The user did not approve this tool call: not today/);
  });

  test('filters: never for named tools, approval for the rest; calls of one turn split', async () => {
    const m = uniq('filters');
    t.mock.always(
      m,
      callThenAnswer([
        { name: 'fixture-echo', arguments: { text: 'free' } },
        { name: 'fixture-write_note', arguments: { note: 'gated' } },
      ]),
    );
    const r = await client.responses.create({
      model: `r/${m}`,
      input: 'go',
      tools: [{ type: 'mcp', server_label: 'fx', server_url: 'litellm_proxy/mcp/fixture', require_approval: { never: { tool_names: ['echo'] } } }],
    });
    assert.deepEqual(
      r.output.map((o) => o.type),
      ['mcp_list_tools', 'mcp_call', 'mcp_approval_request'],
    );
    assert.equal(r.status, 'completed');
  });

  test('replaying the items without previous_response_id works too', async () => {
    const m = uniq('replay');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-write_note', arguments: { note: 'replayed' } }], (outs) => `Replay: ${outs[0]}`),
    );
    const tool = { type: 'mcp' as const, server_label: 'notes', server_url: 'litellm_proxy/mcp/fixture' };
    const first = await client.responses.create({ model: `c/${m}`, input: 'write', tools: [tool], store: false });
    const req = first.output.find((o) => o.type === 'mcp_approval_request')!;
    const second = await client.responses.create({
      model: `c/${m}`,
      tools: [tool],
      store: false,
      input: [{ role: 'user', content: 'write' }, ...(first.output as any[]), { type: 'mcp_approval_response', approval_request_id: req.id!, approve: true }],
    });
    assert.equal(second.output_text, 'Replay: wrote: replayed');
  });

  test('an approval id the conversation never issued is a 400', async () => {
    const m = uniq('badapproval');
    const first = await client.responses.create({ model: `c/${m}`, input: 'hi' });
    await assert.rejects(
      client.responses.create({
        model: `c/${m}`,
        previous_response_id: first.id,
        input: [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_nope', approve: true }],
        tools: [gw()],
      }),
      (e: any) => e.status === 400 && e.param === 'input[0].approval_request_id',
    );
  });
});

describe('SDK stream helpers on MCP runs', () => {
  for (const [label, make] of [
    ['current', () => client],
    ['v6', () => client6],
  ] as const) {
    test(`responses.stream().finalResponse() (${label})`, async () => {
      const m = uniq(`final-${label}`);
      t.mock.always(
        m,
        callThenAnswer([{ name: 'fixture-add', arguments: { a: 1, b: 1 } }], () => 'Two.'),
      );
      const c = make() as OpenAI;
      const final = await c.responses.stream({ model: `c/${m}`, input: '1+1?', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] }).finalResponse();
      assert.equal(final.status, 'completed');
      assert.deepEqual(
        final.output.map((o) => o.type),
        ['mcp_list_tools', 'mcp_call', 'message'],
      );
      assert.equal(final.output_text, 'Two.');
      assert.equal((final.output[1] as any).output, '2\n{"sum":2}');
    });
  }
});

describe('requests the gateway refuses', () => {
  test('an unknown server, a remote host not allowed, a connector', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ server_url: 'litellm_proxy/mcp/nope' }, /Unknown MCP server 'nope'/],
      [{ server_url: 'https://mcp.example.com/mcp' }, /host 'mcp.example.com' is not allowed/],
      [{ server_url: 'http://127.0.0.1:9/mcp' }, /host '127.0.0.1' is not allowed/],
      [{ server_url: 'ftp://x' }, /server_url must be/],
    ];
    for (const [extra, message] of cases) {
      await assert.rejects(client.responses.create({ model: 'c/x', input: 'go', tools: [gw(extra)] }), (e: any) => e.status === 400 && message.test(e.message));
    }
  });
});

describe('headers to upstreams', () => {
  test('x-mcp-<server>-<header> reaches that server only; the gateway key never does', async () => {
    resetFixtureState();
    const m = uniq('headers');
    t.mock.always(m, callThenAnswer([{ name: 'fixture-echo', arguments: { text: 'h' } }]));
    await client.responses.create(
      { model: `c/${m}`, input: 'go', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] },
      { headers: { 'x-mcp-fixture-x-team': 'blue', 'x-mcp-everything-x-team': 'red' } },
    );
    const call = fixtureState().calls.find((c) => c.name === 'echo')!;
    assert.equal(call.headers?.['x-team'], 'blue');
  });
});

describe('stored responses', () => {
  test('GET, input_items paging, DELETE', async () => {
    const m = uniq('stored');
    t.mock.always(m, { text: 'stored answer' });
    const r = await client.responses.create({
      model: `c/${m}`,
      input: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
      ],
      metadata: { k: 'v' },
    });
    const got = await client.responses.retrieve(r.id);
    assert.equal(got.id, r.id);
    assert.equal(got.output_text, 'stored answer');
    assert.deepEqual(got.metadata, { k: 'v' });
    const items: any[] = [];
    for await (const it of client.responses.inputItems.list(r.id, { limit: 2, order: 'asc' })) items.push(it);
    assert.equal(items.length, 3);
    assert.ok(items.every((i) => typeof i.id === 'string' && i.id.startsWith('msg_')));
    assert.deepEqual(
      items.map((i) => i.content[0].text),
      ['one', 'two', 'three'],
    );
    const desc = await client.responses.inputItems.list(r.id, { limit: 2 });
    assert.equal(desc.data[0]!.id, items[2].id);
    assert.equal(desc.has_more, true);
    await client.responses.delete(r.id);
    await assert.rejects(client.responses.retrieve(r.id), OpenAI.NotFoundError);
  });

  test('previous_response_id continues the conversation; an unknown one is a 400', async () => {
    const m = uniq('chain');
    t.mock.always(m, (req) => ({ text: `I have seen ${JSON.stringify(req.body.messages.map((x: any) => x.content))}` }));
    const a = await client.responses.create({ model: `c/${m}`, input: 'first' });
    const b = await client.responses.create({ model: `c/${m}`, input: 'second', previous_response_id: a.id });
    assert.match(b.output_text, /first.*I have seen.*second/s);
    await assert.rejects(
      client.responses.create({ model: `c/${m}`, input: 'x', previous_response_id: 'resp_missing' }),
      (e: any) => e.status === 400 && e.code === 'previous_response_not_found',
    );
  });

  test('store: false is not kept', async () => {
    const r = await client.responses.create({ model: `c/${uniq('nostore')}`, input: 'x', store: false });
    await assert.rejects(client.responses.retrieve(r.id), OpenAI.NotFoundError);
  });
});

describe('Chat Completions with MCP tools', () => {
  test('non-stream: the loop runs server-side and the answer comes back', async () => {
    const m = uniq('chat');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-add', arguments: { a: 20, b: 22 } }], (o) => `It is ${o[0]!.split('\n')[0]}`),
    );
    const r = await client.chat.completions.create({
      model: `a/${m}`,
      messages: [{ role: 'user', content: '20+22?' }],
      tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] as any,
    });
    assert.equal(r.choices[0]!.message.content, 'It is 42');
    assert.equal(r.choices[0]!.finish_reason, 'stop');
    assert.equal(r.usage?.prompt_tokens, 24);
  });

  test('stream: one id, one finish_reason, usage summed', async () => {
    const m = uniq('chat-stream');
    t.mock.always(
      m,
      callThenAnswer([{ name: 'fixture-add', arguments: { a: 1, b: 2 } }], () => 'Three it is.'),
    );
    const stream = await client.chat.completions.create({
      model: `c/${m}`,
      messages: [{ role: 'user', content: '1+2?' }],
      tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] as any,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Three it is.');
    assert.equal(chunks.at(-1).usage.total_tokens, 38);
  });

  test('an MCP tool that may need approval is a 400 pointing to /v1/responses', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'c/x',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'mcp', server_label: 'gw', server_url: 'litellm_proxy' }] as any,
      }),
      (e: any) => e.status === 400 && /\/v1\/responses/.test(e.message),
    );
  });
});

test('readiness reports each upstream', async () => {
  const ready = (await (await fetch(`${t.gw.url}/health/readiness`)).json()) as any;
  assert.equal(ready.mcp_servers.fixture.state, 'ready');
  assert.equal(ready.mcp_servers.everything.transport, 'stdio');
});

test('tools/list_changed from an upstream drops the cached listing', async () => {
  const m = uniq('listchanged');
  t.mock.always(
    m,
    callThenAnswer([{ name: 'fixture-add_tool', arguments: { name: 'brand_new' } }], () => 'added'),
  );
  await client.responses.create({ model: `c/${m}`, input: 'add', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
  const m2 = uniq('listchanged2');
  t.mock.always(m2, { text: 'ok' });
  await client.responses.create({ model: `c/${m2}`, input: 'list', tools: [gw({ server_url: 'litellm_proxy/mcp/fixture' })] });
  assert.ok(t.mock.requestsFor(m2)[0]!.functions.includes('fixture-brand_new'));
});
