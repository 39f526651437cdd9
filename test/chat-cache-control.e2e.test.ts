/**
 * A Chat Completions client's own Anthropic-style `cache_control` (LiteLLM's prompt caching form, on a
 * content part or on a message) as OpenAI's `prompt_cache_breakpoint` in the canonical request, and as
 * Anthropic's `cache_control` on exactly the blocks the client marked (Anthropic's prompt caching
 * guide), counted with the gateway's own breakpoints against Anthropic's limit of four. A Chat upstream
 * gets no marker at all; an OpenAI Responses upstream gets OpenAI's own `prompt_cache_breakpoint`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import { ChatRequest } from '../src/protocol/chat.ts';
import { chatMessagesToItems } from '../src/protocol/chat-messages.ts';
import { openaiClients, startTestGateway, type TestGateway } from './support/gateway.ts';
import { marks } from './support/cache-marks.ts';

type Messages = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming['messages'];

const ephemeral = { type: 'ephemeral' };
const hour = { type: 'ephemeral', ttl: '1h' };
const bp = { mode: 'explicit' };
const bp12h = { mode: 'explicit', ttl: '12h' };

/** The canonical items of Chat messages as the /v1/chat/completions edge parses them. */
const items = (messages: unknown[]) => chatMessagesToItems(ChatRequest.parse({ model: 'm', messages }).messages);

describe('cache_control as the canonical prompt_cache_breakpoint', () => {
  test('without a marker the items are as before: string content stays a string', () => {
    assert.deepEqual(
      items([
        {
          role: 'system',
          content: [
            { type: 'text', text: 'Be ' },
            { type: 'text', text: 'terse.' },
          ],
        },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }] },
      ]),
      [
        { type: 'message', role: 'system', content: 'Be terse.' },
        { type: 'message', role: 'user', content: 'Hi' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look' }] },
      ],
    );
  });

  test('a message-level marker on string content: one input_text part carrying it (system, developer, user)', () => {
    assert.deepEqual(
      items([
        { role: 'system', content: 'Rules.', cache_control: { type: 'ephemeral' } },
        { role: 'developer', content: 'More rules.', cache_control: { type: 'ephemeral', ttl: '5m' } },
        { role: 'user', content: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ]),
      [
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Rules.', prompt_cache_breakpoint: bp }] },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'More rules.', prompt_cache_breakpoint: bp }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi', prompt_cache_breakpoint: bp12h }] },
      ],
    );
  });

  test('part-level markers stay on their parts; text parts of a system message are kept apart', () => {
    assert.deepEqual(
      items([
        {
          role: 'system',
          content: [
            { type: 'text', text: 'Long manual.', cache_control: { type: 'ephemeral', ttl: '1h' } },
            { type: 'text', text: ' Today.' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://x/a.png' }, cache_control: { type: 'ephemeral' } },
            { type: 'file', file: { file_id: 'file-1' }, cache_control: { type: 'ephemeral', ttl: '1h' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ]),
      [
        {
          type: 'message',
          role: 'system',
          content: [
            { type: 'input_text', text: 'Long manual.', prompt_cache_breakpoint: bp12h },
            { type: 'input_text', text: ' Today.' },
          ],
        },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_image', image_url: 'https://x/a.png', detail: 'auto', prompt_cache_breakpoint: bp },
            { type: 'input_file', file_data: undefined, file_id: 'file-1', filename: undefined, prompt_cache_breakpoint: bp12h },
            { type: 'input_text', text: 'What is this?' },
          ],
        },
      ],
    );
  });

  test("a message-level marker goes on the last part that can carry one; a part's own marker wins", () => {
    assert.deepEqual(
      items([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Listen:' },
            { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
          ],
          cache_control: { type: 'ephemeral' },
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b', cache_control: { type: 'ephemeral', ttl: '1h' } },
          ],
          cache_control: { type: 'ephemeral' },
        },
      ]),
      [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Listen:', prompt_cache_breakpoint: bp },
            { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
          ],
        },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'a' },
            { type: 'input_text', text: 'b', prompt_cache_breakpoint: bp12h },
          ],
        },
      ],
    );
  });

  test('tool results: the output becomes input_text parts with the breakpoint (function and custom calls)', () => {
    assert.deepEqual(
      items([
        { role: 'user', content: 'Go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_f', type: 'function', function: { name: 'add', arguments: '{}' } },
            { id: 'call_c', type: 'custom', custom: { name: 'patch', input: 'x' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_f', content: '5', cache_control: { type: 'ephemeral' } },
        { role: 'tool', tool_call_id: 'call_c', content: [{ type: 'text', text: 'ok', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      ]).slice(3),
      [
        { type: 'function_call_output', call_id: 'call_f', output: [{ type: 'input_text', text: '5', prompt_cache_breakpoint: bp }] },
        { type: 'custom_tool_call_output', call_id: 'call_c', output: [{ type: 'input_text', text: 'ok', prompt_cache_breakpoint: bp12h }] },
      ],
    );
  });

  test("an assistant's markers are accepted and ignored: canonical output text has no breakpoint", () => {
    assert.deepEqual(
      items([
        { role: 'assistant', content: [{ type: 'text', text: 'Earlier answer', cache_control: { type: 'ephemeral' } }], cache_control: { type: 'ephemeral' } },
      ]),
      [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier answer', annotations: [] }] }],
    );
  });

  test('the schema: null is no marker; a type other than ephemeral is refused; unknown keys of the marker are kept', () => {
    assert.deepEqual(items([{ role: 'user', content: 'Hi', cache_control: null }]), [{ type: 'message', role: 'user', content: 'Hi' }]);
    const bad = ChatRequest.safeParse({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'persistent' } }] }],
    });
    assert.equal(bad.success, false);
    assert.deepEqual(
      bad.error?.issues.map((i) => i.path.join('.')),
      ['messages.0.content'],
    );
    const parsed = ChatRequest.parse({ model: 'm', messages: [{ role: 'system', content: 'S', cache_control: { type: 'ephemeral', scope: 'x' } }] });
    assert.deepEqual(parsed.messages[0], { role: 'system', content: 'S', cache_control: { type: 'ephemeral', scope: 'x' } });
  });
});

