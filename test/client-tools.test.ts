/**
 * Unit tests of src/protocol/client-tools.ts: the client's own tools offered as functions to Chat and
 * Anthropic providers, their calls mapped back to OpenAI's item shapes (whole items and streams, which
 * must stay valid per the ordering rules of test/support/validate-stream.ts), and the client's earlier calls and outputs replayed as
 * function calls and outputs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasFunctionForm, isClientCall, providerTools } from '../src/protocol/client-tools.ts';
import { OutputComposer } from '../src/protocol/compose.ts';
import type { ItemEvent, ModelEvent } from '../src/protocol/events.ts';
import type { ModelInputItem, ModelTool } from '../src/protocol/model-request.ts';
import { Tool, type FunctionCallItem, type OutputItem } from '../src/protocol/responses.ts';
import { validateResponseStream } from './support/validate-stream.ts';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Tools as a client sends them (parsed, as the gateway holds them). */
const tools = (raw: unknown[]): ModelTool[] => raw.map((t) => Tool.parse(t) as ModelTool);

const CLIENT_TOOLS = tools([
  { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
  {
    type: 'namespace',
    name: 'crm',
    description: 'Customer records.',
    tools: [
      { type: 'function', name: 'lookup', description: 'Find a customer.', parameters: { type: 'object', properties: { email: { type: 'string' } } } },
      { type: 'custom', name: 'note', description: 'Free-form note.' },
    ],
  },
  { type: 'custom', name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' } },
  { type: 'local_shell' },
  { type: 'shell', environment: { type: 'local' } },
  { type: 'shell', environment: { type: 'container_auto' } },
  { type: 'apply_patch' },
  { type: 'computer_use_preview', display_width: 1024, display_height: 768, environment: 'browser' },
  { type: 'web_search' },
]);

/** A model call (as a Chat or Anthropic decoder composes it) calling `name` with `args`, split in two deltas. */
function modelCalls(...calls: { name: string; args: string; callId?: string }[]): ModelEvent[] {
  const c = new OutputComposer();
  const out: ModelEvent[] = [];
  c.text('Working on it.', out);
  calls.forEach((call, i) => {
    c.callStart(i, call.callId ?? `call_${i}`, call.name, out);
    c.callArgs(i, call.args.slice(0, 5), out);
    c.callArgs(i, call.args.slice(5), out);
  });
  c.close(out);
  return out;
}

function mapStream(events: ModelEvent[], toolList = CLIENT_TOOLS): ItemEvent[] {
  const calls = providerTools(toolList).names.calls()!;
  const out: ModelEvent[] = [];
  for (const ev of events) if (ev.type !== 'model.end') calls.mapEvent(ev, out);
  return out as ItemEvent[];
}

/** The events between a response.created and a response.completed, through the SSE validator. */
function validate(events: ItemEvent[]) {
  const output = events.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: OutputItem }).item);
  const usage = { input_tokens: 1, output_tokens: 1, total_tokens: 2 };
  const all = [{ type: 'response.created', response: { output: [] } }, ...events, { type: 'response.completed', response: { output, usage } }];
  return validateResponseStream(all.map((e, i) => ({ event: e.type, data: JSON.stringify({ ...e, sequence_number: i }) })));
}

const doneItems = (events: ItemEvent[]) => events.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: OutputItem }).item);

