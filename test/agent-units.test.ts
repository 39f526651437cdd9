/**
 * The agent's building blocks on their own: the emitter (sequence numbers, indices, the terminal event,
 * backpressure), a model turn re-indexing a provider's events into the response, and the provider
 * stream decoder with its idle cut-off.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { ResponseEmitter, type EventSink } from '../src/agent/emitter.ts';
import { ModelTurn, type ModelCall } from '../src/agent/model-turn.ts';
import { ChatStreamDecoder } from '../src/providers/openai-chat/decode.ts';
import type { LifecycleEvent, ModelEvent, StreamEvent } from '../src/protocol/events.ts';
import { newResponseObject } from '../src/protocol/response-object.ts';
import { decodeStream } from '../src/providers/stream-body.ts';
import { validateResponseStream } from './support/validate-stream.ts';

/** A sink that records events; `full` makes it report backpressure. */
function recorder(full = false): EventSink & { events: StreamEvent[]; drains: number } {
  const sink = {
    events: [] as StreamEvent[],
    drains: 0,
    write(ev: StreamEvent) {
      sink.events.push(JSON.parse(JSON.stringify(ev)) as StreamEvent);
      return !full;
    },
    async drain() {
      sink.drains++;
    },
  };
  return sink;
}

function emitter(sink: EventSink | null) {
  return new ResponseEmitter(newResponseObject('resp_test', { model: 'm' }, { model: 'm', store: false }), sink);
}

const text = (output_index: number, delta: string): ModelEvent => ({
  type: 'response.output_text.delta',
  sequence_number: 0,
  item_id: 'msg_1',
  output_index,
  content_index: 0,
  delta,
  logprobs: [],
});

describe('emitter', () => {
  test('sequence numbers count from 0, type and sequence_number come first, one terminal event', () => {
    const sink = recorder();
    const e = emitter(sink);
    e.start();
    e.completeItem({ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] });
    e.finish('completed');
    e.finish('failed'); // a second end is ignored
    assert.deepEqual(
      sink.events.map((x) => x.sequence_number),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      sink.events.map((x) => x.type),
      ['response.created', 'response.in_progress', 'response.output_item.added', 'response.output_item.done', 'response.completed'],
    );
    assert.ok(sink.events.every((x) => Object.keys(x).slice(0, 2).join() === 'type,sequence_number'));
    const last = sink.events.at(-1) as LifecycleEvent;
    assert.equal(last.response.output.length, 1);
    assert.equal(last.response.status, 'completed');
  });

  test('an item cut off by the end is closed as incomplete before the terminal event', () => {
    const sink = recorder();
    const e = emitter(sink);
    e.start();
    e.item({
      type: 'response.output_item.added',
      sequence_number: 0,
      output_index: 0,
      item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] },
    });
    e.finish('failed', { error: { code: 'server_error', message: 'boom' } });
    const done = sink.events.find((x) => x.type === 'response.output_item.done') as Extract<StreamEvent, { type: 'response.output_item.done' }>;
    assert.equal((done.item as { status: string }).status, 'incomplete');
    assert.equal(sink.events.at(-1)!.type, 'response.failed');
    validateResponseStream(sink.events.map((ev) => ({ event: ev.type, data: JSON.stringify(ev) })));
  });

  test('an item added out of order is a bug, not a silent gap', () => {
    const e = emitter(recorder());
    e.start();
    assert.throws(
      () =>
        e.item({ type: 'response.output_item.added', sequence_number: 0, output_index: 3, item: { id: 'x', type: 'message', role: 'assistant', content: [] } }),
      /expected 0/,
    );
  });

  test('backpressure: drain() only after the sink said it is full', async () => {
    const calm = recorder(false);
    const e1 = emitter(calm);
    e1.start();
    assert.equal(e1.drain(), undefined);
    const full = recorder(true);
    const e2 = emitter(full);
    e2.start();
    await e2.drain();
    assert.equal(full.drains, 1);
    assert.equal(e2.drain(), undefined, 'once drained, nothing to wait for until the sink is full again');
  });

  test('without a sink, items are kept and no events are built', () => {
    const e = emitter(null);
    e.start();
    e.completeItem({ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [] });
    const r = e.finish('completed');
    assert.equal(r.output.length, 1);
    assert.equal(e.streaming, false);
  });
});

