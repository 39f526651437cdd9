/**
 * Unit tests of the converters at the edge: requests into each provider's form, recorded provider
 * streams back into canonical events, and canonical events out as Chat chunks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createParser } from 'eventsource-parser';
import { ChatRequest } from '../src/protocol/chat.ts';
import { modelRequestToAnthropic } from '../src/providers/anthropic/request.ts';
import { chatToResponses } from '../src/http/routes/chat-request.ts';
import { modelRequestToChat } from '../src/providers/openai-chat/request.ts';
import { ChatChunkEncoder, responseToChatCompletion } from '../src/http/routes/chat-output.ts';
import { AnthropicStreamDecoder, anthropicMessageToOutput } from '../src/providers/anthropic/decode.ts';
import { ChatStreamDecoder, chatCompletionToOutput } from '../src/providers/openai-chat/decode.ts';
import { ResponsesStreamDecoder } from '../src/providers/openai-responses/decode.ts';
import type { StreamDecoder } from '../src/protocol/stream-decoder.ts';
import { modelRequestToResponses } from '../src/providers/openai-responses/request.ts';
import type { ModelEvent, ResponseObject, StreamEvent } from '../src/protocol/events.ts';
import type { ModelRequest } from '../src/protocol/model-request.ts';
import { newResponseObject } from '../src/protocol/response-object.ts';
import { ResponsesRequest } from '../src/protocol/responses.ts';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';

/** A recorded stream through a provider decoder, as the gateway reads it off the wire (first `limit` messages only, if given). */
function decode(name: string, decoder: StreamDecoder, limit = Infinity): ModelEvent[] {
  const text = readFileSync(new URL(`../fixtures/streams/${name}`, import.meta.url), 'utf8');
  const out: ModelEvent[] = [];
  let seen = 0;
  const parser = createParser({ onEvent: (msg) => seen++ < limit && decoder.event(msg, out) });
  parser.feed(text);
  decoder.end(out);
  return out;
}

const base: ModelRequest = {
  model: 'm',
  instructions: 'Be brief.',
  input: [
    { type: 'message', role: 'developer', content: 'Use metric units.' },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'Weather?' },
        { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' },
      ],
    },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
    { type: 'function_call_output', call_id: 'call_1', output: '18C' },
    { type: 'function_call_output', call_id: 'call_2', output: '25C' },
  ],
  tools: [
    { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
    { type: 'web_search' },
  ],
  tool_choice: { type: 'function', name: 'get_weather' },
  parallel_tool_calls: false,
  max_output_tokens: 100,
  temperature: 0.5,
  top_p: 0.9,
  text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
};