describe('client tools as provider functions', () => {
  test('each client tool becomes a function with a provider-safe name; hosted tools are left aside', () => {
    const { functions, hosted, names } = providerTools(CLIENT_TOOLS);
    assert.deepEqual(
      functions.map((f) => f.name),
      ['get_weather', 'crm__lookup', 'crm__note', 'apply_patch', 'local_shell', 'shell', 'apply_patch_2', 'computer'],
    );
    assert.deepEqual(
      hosted.map((t) => t.type),
      ['shell', 'web_search'],
    );
    for (const f of functions) assert.match(f.name, FUNCTION_NAME);
    const byName = new Map(functions.map((f) => [f.name, f]));
    // a plain function is offered as it is
    assert.deepEqual(byName.get('get_weather'), { name: 'get_weather', parameters: CLIENT_TOOLS[0]!.parameters, strict: true });
    // a namespace member keeps its schema; its description says which namespace it is in
    assert.deepEqual(byName.get('crm__lookup')!.parameters, { type: 'object', properties: { email: { type: 'string' } } });
    assert.match(byName.get('crm__lookup')!.description!, /Find a customer\.[\s\S]*crm: Customer records\./);
    // a custom tool takes one string, and its grammar is in the description
    assert.deepEqual(byName.get('apply_patch')!.parameters, {
      type: 'object',
      properties: { input: { type: 'string', description: "The tool's input, as free-form text." } },
      required: ['input'],
      additionalProperties: false,
    });
    assert.match(byName.get('apply_patch')!.description!, /lark grammar:\nstart: "\*\*\* Begin Patch"/);
    assert.deepEqual((byName.get('shell')!.parameters as { required: string[] }).required, ['commands']);
    assert.match(byName.get('computer')!.description!, /browser computer with a 1024x768 display/);
    assert.ok(names.calls(), 'calls to map back');
  });

  test('plain functions alone need no mapping', () => {
    assert.equal(providerTools(tools([{ type: 'function', name: 'f' }])).names.calls(), null);
  });

  test('names too long or with characters providers refuse are made safe, and never collide', () => {
    const ns = 'mcp.very-long.namespace/name'.repeat(3);
    const { functions } = providerTools(
      tools([
        { type: 'function', name: 'crm__lookup' },
        { type: 'namespace', name: 'crm', description: '', tools: [{ type: 'function', name: 'lookup' }] },
        {
          type: 'namespace',
          name: ns,
          description: '',
          tools: [
            { type: 'function', name: 'a' },
            { type: 'function', name: 'b' },
          ],
        },
      ]),
    );
    const names = functions.map((f) => f.name);
    assert.equal(names[0], 'crm__lookup');
    assert.equal(names[1], 'crm__lookup_2');
    for (const n of names) assert.match(n, FUNCTION_NAME);
    assert.equal(new Set(names).size, names.length);
  });

  test('which tools have a function form', () => {
    assert.deepEqual(
      CLIENT_TOOLS.map((t) => hasFunctionForm(t)),
      [true, true, true, true, true, false, true, true, false],
    );
  });

  test('a tool choice naming a client tool forces its function', () => {
    const { names } = providerTools(CLIENT_TOOLS);
    assert.equal(names.forced({ type: 'custom', name: 'apply_patch' }), 'apply_patch');
    assert.equal(names.forced({ type: 'apply_patch' }), 'apply_patch_2');
    assert.equal(names.forced({ type: 'shell' }), 'shell');
    assert.equal(names.forced({ type: 'function', name: 'get_weather' }), 'get_weather');
    assert.equal(names.forced({ type: 'function', name: 'lookup' }), 'crm__lookup');
    assert.equal(names.forced({ type: 'web_search_preview' }), null);
  });
});