describe('model turn', () => {
  test('a second model call continues the response indices; held MCP calls leave no gap', () => {
    const sink = recorder();
    const e = emitter(sink);
    e.start();
    e.completeItem({ id: 'mcpl_1', type: 'mcp_list_tools', server_label: 's', tools: [] }); // index 0
    const calls: ModelCall[] = [];
    const turn = new ModelTurn(
      e,
      (fn) => fn === 'srv-tool',
      (c) => calls.push(c),
    );
    const events: ModelEvent[] = [
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 0,
        item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'srv-tool', arguments: '', status: 'in_progress' },
      },
      { type: 'response.function_call_arguments.delta', sequence_number: 0, item_id: 'fc_1', output_index: 0, delta: '{}' },
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 0,
        item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'srv-tool', arguments: '{}', status: 'completed' },
      },
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 1,
        item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] },
      },
      text(1, 'hi'),
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 1,
        item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi', annotations: [] }] },
      },
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 2,
        item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'client_fn', arguments: '', status: 'in_progress' },
      },
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 2,
        item: { id: 'fc_2', type: 'function_call', call_id: 'call_2', name: 'client_fn', arguments: '{}', status: 'completed' },
      },
      {
        type: 'model.end',
        status: 'completed',
        usage: {
          input_tokens: 3,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 2,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 5,
        },
      },
    ];
    for (const ev of events) turn.event(ev);
    assert.deepEqual(calls, [{ callId: 'call_1', name: 'srv-tool', arguments: '{}' }]);
    const indices = sink.events.filter((x) => 'output_index' in x).map((x) => (x as { output_index: number }).output_index);
    assert.deepEqual([...new Set(indices)], [0, 1, 2], 'the message follows the listing at 1, the client call at 2; the held MCP call is not shown');
    assert.equal(turn.clientCalls, 1);
    assert.deepEqual(
      turn.items.map((i) => i.type),
      ['message', 'function_call'],
    );
  });

  test('a whole answer (not streamed) goes through the same decisions', () => {
    const e = emitter(null);
    e.start();
    const calls: ModelCall[] = [];
    const turn = new ModelTurn(
      e,
      (fn) => fn === 'srv-tool',
      (c) => calls.push(c),
    );
    turn.output({
      items: [
        { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'srv-tool', arguments: '{}', status: 'completed' },
        { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [] },
      ],
      end: {
        type: 'model.end',
        status: 'incomplete',
        incomplete_reason: 'max_output_tokens',
        usage: {
          input_tokens: 1,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 1,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 2,
        },
      },
    });
    assert.equal(calls.length, 1);
    assert.deepEqual(
      e.response.output.map((i) => i.type),
      ['message'],
    );
    assert.deepEqual([turn.status, turn.reason], ['incomplete', 'max_output_tokens']);
  });
});

describe('provider stream decoding', () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

  test('one batch per network chunk, a multi-byte character split across chunks intact', async () => {
    const body = new PassThrough();
    const frame = Buffer.from(chunk({ content: 'héllo ✓' }));
    const cut = frame.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
    body.write(Buffer.concat([Buffer.from(chunk({ role: 'assistant', content: '' })), frame.subarray(0, cut)]));
    setImmediate(() => body.end(Buffer.concat([frame.subarray(cut), Buffer.from(`${chunk({}, 'stop')}data: [DONE]\n\n`)])));
    const batches: ModelEvent[][] = [];
    for await (const batch of decodeStream(body, new ChatStreamDecoder(), 5_000)) batches.push(batch);
    const deltas = batches
      .flat()
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => (e as { delta: string }).delta);
    assert.deepEqual(deltas, ['héllo ✓']);
    assert.ok(batches.length >= 2, 'events came in batches, not one at a time');
    assert.equal(batches.flat().at(-1)!.type, 'model.end');
  });

  test('an upstream silent past the idle limit is cut, and the stream fails with a timeout', async () => {
    const body = new PassThrough();
    body.write(chunk({ role: 'assistant', content: 'a' }));
    const started = performance.now();
    await assert.rejects(
      (async () => {
        for await (const _ of decodeStream(body, new ChatStreamDecoder(), 100));
      })(),
      (e: Error & { code?: string }) => e.code === 'upstream_timeout',
    );
    assert.ok(performance.now() - started < 2_000);
    assert.equal(body.destroyed, true, 'the upstream connection is closed');
  });

  test('a slow consumer does not count as upstream silence', async () => {
    const body = new PassThrough();
    body.write(chunk({ role: 'assistant', content: 'a' }));
    setTimeout(() => body.end(chunk({}, 'stop')), 250);
    const seen: ModelEvent[] = [];
    for await (const batch of decodeStream(body, new ChatStreamDecoder(), 150)) {
      seen.push(...batch);
      if (seen.length === batch.length) await new Promise((r) => setTimeout(r, 200)); // the consumer holds the first batch
    }
    assert.equal(seen.at(-1)!.type, 'model.end');
  });

  test('a consumer that stops early closes the upstream', async () => {
    const body = new PassThrough();
    body.write(chunk({ role: 'assistant', content: 'a' }));
    for await (const _ of decodeStream(body, new ChatStreamDecoder(), 5_000)) break;
    assert.equal(body.destroyed, true);
  });
});
