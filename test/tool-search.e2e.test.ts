/**
 * Tool search and deferred loading end to end: OpenAI's `tool_search` tool and `defer_loading`, run by
 * the gateway for every provider kind, through the real openai SDKs, with a real upstream MCP server and
 * the mock provider as the model (what the model was offered is read from what the mock received).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type OpenAI6 from 'openai6';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import type { MockRequest, MockTurn } from '../fixtures/mock-provider.ts';
import { openaiClients, PROVIDER_KINDS, startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';

let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
let client: OpenAI;
let client6: OpenAI6;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    mcp_servers: {
      fixture: { url: fixture.url, transport: 'http', description: 'Arithmetic and echo test tools' },
      // The same server again, deferred by the gateway's settings: a request gets a search without asking.
      lazyfix: { url: fixture.url, transport: 'http', defer_loading: true },
    },
    // One server's tools are fewer than this; both servers' are more.
    mcp_settings: { defer_loading_over: 15 },
  });
  ({ client, client6 } = openaiClients(t.gw.url));
});
after(async () => {
  await t.close();
  await fixture.close();
});

let n = 0;
const uniq = (label: string) => `ts-${label}-${++n}`;

const gw = (extra: Record<string, unknown> = {}) => ({
  type: 'mcp' as const,
  server_label: 'gw',
  server_url: 'litellm_proxy/mcp/fixture',
  require_approval: 'never' as const,
  defer_loading: true,
  ...extra,
});

/** Searches first, then calls what it was told to, then answers with the tool's output. */
function searchThenCall(query: string, call: { name: string; arguments: Record<string, unknown> }, search = 'tool_search') {
  return (req: MockRequest): MockTurn => {
    if (req.toolOutputs.length === 0) return { toolCalls: [{ name: search, arguments: { query } }] };
    if (req.toolOutputs.length === 1) return { toolCalls: [call] };
    return { text: `Done: ${req.toolOutputs.at(-1)!.split('\n')[0]}` };
  };
}

const types = (output: { type: string }[]) => output.map((i) => i.type);

for (const { prefix, api } of PROVIDER_KINDS) {
  describe(`deferred MCP tools via ${prefix}/ (${api})`, () => {
    test('the first call carries the search only; the search loads the tool; its call runs as an mcp_call (stream and not)', async () => {
      const m = uniq(prefix);
      t.mock.always(m, searchThenCall('add two numbers', { name: 'fixture-add', arguments: { a: 2, b: 3 } }));
      const body = { model: `${prefix}/${m}`, input: 'What is 2+3?', tools: [{ type: 'tool_search' }, gw()] };

      const { violations, events } = await streamResponse(t.gw.url, { ...body, stream: true });
      assert.deepEqual(violations, []);
      const final = events.at(-1).response;
      assert.equal(final.status, 'completed');
      assert.deepEqual(types(final.output), ['mcp_list_tools', 'tool_search_call', 'tool_search_output', 'mcp_call', 'message']);
      const [list, call, out, mcpCall, msg] = final.output;
      assert.ok(list.tools.length > 5, 'deferred tools are still listed');
      assert.match(call.id, /^tsc_/);
      assert.deepEqual(
        { ...call, id: 'x', call_id: 'y' },
        { id: 'x', type: 'tool_search_call', call_id: 'y', arguments: { query: 'add two numbers' }, execution: 'server', status: 'completed' },
      );
      assert.equal(out.call_id, call.call_id);
      assert.equal(out.execution, 'server');
      assert.equal(out.status, 'completed');
      assert.equal(out.tools.length, 1);
      assert.equal(out.tools[0].type, 'mcp');
      assert.equal(out.tools[0].server_label, 'gw');
      assert.equal(out.tools[0].allowed_tools[0], 'add', 'the best match comes first');
      assert.deepEqual([mcpCall.name, mcpCall.output.split('\n')[0], mcpCall.status], ['add', '5', 'completed']);
      assert.equal(msg.content[0].text, 'Done: 5');
      // The tool search items stream as plain output_item events (in progress, then completed).
      const added = events.filter((e: any) => e.type === 'response.output_item.added' && e.item.type.startsWith('tool_search'));
      assert.deepEqual(
        added.map((e: any) => [e.item.type, e.item.status]),
        [
          ['tool_search_call', 'in_progress'],
          ['tool_search_output', 'in_progress'],
        ],
      );

      const [first, second, third] = t.mock.requestsFor(m);
      assert.deepEqual(first!.functions, ['tool_search'], 'no MCP definition before the search');
      assert.ok(second!.functions.includes('tool_search') && second!.functions.includes('fixture-add'), second!.functions.join());
      assert.ok(second!.functions.length < list.tools.length + 1, 'only what the search loaded');
      assert.ok(third!.functions.includes('fixture-add'), 'loaded tools stay loaded for the rest of the response');
      assert.match(second!.toolOutputs[0]!, /Loaded \d+ tools?, which you can call now: fixture-add/);

      // Not streamed, and through both SDK generations: they parse the items.
      for (const sdk of [client, client6] as const) {
        const plain = await (sdk as OpenAI).responses.create(body as never);
        assert.deepEqual(types(plain.output), ['mcp_list_tools', 'tool_search_call', 'tool_search_output', 'mcp_call', 'message']);
        const so = plain.output.find((i) => i.type === 'tool_search_output');
        assert.ok(so && so.type === 'tool_search_output' && so.tools[0]?.type === 'mcp');
        assert.equal(plain.output_text, 'Done: 5');
      }
    });
  });
}