describe('the model calls mapped back (whole items)', () => {
  const calls = providerTools(CLIENT_TOOLS).names.calls()!;
  const fc = (name: string, args: unknown): FunctionCallItem => ({
    id: 'fc_0123',
    type: 'function_call',
    status: 'completed',
    call_id: 'call_9',
    name,
    arguments: typeof args === 'string' ? args : JSON.stringify(args),
  });

  test('a namespace member: a function_call with its own name and the namespace', () => {
    assert.deepEqual(calls.mapItem(fc('crm__lookup', { email: 'a@b.c' })), {
      id: 'fc_0123',
      type: 'function_call',
      status: 'completed',
      call_id: 'call_9',
      name: 'lookup',
      namespace: 'crm',
      arguments: '{"email":"a@b.c"}',
    });
  });

  test('a custom tool: custom_tool_call with the text input (a namespace member keeps its namespace)', () => {
    assert.deepEqual(calls.mapItem(fc('apply_patch', { input: '*** Begin Patch\n' })), {
      id: 'ctc_0123',
      type: 'custom_tool_call',
      call_id: 'call_9',
      name: 'apply_patch',
      input: '*** Begin Patch\n',
    });
    assert.deepEqual(calls.mapItem(fc('crm__note', { input: 'call back' })), {
      id: 'ctc_0123',
      type: 'custom_tool_call',
      call_id: 'call_9',
      name: 'note',
      input: 'call back',
      namespace: 'crm',
    });
    // arguments that are not the JSON the function asked for: the raw text is the input
    assert.equal((calls.mapItem(fc('apply_patch', 'raw patch text')) as { input: string }).input, 'raw patch text');
  });

  test('local_shell: local_shell_call with an exec action', () => {
    assert.deepEqual(calls.mapItem(fc('local_shell', { command: ['ls', '-la'], working_directory: '/tmp', timeout_ms: 5000 })), {
      id: 'lsh_0123',
      type: 'local_shell_call',
      status: 'completed',
      call_id: 'call_9',
      action: { type: 'exec', command: ['ls', '-la'], env: {}, timeout_ms: 5000, user: null, working_directory: '/tmp' },
    });
    // a command written as one string is a shell line
    const line = calls.mapItem(fc('local_shell', { command: 'ls | wc -l' })) as { action: { command: string[] } };
    assert.deepEqual(line.action.command, ['bash', '-lc', 'ls | wc -l']);
  });

  test('shell: shell_call with commands, on the local environment', () => {
    assert.deepEqual(calls.mapItem(fc('shell', { commands: ['echo hi'] })), {
      id: 'sh_0123',
      type: 'shell_call',
      status: 'completed',
      call_id: 'call_9',
      action: { commands: ['echo hi'], timeout_ms: null, max_output_length: null },
      environment: { type: 'local' },
    });
  });

  test('apply_patch: apply_patch_call with the operation', () => {
    assert.deepEqual(calls.mapItem(fc('apply_patch_2', { type: 'create_file', path: 'a.txt', diff: '+hello\n' })), {
      id: 'apc_0123',
      type: 'apply_patch_call',
      status: 'completed',
      call_id: 'call_9',
      operation: { type: 'create_file', path: 'a.txt', diff: '+hello\n' },
    });
    assert.deepEqual((calls.mapItem(fc('apply_patch_2', { type: 'delete_file', path: 'a.txt' })) as { operation: unknown }).operation, {
      type: 'delete_file',
      path: 'a.txt',
    });
  });

  test('computer_use_preview: computer_call with the action', () => {
    assert.deepEqual(calls.mapItem(fc('computer', { action: { type: 'click', x: 10, y: 20, button: 'left' } })), {
      id: 'cu_0123',
      type: 'computer_call',
      status: 'completed',
      call_id: 'call_9',
      pending_safety_checks: [],
      action: { type: 'click', x: 10, y: 20, button: 'left' },
    });
  });

  test('computer: computer_call with a batch of actions', () => {
    const c = providerTools(tools([{ type: 'computer' }])).names.calls()!;
    const item = c.mapItem(fc('computer', { actions: [{ type: 'screenshot' }] })) as { type: string; actions: unknown[] };
    assert.equal(item.type, 'computer_call');
    assert.deepEqual(item.actions, [{ type: 'screenshot' }]);
  });

  test('anything else is returned as it is', () => {
    const plain = fc('get_weather', { city: 'Paris' });
    assert.equal(calls.mapItem(plain), plain);
    const msg: OutputItem = { id: 'msg_1', type: 'message', role: 'assistant', content: [] };
    assert.equal(calls.mapItem(msg), msg);
  });

  test('isClientCall: every kind of call the client runs', () => {
    for (const name of ['crm__lookup', 'apply_patch', 'local_shell', 'shell', 'apply_patch_2', 'computer', 'get_weather'])
      assert.ok(isClientCall(calls.mapItem(fc(name, {}))), name);
    assert.equal(isClientCall({ id: 'msg_1', type: 'message', role: 'assistant', content: [] }), false);
  });
});