describe('requests to providers', () => {
  test('to Chat: system, parts, merged assistant turn, tool messages, tools, knobs', () => {
    const { body, dropped } = modelRequestToChat(base, { maxTokensField: 'max_completion_tokens' });
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Use metric units.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'auto' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: '25C' },
    ]);
    assert.deepEqual(body.tools, [
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
      },
    ]);
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.equal(body.parallel_tool_calls, false);
    assert.equal(body.max_completion_tokens, 100);
    assert.equal(body.temperature, 0.5);
    assert.equal(body.top_p, 0.9);
    assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } });
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.deepEqual(dropped, ['tools:web_search']);
  });

  test('to Anthropic: system blocks, alternation, tool_use/tool_result, images, tool_choice', () => {
    const { body, dropped } = modelRequestToAnthropic(base, { defaultMaxTokens: 4096 });
    assert.deepEqual(body.system, [
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Use metric units.', cache_control: { type: 'ephemeral' } },
    ]);
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '25C', cache_control: { type: 'ephemeral' } },
        ],
      },
    ]);
    assert.equal(body.max_tokens, 100);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
    // OpenAI's web search becomes Anthropic's web search server tool; cache breakpoints close the tools, the system and the conversation
    assert.deepEqual(body.tools, [
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
      { type: 'web_search_20250305', name: 'web_search', cache_control: { type: 'ephemeral' } },
    ]);
    assert.deepEqual(body.output_config, { format: { type: 'json_schema', schema: { type: 'object' } } });
    assert.deepEqual(dropped, []);
    const noMax = modelRequestToAnthropic({ ...base, max_output_tokens: undefined }, { defaultMaxTokens: 4096 });
    assert.equal(noMax.body.max_tokens, 4096);
  });

  test('to Responses: stateless, no gateway ids, hosted tools kept', () => {
    const body = modelRequestToResponses({ ...base, input: [{ type: 'message', id: 'msg_gateway', role: 'user', content: 'hi' }] });
    assert.equal(body.store, false);
    assert.deepEqual(body.input, [{ type: 'message', role: 'user', content: 'hi' }]);
    assert.equal(body.instructions, 'Be brief.');
    assert.equal(body.tools?.length, 2);
    assert.equal(body.max_output_tokens, 100);
    assert.ok(!('previous_response_id' in body));
  });

  test('Chat request in: messages become items, nested tools become flat, knobs map', () => {
    const chat = ChatRequest.parse({
      model: 'x',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: [{ type: 'text', text: 'Q' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'R' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      max_tokens: 10,
      response_format: { type: 'json_object' },
      stop: 'END',
    });
    const r = chatToResponses(chat);
    assert.deepEqual(r.input, [
      { type: 'message', role: 'system', content: 'S' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Q' }] },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'R' },
    ]);
    assert.equal(r.tools?.[0]?.type, 'function');
    assert.equal((r.tools?.[0] as { name: string } | undefined)?.name, 'f');
    assert.deepEqual(r.tool_choice, { type: 'function', name: 'f' });
    assert.equal(r.max_output_tokens, 10);
    assert.deepEqual(r.text?.format, { type: 'json_object' });
    assert.equal(r.extras?.stop, 'END');
    // it is a valid canonical request
    const { extras: _x, ...canonical } = r;
    assert.ok(ResponsesRequest.safeParse(canonical).success);
  });
});

describe('recorded provider streams to canonical events', () => {
  test('Chat tool-call chunks (as OpenAI documents them)', () => {
    const events = decode('openai-chat-tool-call.sse', new ChatStreamDecoder());
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'model.end',
      ],
    );
    const done = events[4] as Extract<ModelEvent, { type: 'response.output_item.done' }>;
    assert.deepEqual(
      { ...done.item, id: 'x' },
      { id: 'x', type: 'function_call', status: 'completed', arguments: '{"city":"Paris"}', call_id: 'call_1', name: 'get_weather' },
    );
    const end = events.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
    assert.equal(end.status, 'completed');
    assert.equal(end.usage.total_tokens, 11);
  });

  test('Chat text chunks with cached-token usage', () => {
    const events = decode('openai-chat-text.sse', new ChatStreamDecoder());
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as { delta: string }).delta);
    assert.deepEqual(deltas, ['Hello', ', world', '!']);
    assert.equal(events[0]!.type, 'response.output_item.added');
    assert.equal(events[1]!.type, 'response.content_part.added');
    const end = events.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
    assert.deepEqual(end.usage, {
      input_tokens: 19,
      input_tokens_details: { cached_tokens: 3 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 23,
    });
  });

  test('Anthropic text then tool (as Anthropic documents it)', () => {
    const events = decode('anthropic-text-then-tool.sse', new AnthropicStreamDecoder());
    const items = events.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: { type: string } }).item);
    assert.deepEqual(
      items.map((i) => i.type),
      ['message', 'function_call'],
    );
    assert.deepEqual((items[0] as any).content, [{ type: 'output_text', text: 'Checking', annotations: [], logprobs: [] }]);
    assert.equal((items[1] as any).arguments, '{"city":"Paris"}');
    assert.equal((items[1] as any).call_id, 'toolu_1');
    const end = events.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
    assert.equal(end.usage.input_tokens, 25);
    assert.equal(end.usage.output_tokens, 42);
    // indices are dense and every item is added before it is named
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => (e as { output_index: number }).output_index);
    assert.deepEqual(added, [0, 1]);
  });

  test('Responses function call: lifecycle consumed, ids replaced by gateway ids', () => {
    const events = decode('openai-responses-function-call.sse', new ResponsesStreamDecoder());
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'model.end',
      ],
    );
    const added = events[0] as Extract<ModelEvent, { type: 'response.output_item.added' }>;
    assert.match(added.item.id!, /^fc_[0-9a-f]{48}$/);
    assert.equal((events[1] as { item_id: string }).item_id, added.item.id);
    // passed on as parsed: in wire form already, type first (the emitter restamps sequence_number in place)
    assert.ok(events.every((e) => Object.keys(e)[0] === 'type'));
    assert.equal((events.at(-1) as { usage: { total_tokens: number } }).usage.total_tokens, 1569);
  });

  test('a Chat stream that ends without a finish_reason is an error, not a completed answer', () => {
    assert.throws(() => decode('openai-chat-text.sse', new ChatStreamDecoder(), 3), /finish_reason/);
  });

  test('an Anthropic stream that ends without message_stop is an error', () => {
    assert.throws(() => decode('anthropic-text-then-tool.sse', new AnthropicStreamDecoder(), 5), /message_stop/);
  });
});