// ---- through the gateway ------------------------------------------------------------------------

let t: TestGateway;
let client: OpenAI;

before(async () => {
  t = await startTestGateway();
  ({ client } = openaiClients(t.gw.url));
});
after(() => t.close());

let n = 0;
/** The mock keys turns by the upstream name: `a/<name>` reaches it as `<name>`. */
const uniq = (label: string) => `cache-control-${label}-${++n}`;

const tools = ['add', 'echo'].map((name) => ({
  type: 'function' as const,
  function: { name, parameters: { type: 'object', properties: {} } },
}));

/** A system part and a whole user message marked by the client, then a turn more. */
const MARKED = [
  { role: 'system', content: [{ type: 'text', text: 'You add numbers.', cache_control: { type: 'ephemeral' } }] },
  { role: 'user', content: 'What is 2+3?', cache_control: { type: 'ephemeral' } },
  { role: 'assistant', content: 'Shall I use the tool?' },
  { role: 'user', content: 'Yes.' },
] as unknown as Messages;

/** One non-streamed Chat request to `<prefix>/<name>`; the upstream's body as the mock recorded it. */
async function ask(prefix: 'a' | 'c' | 'r', name: string, messages: Messages) {
  t.mock.enqueue(name, { text: 'ok' });
  const r = await client.chat.completions.create({ model: `${prefix}/${name}`, messages, tools });
  assert.equal(r.choices[0]?.message.content, 'ok');
  const seen = t.mock.requestsFor(name);
  assert.equal(seen.length, 1);
  return seen[0]!.body;
}