describe('continuations', () => {
  test('previous_response_id keeps the loaded tools without searching again', async () => {
    const m = uniq('cont');
    t.mock.always(m, searchThenCall('echo text', { name: 'fixture-echo', arguments: { text: 'hi' } }));
    const body = { model: `r/${m}`, input: 'Echo hi', tools: [{ type: 'tool_search' }, gw()] };
    const r1 = await client.responses.create(body as never);
    assert.ok(types(r1.output).includes('tool_search_output'));
    const m2 = uniq('cont2');
    t.mock.always(m2, (req) => (req.toolOutputs.length > 2 ? { text: 'again done' } : { toolCalls: [{ name: 'fixture-echo', arguments: { text: 'again' } }] }));
    const r2 = await client.responses.create({ ...body, model: `r/${m2}`, input: 'Echo again', previous_response_id: r1.id } as never);
    assert.deepEqual(types(r2.output), ['mcp_call', 'message'], 'the listing is reused and nothing is searched');
    const offered = t.mock.requestsFor(m2)[0]!.functions;
    assert.ok(offered.includes('fixture-echo') && offered.includes('tool_search'), offered.join());
    assert.ok(!offered.includes('fixture-add'), 'only what was loaded');
  });

  test('store: false with the output replayed in input keeps the loaded tools', async () => {
    const m = uniq('replay');
    t.mock.always(m, searchThenCall('echo text', { name: 'fixture-echo', arguments: { text: 'hi' } }));
    const body = { model: `a/${m}`, tools: [{ type: 'tool_search' }, gw()], store: false };
    const r1 = await client.responses.create({ ...body, input: 'Echo hi' } as never);
    const m2 = uniq('replay2');
    t.mock.always(m2, () => ({ text: 'fine' }));
    const input = [{ role: 'user', content: 'Echo hi' }, ...r1.output, { role: 'user', content: 'and now?' }];
    await client.responses.create({ ...body, model: `a/${m2}`, input } as never);
    const seen = t.mock.requestsFor(m2)[0]!;
    assert.ok(seen.functions.includes('fixture-echo'), seen.functions.join());
    // The search reads to the model as a call of the search function and its output.
    assert.match(seen.toolOutputs[0]!, /Loaded \d+ tools?, which you can call now: fixture-echo/);
  });
});

describe('deferred functions of the client', () => {
  test('a deferred function and a namespace member are loaded by the search; the call goes back to the client', async () => {
    const m = uniq('fn');
    t.mock.always(m, (req) =>
      req.toolOutputs.length
        ? { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }
        : { toolCalls: [{ name: 'tool_search', arguments: { query: 'weather forecast for a city' } }] },
    );
    const tools = [
      { type: 'tool_search' },
      {
        type: 'function',
        name: 'get_weather',
        description: 'Current weather and forecast for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        defer_loading: true,
      },
      { type: 'function', name: 'get_time', description: 'The current time', parameters: { type: 'object', properties: {} } },
      {
        type: 'namespace',
        name: 'crm',
        description: 'Customer records',
        tools: [{ type: 'function', name: 'find_customer', description: 'Find a customer by name or email', defer_loading: true }],
      },
    ];
    const r = await client.responses.create({ model: `c/${m}`, input: 'Weather in Oslo?', tools } as never);
    assert.deepEqual(types(r.output), ['tool_search_call', 'tool_search_output', 'function_call']);
    const out = r.output[1] as any;
    assert.deepEqual(
      out.tools.map((x: any) => x.name),
      ['get_weather'],
    );
    const [first, second] = t.mock.requestsFor(m);
    assert.deepEqual(first!.functions, ['get_time', 'tool_search']);
    assert.deepEqual(second!.functions, ['get_time', 'get_weather', 'tool_search']);
    assert.equal((r.output[2] as any).name, 'get_weather');

    const m2 = uniq('ns');
    t.mock.always(m2, (req) =>
      req.toolOutputs.length ? { text: 'ok' } : { toolCalls: [{ name: 'tool_search', arguments: { query: 'look up a customer by email' } }] },
    );
    const r2 = await client.responses.create({ model: `r/${m2}`, input: 'Who is a@b.c?', tools } as never);
    const ns = (r2.output[1] as any).tools.find((x: any) => x.type === 'namespace');
    assert.deepEqual([ns.name, ns.tools.map((f: any) => f.name)], ['crm', ['find_customer']]);
    const body = t.mock.requestsFor(m2)[1]!.body;
    const crm = body.tools.find((x: any) => x.type === 'namespace');
    assert.deepEqual(
      crm.tools.map((f: any) => [f.name, f.defer_loading]),
      [['find_customer', undefined]],
      'a loaded tool reaches the model without defer_loading',
    );
  });

  test('execution "client": the call goes back to the client, whose tool_search_output loads its tools', async () => {
    const m = uniq('client');
    t.mock.always(m, (req) =>
      req.toolOutputs.length
        ? { toolCalls: [{ name: 'lookup_order', arguments: { id: '7' } }] }
        : { toolCalls: [{ name: 'tool_search', arguments: { goal: 'orders' } }] },
    );
    const search = {
      type: 'tool_search',
      execution: 'client',
      description: 'Find tools in my app',
      parameters: { type: 'object', properties: { goal: { type: 'string' } } },
    };
    const r1 = await client.responses.create({ model: `a/${m}`, input: 'Where is order 7?', tools: [search] } as never);
    assert.deepEqual(types(r1.output), ['tool_search_call']);
    const call = r1.output[0] as any;
    assert.deepEqual([call.execution, call.status, call.arguments], ['client', 'completed', { goal: 'orders' }]);
    const seen = t.mock.requestsFor(m)[0]!.body;
    const offered = seen.tools.find((x: any) => x.name === 'tool_search');
    assert.equal(offered.description, 'Find tools in my app');

    const r2 = await client.responses.create({
      model: `a/${m}`,
      previous_response_id: r1.id,
      tools: [search],
      input: [
        {
          type: 'tool_search_output',
          call_id: call.call_id,
          execution: 'client',
          status: 'completed',
          tools: [
            { type: 'function', name: 'lookup_order', description: 'Look up an order', parameters: { type: 'object', properties: { id: { type: 'string' } } } },
          ],
        },
      ],
    } as never);
    assert.deepEqual(types(r2.output), ['function_call']);
    assert.deepEqual(t.mock.requestsFor(m)[1]!.functions, ['lookup_order', 'tool_search']);
  });
});