describe('the model calls mapped back (streams)', () => {
  test('a namespace call streams as a function call with namespace; the stream stays valid', () => {
    const events = mapStream(modelCalls({ name: 'crm__lookup', args: '{"email":"a@b.c"}' }));
    const { violations } = validate(events);
    assert.deepEqual(violations, []);
    const added = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call') as Extract<
      ItemEvent,
      { type: 'response.output_item.added' }
    >;
    assert.deepEqual(
      { name: (added.item as FunctionCallItem).name, namespace: (added.item as FunctionCallItem).namespace },
      { name: 'lookup', namespace: 'crm' },
    );
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => (e as { delta: string }).delta);
    assert.equal(deltas.join(''), '{"email":"a@b.c"}', 'argument deltas stream as they come');
    const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done') as { name: string };
    assert.equal(argsDone.name, 'lookup');
    assert.deepEqual(doneItems(events).at(-1), { ...(added.item as object), status: 'completed', arguments: '{"email":"a@b.c"}' });
  });

  test('a custom tool call: added at once, its input whole when complete, then done', () => {
    const events = mapStream(modelCalls({ name: 'apply_patch', args: JSON.stringify({ input: '*** Begin Patch\n*** End Patch' }) }));
    assert.deepEqual(validate(events).violations, []);
    const own = events.filter((e) => ('item_id' in e ? e.item_id.startsWith('ctc_') : (e as { item: OutputItem }).item.type === 'custom_tool_call'));
    assert.deepEqual(
      own.map((e) => e.type),
      ['response.output_item.added', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done', 'response.output_item.done'],
    );
    const [added, delta, done, itemDone] = own as any[];
    assert.deepEqual(added.item, { id: added.item.id, type: 'custom_tool_call', call_id: 'call_0', name: 'apply_patch', input: '' });
    assert.equal(delta.delta, '*** Begin Patch\n*** End Patch');
    assert.equal(done.input, '*** Begin Patch\n*** End Patch');
    assert.equal(done.item_id, added.item.id);
    assert.equal(itemDone.item.input, '*** Begin Patch\n*** End Patch');
    assert.ok(!events.some((e) => e.type.startsWith('response.function_call_arguments')), 'no function events for a custom tool');
  });

  test('shell, local_shell, apply_patch, computer calls: added and done together once complete', () => {
    const events = mapStream(
      modelCalls(
        { name: 'shell', args: '{"commands":["echo hi"]}' },
        { name: 'local_shell', args: '{"command":["ls"]}' },
        { name: 'apply_patch_2', args: '{"type":"update_file","path":"a","diff":"-a\\n+b\\n"}' },
        { name: 'computer', args: '{"action":{"type":"screenshot"}}' },
      ),
    );
    assert.deepEqual(validate(events).violations, []);
    const calls = events.filter((e) => e.type.startsWith('response.output_item') && (e as { item: OutputItem }).item.type !== 'message');
    assert.deepEqual(
      calls.map((e) => `${e.type.slice('response.output_item.'.length)} ${(e as { item: OutputItem }).item.type}`),
      [
        'added shell_call',
        'done shell_call',
        'added local_shell_call',
        'done local_shell_call',
        'added apply_patch_call',
        'done apply_patch_call',
        'added computer_call',
        'done computer_call',
      ],
    );
    assert.equal((calls[0] as { item: { status: string } }).item.status, 'in_progress');
    assert.deepEqual((calls[1] as { item: { action: unknown } }).item.action, { commands: ['echo hi'], timeout_ms: null, max_output_length: null });
    assert.ok(!events.some((e) => e.type.startsWith('response.function_call_arguments')));
  });

  test('a call cut off by the model (incomplete) is still closed, and the stream stays valid', () => {
    const c = new OutputComposer();
    const out: ModelEvent[] = [];
    c.callStart(0, 'call_1', 'shell', out);
    c.callArgs(0, '{"commands":["ec', out);
    c.close(out, 'incomplete');
    const events = mapStream(out);
    assert.deepEqual(validate(events).violations, []);
    assert.deepEqual((doneItems(events)[0] as { action: unknown; status: string }).status, 'incomplete');
  });

  test('events of other items pass through as the same objects', () => {
    const source = modelCalls({ name: 'get_weather', args: '{"city":"Paris"}' });
    const events = mapStream(source);
    assert.equal(events.length, source.length);
    for (const [i, e] of events.entries()) assert.equal(e, source[i]);
  });
});

