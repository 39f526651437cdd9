/**
 * Prompt caching in the Anthropic request builder (Anthropic's prompt caching guide): where the gateway
 * puts its cache breakpoints, how a client's own breakpoints (OpenAI's `prompt_cache_breakpoint`) are
 * carried and counted against Anthropic's limit of four, and how OpenAI's cache lifetimes map to
 * Anthropic's TTLs without breaking its longer-first rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelRequest } from '../src/protocol/model-request.ts';
import type { ContentPart } from '../src/protocol/responses.ts';
import { modelRequestToAnthropic } from '../src/providers/anthropic/request.ts';
import { marks } from './support/cache-marks.ts';

const tool = (name: string): ModelRequest['tools'][number] => ({ type: 'function', name, parameters: { type: 'object' }, strict: null });

/** The second round of a tool loop: two tools, instructions and a developer message, one call made. */
function round2(over: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'claude-x',
    instructions: 'You add numbers.',
    input: [
      { type: 'message', role: 'developer', content: 'Use the tools.' },
      { type: 'message', role: 'user', content: 'What is 2+3?' },
      { type: 'function_call', call_id: 'toolu_1', name: 'add', arguments: '{"a":2,"b":3}' },
      { type: 'function_call_output', call_id: 'toolu_1', output: '5' },
    ],
    tools: [tool('add'), tool('echo')],
    ...over,
  };
}

const ephemeral = { type: 'ephemeral' };
const hour = { type: 'ephemeral', ttl: '1h' };
const bp = (text: string, ttl?: string): Extract<ContentPart, { type: 'input_text' }> => ({
  type: 'input_text',
  text,
  prompt_cache_breakpoint: { mode: 'explicit', ...(ttl ? { ttl } : {}) },
});

describe('the gateway marks the growing prefix', () => {
  test('the last block of the conversation, the last tool, the last system block', () => {
    const { body } = modelRequestToAnthropic(round2(), { defaultMaxTokens: 100 });
    assert.deepEqual(marks(body), {
      'tools[1]': ephemeral,
      'system[1]': ephemeral,
      'messages[2].content[0]': ephemeral,
    });
    assert.deepEqual(body.messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '5', cache_control: ephemeral }] });
  });

  test('only what there is: a first turn with no tools and no instructions marks its one message', () => {
    const { body } = modelRequestToAnthropic(
      { model: 'claude-x', instructions: null, input: [{ type: 'message', role: 'user', content: 'Hi' }], tools: [] },
      { defaultMaxTokens: 10 },
    );
    assert.deepEqual(marks(body), { 'messages[0].content[0]': ephemeral });
  });

  test("OpenAI's explicit mode: no breakpoint of the gateway's, the client's own kept", () => {
    const req = round2({ prompt_cache_options: { mode: 'explicit' } });
    req.input[1] = { type: 'message', role: 'user', content: [bp('What is 2+3?')] };
    const { body } = modelRequestToAnthropic(req, { defaultMaxTokens: 10 });
    assert.deepEqual(marks(body), { 'messages[0].content[0]': ephemeral });
  });
});

describe("a client's own breakpoints", () => {
  test('carried on their block, in a tool result too, and counted first: ours fill the budget in order', () => {
    const req = round2();
    req.input[1] = { type: 'message', role: 'user', content: [bp('What is 2+3?')] };
    req.input[3] = { type: 'function_call_output', call_id: 'toolu_1', output: [bp('5')] };
    const { body } = modelRequestToAnthropic(req, { defaultMaxTokens: 10 });
    // two of theirs (the last block is a tool result whose content they marked: the result itself is ours)
    assert.deepEqual(marks(body), {
      'tools[1]': ephemeral,
      'messages[0].content[0]': ephemeral,
      'messages[2].content[0].content[0]': ephemeral,
      'messages[2].content[0]': ephemeral,
    });
  });

  test('four of theirs: none of ours; more than four: the latest four kept (what OpenAI writes)', () => {
    const four = round2({
      input: [
        { type: 'message', role: 'user', content: [bp('a'), bp('b')] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
        { type: 'message', role: 'user', content: [bp('c'), bp('d')] },
      ],
    });
    assert.deepEqual(marks(modelRequestToAnthropic(four, { defaultMaxTokens: 10 }).body), {
      'messages[0].content[0]': ephemeral,
      'messages[0].content[1]': ephemeral,
      'messages[2].content[0]': ephemeral,
      'messages[2].content[1]': ephemeral,
    });
    const six = round2({ input: [{ type: 'message', role: 'user', content: ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => bp(t)) }] });
    assert.deepEqual(Object.keys(marks(modelRequestToAnthropic(six, { defaultMaxTokens: 10 }).body)), [
      'messages[0].content[2]',
      'messages[0].content[3]',
      'messages[0].content[4]',
      'messages[0].content[5]',
    ]);
  });

  test('a developer message part marks its system block', () => {
    const req = round2({ tools: [] });
    req.input[0] = { type: 'message', role: 'developer', content: [bp('Use the tools.')] };
    const { body } = modelRequestToAnthropic(req, { defaultMaxTokens: 10 });
    assert.deepEqual(body.system, [
      { type: 'text', text: 'You add numbers.' },
      { type: 'text', text: 'Use the tools.', cache_control: ephemeral },
    ]);
  });
});

describe('lifetimes', () => {
  test("the extended tier: prompt_cache_retention 24h or a 12h ttl is Anthropic's 1h; 30m stays the default", () => {
    const retained = modelRequestToAnthropic(round2({ prompt_cache_retention: '24h' }), { defaultMaxTokens: 10 }).body;
    assert.deepEqual(marks(retained), { 'tools[1]': hour, 'system[1]': hour, 'messages[2].content[0]': hour });
    const twelve = modelRequestToAnthropic(round2({ prompt_cache_options: { ttl: '12h' } }), { defaultMaxTokens: 10 }).body;
    assert.deepEqual(marks(twelve), { 'tools[1]': hour, 'system[1]': hour, 'messages[2].content[0]': hour });
    const thirty = modelRequestToAnthropic(round2({ prompt_cache_options: { ttl: '30m' } }), { defaultMaxTokens: 10 }).body;
    assert.deepEqual(marks(thirty), { 'tools[1]': ephemeral, 'system[1]': ephemeral, 'messages[2].content[0]': ephemeral });
  });

  test("a breakpoint's own ttl beats the request's, and ours never outlive an earlier one (longer TTLs first)", () => {
    const req = round2({ prompt_cache_retention: '24h' });
    // the client keeps its question 5 minutes: after it, nothing may be kept longer
    req.input[1] = { type: 'message', role: 'user', content: [bp('What is 2+3?', '30m')] };
    const { body } = modelRequestToAnthropic(req, { defaultMaxTokens: 10 });
    assert.deepEqual(marks(body), {
      'tools[1]': hour,
      'system[1]': hour,
      'messages[0].content[0]': ephemeral,
      'messages[2].content[0]': ephemeral,
    });
    // a later 1h of the client's: ours before it must be 1h too
    const late = round2();
    late.input[3] = { type: 'function_call_output', call_id: 'toolu_1', output: [bp('5', '12h')] };
    assert.deepEqual(marks(modelRequestToAnthropic(late, { defaultMaxTokens: 10 }).body), {
      'tools[1]': hour,
      'system[1]': hour,
      'messages[2].content[0].content[0]': hour,
      'messages[2].content[0]': ephemeral,
    });
  });
});