describe('settings and errors', () => {
  test("a server's defer_loading gives a request a search it did not ask for; a request's defer_loading: false wins", async () => {
    const m = uniq('settings');
    t.mock.always(m, searchThenCall('echo', { name: 'lazyfix-echo', arguments: { text: 'x' } }));
    const tool = { type: 'mcp', server_label: 'lazy', server_url: 'litellm_proxy/mcp/lazyfix', require_approval: 'never' };
    const r = await client.responses.create({ model: `r/${m}`, input: 'Echo x', tools: [tool] } as never);
    assert.deepEqual(types(r.output), ['mcp_list_tools', 'tool_search_call', 'tool_search_output', 'mcp_call', 'message']);
    assert.deepEqual(t.mock.requestsFor(m)[0]!.functions, ['tool_search']);

    const m2 = uniq('settings2');
    t.mock.always(m2, () => ({ text: 'no search' }));
    await client.responses.create({ model: `r/${m2}`, input: 'hi', tools: [{ ...tool, defer_loading: false }] } as never);
    const offered = t.mock.requestsFor(m2)[0]!.functions;
    assert.ok(offered.includes('lazyfix-echo') && !offered.includes('tool_search'), offered.join());
  });

  test('mcp_settings.defer_loading_over defers the tools of a response offered more than that', async () => {
    const m = uniq('over');
    t.mock.always(m, () => ({ text: 'ok' }));
    const all = { type: 'mcp', server_label: 'all', server_url: 'litellm_proxy', require_approval: 'never' };
    const r = await client.responses.create({ model: `c/${m}`, input: 'hi', tools: [all] } as never);
    const listed = (r.output[0] as any).tools.length;
    assert.ok(listed > 15, `${listed} tools listed`);
    assert.deepEqual(t.mock.requestsFor(m)[0]!.functions, ['tool_search']);
    await client.responses.create({ model: `c/${m}`, input: 'hi', tools: [{ ...all, server_url: 'litellm_proxy/mcp/fixture' }] } as never);
    const few = t.mock.requestsFor(m)[1]!.functions;
    assert.ok(few.includes('fixture-add') && !few.includes('tool_search'), few.join());
  });

  test('Chat Completions: deferred tools are searched and called the same way', async () => {
    const m = uniq('chat');
    t.mock.always(m, searchThenCall('add two numbers', { name: 'lazyfix-add', arguments: { a: 1, b: 1 } }));
    const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: `c/${m}`,
        messages: [{ role: 'user', content: '1+1?' }],
        tools: [{ type: 'mcp', server_label: 'lazy', server_url: 'litellm_proxy/mcp/lazyfix', require_approval: 'never' }],
      }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.choices[0].message.content, 'Done: 2');
  });

  test('deferred tools without a tool_search tool are a 400 naming the tool', async () => {
    const res = await fetch(`${t.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'r/x', input: 'hi', tools: [gw()] }),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as any;
    assert.equal(error.param, 'tools[0].defer_loading');
    assert.match(error.message, /tool_search/);
  });

  test('two tool_search tools are a 400', async () => {
    const res = await fetch(`${t.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'r/x', input: 'hi', tools: [{ type: 'tool_search' }, { type: 'tool_search' }] }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.param, 'tools[1]');
  });
});