describe("the client's earlier calls and outputs, replayed as functions", () => {
  const history = () => providerTools(CLIENT_TOOLS).names.history();
  const map = (items: unknown[]) => {
    const h = history();
    return items.map((i) => h.map(i as ModelInputItem));
  };

  test('each call becomes a function call of the function that stands for its tool', () => {
    const got = map([
      { type: 'function_call', call_id: 'c1', name: 'lookup', namespace: 'crm', arguments: '{}' },
      { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: 'patch' },
      { type: 'local_shell_call', id: 'lsh_1', call_id: 'c3', status: 'completed', action: { type: 'exec', command: ['ls'], env: {} } },
      { type: 'shell_call', call_id: 'c4', action: { commands: ['pwd'], timeout_ms: null, max_output_length: null } },
      { type: 'apply_patch_call', call_id: 'c5', status: 'completed', operation: { type: 'delete_file', path: 'x' } },
      { type: 'computer_call', call_id: 'c6', action: { type: 'screenshot' }, pending_safety_checks: [] },
    ]);
    assert.deepEqual(got, [
      { type: 'function_call', call_id: 'c1', name: 'crm__lookup', arguments: '{}' },
      { type: 'function_call', call_id: 'c2', name: 'apply_patch', arguments: '{"input":"patch"}' },
      { type: 'function_call', call_id: 'c3', name: 'local_shell', arguments: '{"command":["ls"]}' },
      { type: 'function_call', call_id: 'c4', name: 'shell', arguments: '{"commands":["pwd"]}' },
      { type: 'function_call', call_id: 'c5', name: 'apply_patch_2', arguments: '{"type":"delete_file","path":"x"}' },
      { type: 'function_call', call_id: 'c6', name: 'computer', arguments: '{"action":{"type":"screenshot"}}' },
    ]);
  });

  test('each output becomes a function call output', () => {
    const got = map([
      { type: 'local_shell_call', id: 'lsh_1', call_id: 'c3', status: 'completed', action: { type: 'exec', command: ['ls'], env: {} } },
      { type: 'custom_tool_call_output', call_id: 'c2', output: 'Done!' },
      // openai-node names the call by its item id
      { type: 'local_shell_call_output', id: 'lsh_1', output: '{"output":"a.txt"}' },
      { type: 'local_shell_call_output', call_id: 'c7', output: 'x' },
      {
        type: 'shell_call_output',
        call_id: 'c4',
        output: [
          { stdout: '/tmp\n', stderr: '', outcome: { type: 'exit', exit_code: 0 } },
          { stdout: '', stderr: 'slow', outcome: { type: 'timeout' } },
        ],
      },
      { type: 'apply_patch_call_output', call_id: 'c5', status: 'failed', output: 'no such file' },
      { type: 'apply_patch_call_output', call_id: 'c8', status: 'completed' },
      { type: 'computer_call_output', call_id: 'c6', output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,AAAA' } },
    ]).slice(1);
    assert.deepEqual(got, [
      { type: 'function_call_output', call_id: 'c2', output: 'Done!' },
      { type: 'function_call_output', call_id: 'c3', output: '{"output":"a.txt"}' },
      { type: 'function_call_output', call_id: 'c7', output: 'x' },
      { type: 'function_call_output', call_id: 'c4', output: 'Exit code: 0\nstdout:\n/tmp\n\n\nTimed out.\nstderr:\nslow' },
      { type: 'function_call_output', call_id: 'c5', output: 'Failed: no such file' },
      { type: 'function_call_output', call_id: 'c8', output: 'Done.' },
      { type: 'function_call_output', call_id: 'c6', output: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }] },
    ]);
  });

  test('messages, plain calls and reasoning pass; items of hosted tools are left out', () => {
    const msg = { type: 'message', role: 'user', content: 'hi' };
    const call = { type: 'function_call', call_id: 'c', name: 'get_weather', arguments: '{}' };
    const reasoning = { type: 'reasoning', summary: [], encrypted_content: 'x' };
    const got = map([msg, call, reasoning, { type: 'web_search_call', id: 'ws_1', status: 'completed' }, { type: 'compaction', encrypted_content: 'x' }]);
    assert.equal(got[0], msg);
    assert.equal(got[1], call);
    assert.equal(got[2], reasoning);
    assert.deepEqual(got.slice(3), [null, null]);
  });

  test('a call of a tool this request no longer offers keeps its usual name', () => {
    const h = providerTools([]).names.history();
    assert.equal((h.map({ type: 'custom_tool_call', call_id: 'c', name: 'my tool', input: '' } as ModelInputItem) as FunctionCallItem).name, 'my_tool');
    assert.equal(
      (h.map({ type: 'function_call', call_id: 'c', name: 'f', namespace: 'ns', arguments: '{}' } as ModelInputItem) as FunctionCallItem).name,
      'ns__f',
    );
  });
});