describe('a Chat client’s cache_control reaches Anthropic', () => {
  test("on exactly the blocks it marked, with the gateway's own on the last block and the last tool: four in all", async () => {
    const m = uniq('marked');
    const body = await ask('a', m, MARKED);
    assert.deepEqual(body.system, [{ type: 'text', text: 'You add numbers.', cache_control: ephemeral }]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'What is 2+3?', cache_control: ephemeral }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Shall I use the tool?' }] },
      { role: 'user', content: [{ type: 'text', text: 'Yes.', cache_control: ephemeral }] },
    ]);
    assert.deepEqual(marks(body), {
      'tools[1]': ephemeral,
      'system[0]': ephemeral,
      'messages[0].content[0]': ephemeral,
      'messages[2].content[0]': ephemeral,
    });
  });

  test('a ttl of 1h arrives as 1h; the blocks after it keep the default', async () => {
    const m = uniq('hour');
    const messages = [
      { role: 'system', content: 'You add numbers.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Manual.', cache_control: { type: 'ephemeral', ttl: '1h' } },
          { type: 'text', text: 'What is 2+3?', cache_control: { type: 'ephemeral', ttl: '5m' } },
        ],
      },
    ] as unknown as Messages;
    const body = await ask('a', m, messages);
    assert.deepEqual(body.messages[0].content, [
      { type: 'text', text: 'Manual.', cache_control: hour },
      { type: 'text', text: 'What is 2+3?', cache_control: ephemeral },
    ]);
    // three of the client's, and the gateway's on the last tool (before them, so as long as the longest)
    assert.deepEqual(marks(body), {
      'tools[1]': hour,
      'system[0]': hour,
      'messages[0].content[0]': hour,
      'messages[0].content[1]': ephemeral,
    });
  });

  test("a tool result's marker lands inside the tool_result; the gateway marks the tool_result block itself", async () => {
    const m = uniq('tool');
    const messages = [
      { role: 'user', content: 'What is 2+3?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":3}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '5', cache_control: { type: 'ephemeral' } },
    ] as unknown as Messages;
    const body = await ask('a', m, messages);
    assert.deepEqual(body.messages[2], {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '5', cache_control: ephemeral }], cache_control: ephemeral }],
    });
    assert.deepEqual(marks(body), {
      'tools[1]': ephemeral,
      'messages[2].content[0].content[0]': ephemeral,
      'messages[2].content[0]': ephemeral,
    });
  });

  test("more than four of the client's: its latest four are kept, and none of the gateway's", async () => {
    const m = uniq('five');
    const cc = { type: 'ephemeral' };
    const messages = [
      { role: 'system', content: 'S', cache_control: cc },
      { role: 'user', content: 'one', cache_control: cc },
      { role: 'assistant', content: 'A' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'two', cache_control: cc },
          { type: 'text', text: 'three', cache_control: cc },
        ],
      },
      { role: 'assistant', content: 'B' },
      { role: 'user', content: 'four', cache_control: cc },
    ] as unknown as Messages;
    const body = await ask('a', m, messages);
    assert.deepEqual(marks(body), {
      'messages[0].content[0]': ephemeral,
      'messages[2].content[0]': ephemeral,
      'messages[2].content[1]': ephemeral,
      'messages[4].content[0]': ephemeral,
    });
  });
});

describe('other upstreams', () => {
  test('a Chat upstream gets no marker in any form: the same messages, cache_control and the breakpoint left out', async () => {
    const m = uniq('chat');
    const body = await ask('c', m, MARKED);
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You add numbers.' },
      { role: 'user', content: [{ type: 'text', text: 'What is 2+3?' }] },
      { role: 'assistant', content: 'Shall I use the tool?' },
      // (the agent keeps every user message as parts, marked or not)
      { role: 'user', content: [{ type: 'text', text: 'Yes.' }] },
    ]);
    assert.doesNotMatch(JSON.stringify(body), /cache_control|prompt_cache_breakpoint/);
  });

  test("an OpenAI Responses upstream gets OpenAI's own prompt_cache_breakpoint", async () => {
    const m = uniq('responses');
    const messages = [
      { role: 'system', content: 'You add numbers.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { role: 'user', content: 'What is 2+3?', cache_control: { type: 'ephemeral' } },
    ] as unknown as Messages;
    const body = await ask('r', m, messages);
    assert.deepEqual(
      body.input.map((i: { role: string; content: unknown }) => [i.role, i.content]),
      [
        ['system', [{ type: 'input_text', text: 'You add numbers.', prompt_cache_breakpoint: bp12h }]],
        ['user', [{ type: 'input_text', text: 'What is 2+3?', prompt_cache_breakpoint: bp }]],
      ],
    );
    assert.doesNotMatch(JSON.stringify(body), /cache_control/);
  });
});