describe('whole provider answers (not streamed) to output items', () => {
  test('a chat completion with text and a tool call', () => {
    const out = chatCompletionToOutput({
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: 'Checking',
            refusal: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
    assert.deepEqual(
      out.items.map((i) => i.type),
      ['message', 'function_call'],
    );
    assert.equal((out.items[1] as { call_id: string }).call_id, 'call_1');
    assert.deepEqual([out.end.status, out.end.usage.total_tokens], ['completed', 8]);
  });

  test('an Anthropic message cut at max_tokens is incomplete, its text one message', () => {
    const out = anthropicMessageToOutput({
      id: 'm',
      type: 'message',
      role: 'assistant',
      model: 'c',
      stop_reason: 'max_tokens',
      stop_sequence: null,
      content: [
        { type: 'text', text: 'a', citations: null },
        { type: 'text', text: 'b', citations: null },
      ],
      usage: { input_tokens: 4, output_tokens: 2, cache_read_input_tokens: 6, cache_creation_input_tokens: 0 },
    } as never);
    assert.deepEqual(
      out.items.map((i) => (i as { content: { text: string }[] }).content[0]!.text),
      ['ab'],
    );
    assert.deepEqual(
      [out.end.status, out.end.incomplete_reason, out.end.usage.input_tokens, out.end.usage.input_tokens_details.cached_tokens],
      ['incomplete', 'max_output_tokens', 10, 6],
    );
  });
});

describe('canonical events to Chat output', () => {
  function responseWith(output: ResponseObject['output']): ResponseObject {
    const r = newResponseObject('resp_abc', { model: 'm' }, { model: 'm', store: false });
    r.status = 'completed';
    r.output = output;
    r.usage = {
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 1 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    };
    return r;
  }

  test('chunks: role first, tool call deltas with index, finish and usage last', () => {
    const enc = new ChatChunkEncoder(true);
    const r = responseWith([]);
    const evs: StreamEvent[] = [
      { type: 'response.created', sequence_number: 0, response: r },
      {
        type: 'response.output_item.added',
        sequence_number: 1,
        output_index: 0,
        item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '' },
      },
      { type: 'response.function_call_arguments.delta', sequence_number: 2, output_index: 0, item_id: 'fc_1', delta: '{"a":' },
      { type: 'response.function_call_arguments.delta', sequence_number: 3, output_index: 0, item_id: 'fc_1', delta: '1}' },
      {
        type: 'response.completed',
        sequence_number: 4,
        response: responseWith([{ id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}' }]),
      },
    ];
    const chunks = evs.flatMap((e) => enc.encode(e).map((text) => JSON.parse(text) as ChatCompletionChunk));
    assert.equal(chunks.length, 5);
    assert.equal(chunks[0]!.id, 'chatcmpl-abc');
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.deepEqual(chunks[0]!.choices[0]!.delta.tool_calls, [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }]);
    assert.deepEqual(chunks[2]!.choices[0]!.delta.tool_calls, [{ index: 0, function: { arguments: '1}' } }]);
    assert.equal(chunks[3]!.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(chunks[4]!.choices, []);
    assert.equal(chunks[4]!.usage?.prompt_tokens_details?.cached_tokens, 1);
  });

  test('non-stream completion: text, refusal, tool calls, finish reason', () => {
    const c = responseToChatCompletion(
      responseWith([{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }]),
    );
    assert.equal(c.choices[0]!.message.content, 'Hi');
    assert.equal(c.choices[0]!.finish_reason, 'stop');
    assert.equal(c.usage?.total_tokens, 5);
    const inc = responseWith([]);
    inc.status = 'incomplete';
    inc.incomplete_details = { reason: 'max_output_tokens' };
    assert.equal(responseToChatCompletion(inc).choices[0]!.finish_reason, 'length');
  });
});
