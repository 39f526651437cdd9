/**
 * /v1/chat/completions through the real openai SDK (current and v6), for each provider kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type OpenAI6 from 'openai6';
import { openaiClients, parseSse, startTestGateway, type TestGateway } from './support/gateway.ts';

let t: TestGateway;
let client: OpenAI;
let client6: OpenAI6;

before(async () => {
  t = await startTestGateway();
  ({ client, client6 } = openaiClients(t.gw.url));
});
after(() => t.close());

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

let n = 0;
const uniq = (label: string) => `chat-${label}-${++n}`;

for (const prefix of ['r', 'c', 'a'] as const) {
  describe(`chat completions via ${prefix}/`, () => {
    test('non-stream', async () => {
      const m = uniq('plain');
      t.mock.enqueue(m, { text: 'Bonjour!', usage: { input: 9, output: 2 } });
      const r = await client.chat.completions.create({
        model: `${prefix}/${m}`,
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hello' },
        ],
        temperature: 0.2,
        max_tokens: 50,
      });
      assert.equal(r.object, 'chat.completion');
      assert.match(r.id, /^chatcmpl-/);
      assert.equal(r.choices[0]!.message.role, 'assistant');
      assert.equal(r.choices[0]!.message.content, 'Bonjour!');
      assert.equal(r.choices[0]!.finish_reason, 'stop');
      assert.deepEqual([r.usage?.prompt_tokens, r.usage?.completion_tokens, r.usage?.total_tokens], [9, 2, 11]);
      const seen = t.mock.requestsFor(m)[0]!.body;
      assert.equal(seen.temperature, 0.2);
      if (prefix === 'c') assert.equal(seen.max_tokens, 50);
      if (prefix === 'r') assert.equal(seen.max_output_tokens, 50);
      if (prefix === 'a') assert.equal(seen.max_tokens, 50);
    });

    for (const [label, make] of [
      ['current', () => client],
      ['v6', () => client6],
    ] as const) {
      test(`stream with usage (${label} SDK)`, async () => {
        const m = uniq(`stream-${label}`);
        t.mock.enqueue(m, { text: 'Streaming words arrive one by one.', usage: { input: 4, output: 6 } });
        const c = make() as OpenAI;
        const stream = await c.chat.completions.create({
          model: `${prefix}/${m}`,
          messages: [{ role: 'user', content: 'Go' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        const chunks: any[] = [];
        for await (const ch of stream) chunks.push(ch);
        assert.ok(chunks.length > 3);
        assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
        assert.equal(chunks[0].choices[0].delta.role, 'assistant');
        assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Streaming words arrive one by one.');
        const last = chunks.at(-1);
        assert.deepEqual(last.choices, []);
        assert.equal(last.usage.total_tokens, 10);
        assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
        assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
      });

      test(`stream of tool calls, finalChatCompletion (${label} SDK)`, async () => {
        const m = uniq(`tools-${label}`);
        t.mock.enqueue(m, {
          toolCalls: [
            { name: 'get_weather', arguments: { city: 'Paris' } },
            { name: 'get_weather', arguments: { city: 'Rome' } },
          ],
        });
        const c = make() as OpenAI;
        const final = await c.chat.completions
          .stream({ model: `${prefix}/${m}`, messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }], tools })
          .finalChatCompletion();
        const msg = final.choices[0]!.message;
        assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
        assert.equal(msg.tool_calls?.length, 2);
        assert.deepEqual(
          msg.tool_calls!.map((tc: any) => JSON.parse(tc.function.arguments).city),
          ['Paris', 'Rome'],
        );
        assert.ok(msg.tool_calls!.every((tc: any) => tc.id && tc.type === 'function' && tc.function.name === 'get_weather'));
      });
    }

    test('tool call round trip', async () => {
      const m = uniq('roundtrip');
      t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' }, id: 'call_oslo1' }] }, (req) => ({
        text: JSON.stringify(req.body).includes('-3C') ? 'Oslo is at -3C.' : 'no result seen',
      }));
      const model = `${prefix}/${m}`;
      const first = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Oslo?' }], tools, tool_choice: 'required' });
      const tc = first.choices[0]!.message.tool_calls![0]! as { id: string; type: 'function'; function: { name: string; arguments: string } };
      assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
      assert.equal(tc.id, 'call_oslo1');
      assert.equal(first.choices[0]!.message.content, null);
      const second = await client.chat.completions.create({
        model,
        tools,
        messages: [
          { role: 'user', content: 'Oslo?' },
          { role: 'assistant', content: null, tool_calls: [tc] },
          { role: 'tool', tool_call_id: tc.id, content: '-3C' },
        ],
      });
      assert.equal(second.choices[0]!.message.content, 'Oslo is at -3C.');
      const body1 = t.mock.requestsFor(m)[0]!.body;
      if (prefix === 'c') assert.equal(body1.tool_choice, 'required');
      if (prefix === 'r') assert.equal(body1.tool_choice, 'required');
      if (prefix === 'a') assert.deepEqual(body1.tool_choice, { type: 'any' });
    });
  });
}

test('chat stream frames: data-only lines ending in [DONE]', async () => {
  const m = uniq('frames');
  t.mock.enqueue(m, { text: 'abc def' });
  const res = await fetch(`${t.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: `c/${m}`, messages: [{ role: 'user', content: 'x' }], stream: true }),
  });
  const frames = parseSse(await res.text()).filter((f) => !f.comment);
  assert.ok(frames.every((f) => f.event === undefined));
  assert.equal(frames.at(-1)!.data, '[DONE]');
  assert.ok(frames.slice(0, -1).every((f) => JSON.parse(f.data).object === 'chat.completion.chunk'));
});

test('json_schema response_format and stop reach a Chat provider', async () => {
  const m = uniq('format');
  t.mock.enqueue(m, { text: '{"a":1}' });
  await client.chat.completions.create({
    model: `c/${m}`,
    messages: [{ role: 'user', content: 'x' }],
    response_format: { type: 'json_schema', json_schema: { name: 'thing', schema: { type: 'object' }, strict: true } },
    stop: ['END'],
    seed: 7,
  });
  const body = t.mock.requestsFor(m)[0]!.body;
  assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'thing', schema: { type: 'object' }, strict: true } });
  assert.deepEqual(body.stop, ['END']);
  assert.equal(body.seed, 7);
});
