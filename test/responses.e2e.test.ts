/**
 * /v1/responses through the real openai SDK (current and v6), for a model routed to each provider kind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type OpenAI6 from 'openai6';
import { openaiClients, parseSse, startTestGateway, type TestGateway, PROVIDER_KINDS } from './support/gateway.ts';
import { validateResponseStream } from './support/validate-stream.ts';

let t: TestGateway;
let client: OpenAI;
let client6: OpenAI6;

before(async () => {
  t = await startTestGateway();
  ({ client, client6 } = openaiClients(t.gw.url));
});
after(() => t.close());

const KINDS = PROVIDER_KINDS;

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

let n = 0;
const uniq = (label: string) => `${label}-${++n}`;

for (const kind of KINDS) {
  describe(`responses via ${kind.api}`, () => {
    test('non-stream text answer', async () => {
      const m = uniq('text');
      t.mock.enqueue(m, { text: 'Hello there, traveller.', usage: { input: 20, output: 5 } });
      const r = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Say hello', instructions: 'Be brief.' });
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.equal(r.model, `${kind.prefix}/${m}`);
      assert.equal(r.output_text, 'Hello there, traveller.');
      assert.match(r.id, /^resp_[0-9a-f]{48}$/);
      assert.match(r.output[0]!.id!, /^msg_/);
      assert.equal(r.usage?.input_tokens, 20);
      assert.equal(r.usage?.output_tokens, 5);
      assert.equal(r.usage?.total_tokens, 25);
      const seen = t.mock.requestsFor(m)[0]!;
      assert.equal(seen.api, kind.api);
      assert.equal(seen.stream, false); // a non-stream request is a non-stream provider call
      if (kind.api === 'responses') {
        assert.equal(seen.body.store, false);
        assert.equal(seen.body.instructions, 'Be brief.');
      }
      if (kind.api === 'chat') assert.deepEqual(seen.body.messages[0], { role: 'system', content: 'Be brief.' });
      if (kind.api === 'anthropic') assert.deepEqual(seen.body.system, [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }]);
    });

    test('stream: events parse with the current SDK and follow the ordering rules', async () => {
      const m = uniq('stream');
      const script = { text: 'One two three four five.' };
      t.mock.enqueue(m, script, script);
      const events: any[] = [];
      const stream = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Count', stream: true });
      for await (const ev of stream) events.push(ev);
      assert.deepEqual(
        [...new Set(events.map((e) => e.type))],
        [
          'response.created',
          'response.in_progress',
          'response.output_item.added',
          'response.content_part.added',
          'response.output_text.delta',
          'response.output_text.done',
          'response.content_part.done',
          'response.output_item.done',
          'response.completed',
        ],
      );
      const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
      assert.ok(deltas.length > 1, 'text arrives in several deltas');
      assert.equal(deltas.join(''), 'One two three four five.');
      for (const [i, e] of events.entries()) assert.equal(e.sequence_number, i);

      // The same script, non-stream: the terminal event's output equals the non-stream output (ids aside).
      const plain = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Count' });
      const terminal = events.at(-1).response;
      const strip = (o: any[]) => o.map(({ id: _id, ...rest }) => rest);
      assert.deepEqual(strip(terminal.output), strip(plain.output));
      assert.deepEqual(terminal.usage, plain.usage);
    });

    test('stream: raw frames pass the event-sequence validator', async () => {
      const m = uniq('raw');
      t.mock.enqueue(m, { text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
      const res = await fetch(`${t.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: `${kind.prefix}/${m}`, input: 'Weather?', tools: [weatherTool], stream: true }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
      const { violations, events } = validateResponseStream(parseSse(await res.text()));
      assert.deepEqual(violations, []);
      const final = events.at(-1).response;
      assert.deepEqual(
        final.output.map((o: any) => o.type),
        ['message', 'function_call'],
      );
    });

    for (const [label, make] of [
      ['current', () => client],
      ['v6', () => client6],
    ] as const) {
      test(`responses.stream().finalResponse() with the ${label} SDK`, async () => {
        const m = uniq(`final-${label}`);
        t.mock.enqueue(m, { text: 'Final answer here.' });
        const c = make() as OpenAI;
        const final = await c.responses.stream({ model: `${kind.prefix}/${m}`, input: 'Go' }).finalResponse();
        assert.equal(final.status, 'completed');
        assert.equal(final.output_text, 'Final answer here.');
        assert.ok(final.usage && final.usage.total_tokens > 0);
      });

      test(`streamed function call with the ${label} SDK`, async () => {
        const m = uniq(`fc-${label}`);
        t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
        const c = make() as OpenAI;
        const final = await c.responses.stream({ model: `${kind.prefix}/${m}`, input: 'Weather in Paris?', tools: [weatherTool] }).finalResponse();
        const call = final.output.find((o) => o.type === 'function_call');
        assert.ok(call && call.type === 'function_call');
        assert.equal(call.name, 'get_weather');
        assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
      });
    }

    test('function tool round trip', async () => {
      const m = uniq('roundtrip');
      t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_abc123' }] }, (req) => {
        const text = JSON.stringify(req.body);
        return { text: text.includes('18C and sunny') ? 'It is 18C and sunny in Paris.' : 'I did not get the weather.' };
      });
      const model = `${kind.prefix}/${m}`;
      const first = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'auto' });
      const call = first.output.find((o) => o.type === 'function_call');
      assert.ok(call && call.type === 'function_call');
      assert.equal(call.call_id, 'call_abc123');
      assert.equal(call.status, 'completed');
      assert.match(call.id!, /^fc_/);
      const second = await client.responses.create({
        model,
        tools: [weatherTool],
        input: [
          { role: 'user', content: 'Weather in Paris?' },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' },
        ],
      });
      assert.equal(second.output_text, 'It is 18C and sunny in Paris.');

      // The provider saw the tool in its own wire form, and the result tied to the call.
      const [req1, req2] = t.mock.requestsFor(m);
      if (kind.api === 'responses') {
        assert.equal(req1!.body.tools[0].name, 'get_weather');
        assert.deepEqual(req2!.body.input.at(-1), { type: 'function_call_output', call_id: 'call_abc123', output: '18C and sunny' });
      } else if (kind.api === 'chat') {
        assert.equal(req1!.body.tools[0].function.name, 'get_weather');
        assert.equal(req1!.body.tool_choice, 'auto');
        assert.deepEqual(req2!.body.messages.at(-2).tool_calls[0].id, 'call_abc123');
        assert.deepEqual(req2!.body.messages.at(-1), { role: 'tool', tool_call_id: 'call_abc123', content: '18C and sunny' });
      } else {
        assert.equal(req1!.body.tools[0].name, 'get_weather');
        assert.deepEqual(req1!.body.tool_choice, undefined);
        assert.deepEqual(req2!.body.messages.at(-2).content[0], { type: 'tool_use', id: 'call_abc123', name: 'get_weather', input: { city: 'Paris' } });
        assert.deepEqual(req2!.body.messages.at(-1).content[0], {
          type: 'tool_result',
          tool_use_id: 'call_abc123',
          content: '18C and sunny',
          cache_control: { type: 'ephemeral' },
        });
      }
    });
  });
}

test('max tokens reached: status incomplete with the reason', async () => {
  const m = uniq('length');
  t.mock.enqueue(m, { text: 'Cut off mid', finish: 'length' });
  const r = await client.responses.create({ model: `c/${m}`, input: 'Long story', max_output_tokens: 3 });
  assert.equal(r.status, 'incomplete');
  assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(t.mock.requestsFor(m)[0]!.body.max_tokens, 3);
});

test('x-request-id is echoed, or generated', async () => {
  const given = await fetch(`${t.gw.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
  assert.equal(given.headers.get('x-request-id'), 'trace-123');
  const made = await fetch(`${t.gw.url}/health`);
  assert.match(made.headers.get('x-request-id')!, /^req_[0-9a-f]{48}$/);
  const m = uniq('rid');
  await client.responses.create({ model: `r/${m}`, input: 'hi' }, { headers: { 'x-request-id': 'trace-456' } });
  const lines = t.logs.filter((l) => l.req_id === 'trace-456');
  assert.ok(lines.length >= 1);
  assert.ok(lines.every((l) => l.req_id === 'trace-456'));
});
