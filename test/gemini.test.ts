/**
 * The Gemini codec and its two providers: requests into the Gemini API's form (system, images, a tool loop
 * with thought signatures), recorded Gemini streams and whole answers back into canonical events, the Gemini
 * API and Vertex AI providers against the mock (paths, credentials, the OAuth token exchange, Claude on
 * Vertex), and a gateway MCP loop whose second model call carries the first call's thought signature.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createParser } from 'eventsource-parser';
import type OpenAI from 'openai';
import { pino } from 'pino';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import type { MockProvider } from '../fixtures/mock-provider.ts';
import { mockThoughtSignature } from '../fixtures/mock-wires/gemini.ts';
import { vertexTokens } from '../fixtures/mock-wires/vertex-auth.ts';
import { ProviderError, UpstreamStreamError } from '../src/protocol/errors.ts';
import type { ModelEvent, ModelOutput } from '../src/protocol/events.ts';
import type { ModelRequest } from '../src/protocol/model-request.ts';
import { usageOf } from '../src/protocol/responses.ts';
import { GeminiStreamDecoder, geminiResponseToOutput } from '../src/providers/gemini/decode.ts';
import { createGemini } from '../src/providers/gemini/provider.ts';
import { modelRequestToResponses } from '../src/providers/openai-responses/request.ts';
import { FOREIGN_SIGNATURE, modelRequestToGemini } from '../src/providers/gemini/request.ts';
import type { GenerateContentResponse } from '../src/providers/gemini/wire.ts';
import type { CallOptions, ModelStream, ProviderContext } from '../src/providers/types.ts';
import { createVertex } from '../src/providers/vertex/provider.ts';
import { openaiClients, startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';
import { serviceAccountKeys, vertexCredentials } from './support/vertex.ts';

// ---- helpers ------------------------------------------------------------------------------------

function request(model: string, input: unknown[], extra: Partial<ModelRequest> = {}): ModelRequest {
  return { model, instructions: null, input: input as ModelRequest['input'], tools: [], ...extra };
}

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

/** A recorded stream through the decoder, as the gateway reads it off the wire. */
function decodeRecorded(name: string): ModelEvent[] {
  const text = readFileSync(new URL(`../fixtures/streams/${name}`, import.meta.url), 'utf8');
  const decoder = new GeminiStreamDecoder();
  const out: ModelEvent[] = [];
  createParser({ onEvent: (msg) => decoder.event(msg, out) }).feed(text);
  decoder.end(out);
  return out;
}

/** Gateway ids replaced by their kind and order of appearance (`msg#1`), invented call ids by `call_*`. */
function normalized<T>(value: T): T {
  const seen = new Map<string, string>();
  const json = JSON.stringify(value)
    .replace(/\b(msg|rs|fc)_[0-9a-f]{48}\b/g, (id, kind: string) => {
      if (!seen.has(id)) seen.set(id, `${kind}#${[...seen.values()].filter((v) => v.startsWith(`${kind}#`)).length + 1}`);
      return seen.get(id)!;
    })
    .replace(/\bcall_[0-9a-f]{24}\b/g, 'call_*');
  return JSON.parse(json);
}

function decodeChunks(chunks: object[]): ModelEvent[] {
  const decoder = new GeminiStreamDecoder();
  const out: ModelEvent[] = [];
  for (const c of chunks) decoder.event({ data: JSON.stringify(c) }, out);
  decoder.end(out);
  return out;
}

const opts = (): CallOptions => ({ signal: new AbortController().signal, log: pino({ level: 'silent' }) });

async function collect(stream: ModelStream): Promise<ModelEvent[]> {
  const events: ModelEvent[] = [];
  for await (const batch of stream) events.push(...batch);
  return events;
}

function context(params: Record<string, unknown>, name: string, env: NodeJS.ProcessEnv = {}): ProviderContext {
  return { params: params as ProviderContext['params'], name, env, timeoutMs: 10_000, streamIdleMs: 10_000, headers: undefined };
}

const textOf = (out: ModelOutput) =>
  out.items
    .filter((i) => i.type === 'message')
    .map((i) => (i as { content: { text: string }[] }).content.map((c) => c.text).join(''))
    .join('');

// ---- the request ----------------------------------------------------------------------------------

describe('canonical request -> generateContent body', () => {
  test('instructions and system messages, images by data and by URL, sampling, a forced tool, a JSON schema', () => {
    const schema = { type: 'object', properties: { temp: { type: 'number' } }, required: ['temp'] };
    const { body, dropped, calls } = modelRequestToGemini(
      request(
        'gemini-2.5-flash',
        [
          { type: 'message', role: 'developer', content: 'Use metric units.' },
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is in these?' },
              { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
              { type: 'input_image', image_url: 'https://example.com/cat.jpg?size=large', detail: 'auto' },
              { type: 'input_file', file_url: 'https://example.com/report.pdf' },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            ],
          },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A chart and a cat.', annotations: [] }] },
          { type: 'message', role: 'system', content: 'Answer in French.' },
          { type: 'message', role: 'user', content: 'And the weather?' },
        ],
        {
          instructions: 'Be brief.',
          tools: [weatherTool, { type: 'web_search' }],
          tool_choice: { type: 'function', name: 'get_weather' },
          temperature: 0.3,
          top_p: 0.9,
          max_output_tokens: 256,
          extras: { stop: 'END' },
          text: { format: { type: 'json_schema', name: 'w', schema } },
        },
      ),
    );
    assert.deepEqual(body, {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these?' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg?size=large' } },
            { fileData: { mimeType: 'application/pdf', fileUri: 'https://example.com/report.pdf' } },
            { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
          ],
        },
        { role: 'model', parts: [{ text: 'A chart and a cat.' }] },
        { role: 'user', parts: [{ text: 'And the weather?' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }, { text: 'Answer in French.' }] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: weatherTool.parameters }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        temperature: 0.3,
        topP: 0.9,
        maxOutputTokens: 256,
        stopSequences: ['END'],
        responseMimeType: 'application/json',
        responseJsonSchema: schema,
      },
    });
    assert.deepEqual(dropped, ['tools:web_search']);
    assert.equal(calls, null);
  });

  const loop = [
    { type: 'message', role: 'user', content: 'Weather in Paris and Rome, then book the warmer.' },
    { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Two lookups.' }], encrypted_content: 'gemini:SIG1' },
    // the gateway's MCP loop interleaves each call with its output; both calls are one step (one model answer)
    { type: 'function_call', call_id: 'gcall_fc-1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call_output', call_id: 'gcall_fc-1', output: '18C' },
    { type: 'function_call', call_id: 'call_abc', name: 'get_weather', arguments: '{"city":"Rome"}' },
    { type: 'function_call_output', call_id: 'call_abc', output: '{"temp":25,"unit":"C"}' },
    { type: 'reasoning', summary: [], encrypted_content: 'gemini:SIG2' },
    { type: 'function_call', call_id: 'call_def', name: 'book', arguments: '{"city":"Rome"}' },
    {
      type: 'function_call_output',
      call_id: 'call_def',
      output: [
        { type: 'input_text', text: 'Booked.' },
        { type: 'input_image', image_url: 'data:image/png;base64,QUJD', detail: 'auto' },
      ],
    },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Booked Rome.', annotations: [] }] },
    // a text answer's signature follows its message; another provider's encrypted reasoning is not Gemini's
    { type: 'reasoning', summary: [], encrypted_content: 'gemini:SIG3' },
    { type: 'reasoning', summary: [], encrypted_content: 'gAAAAABopenai' },
    { type: 'message', role: 'user', content: 'Thanks. Now Berlin?' },
    // a call another model made, in the current turn
    { type: 'function_call', call_id: 'toolu_01', name: 'get_weather', arguments: '{"city":"Berlin"}' },
    { type: 'function_call_output', call_id: 'toolu_01', output: '9C' },
  ];

  test('a tool loop: calls grouped by step, signatures back on their parts, Gemini ids only where Gemini gave them, responses named', () => {
    const { body } = modelRequestToGemini(request('gemini-3-pro-preview', loop, { tools: [weatherTool] }));
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome, then book the warmer.' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { id: 'fc-1', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG1' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'fc-1', name: 'get_weather', response: { output: '18C' } } },
          { functionResponse: { name: 'get_weather', response: { temp: 25, unit: 'C' } } },
        ],
      },
      { role: 'model', parts: [{ functionCall: { name: 'book', args: { city: 'Rome' } }, thoughtSignature: 'SIG2' }] },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'book', response: { output: 'Booked.' } } }, { inlineData: { mimeType: 'image/png', data: 'QUJD' } }],
      },
      { role: 'model', parts: [{ text: 'Booked Rome.', thoughtSignature: 'SIG3' }] },
      { role: 'user', parts: [{ text: 'Thanks. Now Berlin?' }] },
      // Gemini 3 refuses an unsigned step: the documented placeholder stands in
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Berlin' } }, thoughtSignature: FOREIGN_SIGNATURE }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '9C' } } }] },
    ]);
  });

  test('before Gemini 3 an unsigned call is sent as it is; a client that lists the outputs after the calls gets the same grouping', () => {
    const { body } = modelRequestToGemini(request('gemini-2.5-flash', loop));
    assert.deepEqual(body.contents[7], { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Berlin' } } }] });
    const clientOrder = [loop[0], loop[1], loop[2], loop[4], loop[3], loop[5]];
    const grouped = modelRequestToGemini(request('gemini-2.5-flash', clientOrder)).body.contents;
    assert.deepEqual(grouped, modelRequestToGemini(request('gemini-2.5-flash', loop.slice(0, 6))).body.contents);
    assert.equal(grouped.length, 3);
  });

  test("after a failover to OpenAI Responses, a Gemini signature is left out and OpenAI's own encrypted reasoning replayed", () => {
    const body = modelRequestToResponses(
      request('gpt-5', [
        { type: 'message', role: 'user', content: 'Weather?' },
        { type: 'reasoning', id: 'rs_g', summary: [], encrypted_content: 'gemini:c2lnbmF0dXJl' },
        { type: 'reasoning', id: 'rs_o', summary: [], encrypted_content: 'gAAAA-openai' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
      ]),
    );
    const reasoning = (body.input as { type?: string; encrypted_content?: string }[]).filter((i) => i.type === 'reasoning');
    assert.deepEqual(
      reasoning.map((r) => r.encrypted_content),
      ['gAAAA-openai'],
    );
  });

  test('tool_choice as functionCallingConfig', () => {
    const config = (tool_choice: ModelRequest['tool_choice']) =>
      modelRequestToGemini(request('gemini-2.5-flash', [], { tools: [weatherTool], tool_choice })).body.toolConfig;
    assert.equal(config('auto'), undefined);
    assert.deepEqual(config('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(config('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(config({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'get_weather' }] }), {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });
    assert.equal(config({ type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] }), undefined);
    assert.equal(modelRequestToGemini(request('gemini-2.5-flash', [], { tool_choice: 'required' })).body.toolConfig, undefined, 'no tools, no config');
  });

  test('reasoning as thinkingConfig: a level for Gemini 3, a budget for 2.5, thought summaries on request; nothing for models that do not think', () => {
    const thinking = (model: string, reasoning: ModelRequest['reasoning']) => {
      const { body, dropped } = modelRequestToGemini(request(model, [], { reasoning }));
      return [body.generationConfig?.thinkingConfig, dropped];
    };
    assert.deepEqual(thinking('gemini-3-pro-preview', { effort: 'low' }), [{ thinkingLevel: 'low' }, []]);
    assert.deepEqual(thinking('gemini-3-pro-preview', { effort: 'medium' }), [{ thinkingLevel: 'high' }, []]);
    assert.deepEqual(thinking('gemini-3-flash-preview', { effort: 'minimal' }), [{ thinkingLevel: 'minimal' }, []]);
    assert.deepEqual(thinking('gemini-2.5-flash', { effort: 'high', summary: 'auto' }), [{ thinkingBudget: 24576, includeThoughts: true }, []]);
    assert.deepEqual(thinking('gemini-2.5-pro', { effort: 'none' }), [{ thinkingBudget: 128 }, []]);
    assert.deepEqual(thinking('gemini-2.5-flash', { effort: 'none' }), [{ thinkingBudget: 0 }, []]);
    assert.deepEqual(thinking('gemini-2.0-flash', { effort: 'high', summary: 'auto' }), [undefined, ['reasoning.effort', 'reasoning.summary']]);
  });

  test('client tools are offered as functions and their calls come back as the client sent them', () => {
    const { body, calls } = modelRequestToGemini(
      request('gemini-2.5-flash', [{ type: 'custom_tool_call', call_id: 'call_1', name: 'patch', input: '*** Begin Patch' }], {
        tools: [{ type: 'custom', name: 'patch', description: 'Apply a patch' }],
      }),
    );
    assert.deepEqual(
      body.tools?.[0]?.functionDeclarations.map((f) => f.name),
      ['patch'],
    );
    assert.deepEqual(body.contents, [{ role: 'model', parts: [{ functionCall: { name: 'patch', args: { input: '*** Begin Patch' } } }] }]);
    assert.ok(calls, 'the custom tool call is mapped back');
  });
});

// ---- the answer ---------------------------------------------------------------------------------

describe('Gemini answers -> canonical events and items', () => {
  test('the recorded 2.5 stream: text deltas, the signature as a reasoning item before its call, the call whole, usage', () => {
    const SIG =
      'gemini:CtACAdHtim9kQ3Z0b1VqR2xZc0NmR1B3aE5UeU1QZ0F4S2ZpQkJ2N0VwZ1hZb2V4UjJkVlZ6dE9oS2RzU3lRbHhCc1d0c0ZnPT0KZmF1eF9zaWduYXR1cmVfZm9yX3Rlc3RzX29ubHk=';
    const args = '{"city":"Paris","unit":"celsius"}';
    const text = 'Let me check the weather in Paris.';
    const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
    const scope = (kind: string, index: number) => ({ sequence_number: 0, item_id: `${kind}#1`, output_index: index });
    assert.deepEqual(normalized(decodeRecorded('gemini-text-then-call.sse')), [
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 0,
        item: { id: 'msg#1', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      },
      { type: 'response.content_part.added', ...scope('msg', 0), content_index: 0, part: part('') },
      { type: 'response.output_text.delta', ...scope('msg', 0), content_index: 0, delta: 'Let me check', logprobs: [] },
      { type: 'response.output_text.delta', ...scope('msg', 0), content_index: 0, delta: ' the weather in Paris.', logprobs: [] },
      { type: 'response.output_text.done', ...scope('msg', 0), content_index: 0, text, logprobs: [] },
      { type: 'response.content_part.done', ...scope('msg', 0), content_index: 0, part: part(text) },
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 0,
        item: { id: 'msg#1', type: 'message', status: 'completed', role: 'assistant', content: [part(text)] },
      },
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 1,
        item: { id: 'rs#1', type: 'reasoning', summary: [], content: [], status: 'in_progress' },
      },
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 1,
        item: { id: 'rs#1', type: 'reasoning', summary: [], content: [], status: 'completed', encrypted_content: SIG },
      },
      {
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: 2,
        item: { id: 'fc#1', type: 'function_call', status: 'in_progress', arguments: '', call_id: 'call_*', name: 'get_weather' },
      },
      { type: 'response.function_call_arguments.delta', ...scope('fc', 2), delta: args },
      { type: 'response.function_call_arguments.done', ...scope('fc', 2), arguments: args, name: 'get_weather' },
      {
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: 2,
        item: { id: 'fc#1', type: 'function_call', status: 'completed', arguments: args, call_id: 'call_*', name: 'get_weather' },
      },
      // prompt 58 (32 of them cached); output 27 candidates + 112 thoughts
      { type: 'model.end', status: 'completed', usage: usageOf(58, 139, 32, 112) },
    ]);
  });

  test("the recorded Gemini 3 stream: a thought as reasoning text, the answer, and the text's signature after it", () => {
    const events = normalized(decodeRecorded('gemini-3-thought-then-text.sse'));
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: unknown }).item);
    assert.deepEqual(done, [
      {
        id: 'rs#1',
        type: 'reasoning',
        summary: [],
        content: [{ type: 'reasoning_text', text: '**Recalling the capital**\n\nThe user wants the capital of France, which is Paris.\n' }],
        status: 'completed',
      },
      {
        id: 'msg#1',
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'The capital of France is Paris.', annotations: [], logprobs: [] }],
      },
      {
        id: 'rs#2',
        type: 'reasoning',
        summary: [],
        content: [],
        status: 'completed',
        encrypted_content: 'gemini:EuQDCuEDAdHtim8xWm9nT2ZfZ2VtaW5pXzNfdGV4dF9zaWduYXR1cmVfZm9yX3Rlc3RzX29ubHk=',
      },
    ]);
    assert.deepEqual(
      events.filter((e) => e.type.startsWith('response.reasoning_text')).map((e) => e.type),
      ['response.reasoning_text.delta', 'response.reasoning_text.done'],
      'the signature-only item has no text events',
    );
    assert.deepEqual(events.at(-1), { type: 'model.end', status: 'completed', usage: usageOf(9, 141, 0, 134) });
  });

  const whole: GenerateContentResponse = {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: 'Weighing both cities.', thought: true },
            { text: 'Two lookups.' },
            { functionCall: { id: 'fc-9', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIGX' },
            { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: 100,
      candidatesTokenCount: 20,
      thoughtsTokenCount: 30,
      cachedContentTokenCount: 40,
      toolUsePromptTokenCount: 5,
      totalTokenCount: 155,
    },
    modelVersion: 'gemini-2.5-pro',
    responseId: 'r1',
  };

  test('a whole answer: the same items as streamed, and they replay as the model content Gemini sent', () => {
    const out = normalized(geminiResponseToOutput(whole));
    assert.deepEqual(out, {
      items: [
        { id: 'rs#1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Weighing both cities.' }], status: 'completed' },
        {
          id: 'msg#1',
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Two lookups.', annotations: [], logprobs: [] }],
        },
        { id: 'rs#2', type: 'reasoning', summary: [], content: [], status: 'completed', encrypted_content: 'gemini:SIGX' },
        { id: 'fc#1', type: 'function_call', status: 'completed', arguments: '{"city":"Paris"}', call_id: 'gcall_fc-9', name: 'get_weather' },
        { id: 'fc#2', type: 'function_call', status: 'completed', arguments: '{"city":"Rome"}', call_id: 'call_*', name: 'get_weather' },
      ],
      end: { type: 'model.end', status: 'completed', usage: usageOf(105, 50, 40, 30) },
    });
    const replayed = modelRequestToGemini(request('gemini-2.5-pro', geminiResponseToOutput(whole).items)).body.contents;
    assert.deepEqual(replayed, [
      {
        role: 'model',
        parts: [
          { text: 'Two lookups.' },
          { functionCall: { id: 'fc-9', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIGX' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
    ]);
  });

  test('finish reasons: MAX_TOKENS and the filters end incomplete, a blocked prompt too; the open item takes the status', () => {
    const ended = (finishReason: string) => {
      const out = decodeChunks([{ candidates: [{ content: { role: 'model', parts: [{ text: 'Partial' }] }, finishReason, index: 0 }] }]);
      const end = out.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
      const message = out.find((e) => e.type === 'response.output_item.done') as { item: { status: string } };
      return [end.status, end.incomplete_reason, message.item.status];
    };
    assert.deepEqual(ended('STOP'), ['completed', undefined, 'completed']);
    assert.deepEqual(ended('MAX_TOKENS'), ['incomplete', 'max_output_tokens', 'incomplete']);
    for (const r of ['SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII'])
      assert.deepEqual(ended(r), ['incomplete', 'content_filter', 'incomplete'], r);
    const blocked = geminiResponseToOutput({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } });
    assert.deepEqual(blocked, { items: [], end: { type: 'model.end', status: 'incomplete', incomplete_reason: 'content_filter', usage: usageOf(7, 0) } });
  });

  test('usage is cumulative: the last report counts', () => {
    const out = decodeChunks([
      { candidates: [{ content: { parts: [{ text: 'a' }] } }], usageMetadata: { promptTokenCount: 10, totalTokenCount: 10 } },
      { candidates: [{ content: { parts: [{ text: 'b' }] } }], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1, totalTokenCount: 11 } },
      {
        candidates: [{ content: { parts: [{ text: 'c' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 13 },
      },
    ]);
    assert.deepEqual(out.at(-1), { type: 'model.end', status: 'completed', usage: usageOf(10, 3) });
  });

  test('a stream without a finishReason, or with an error in it, is an UpstreamStreamError', () => {
    assert.throws(
      () => decodeChunks([{ candidates: [{ content: { parts: [{ text: 'cut' }] } }] }]),
      (e: unknown) => e instanceof UpstreamStreamError && e.code === 'upstream_error' && /without a finishReason/.test(e.message),
    );
    assert.throws(
      () => decodeChunks([{ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }]),
      (e: unknown) => e instanceof UpstreamStreamError && e.code === 'rate_limit_exceeded' && /Resource has been exhausted/.test(e.message),
    );
  });
});

// ---- the providers, against the mock ----------------------------------------------------------------

let t: TestGateway;
let client: OpenAI;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({
    model_list: (mock: MockProvider) => [
      { model_name: 'gem/*', litellm_params: { model: 'gemini/*', api_base: mock.url, api_key: 'gem-key', max_retries: 0 } },
    ],
    mcp_servers: { fixture: { url: fixture.url, transport: 'http' } },
  });
  ({ client } = openaiClients(t.gw.url));
});
after(async () => {
  await t.close();
  await fixture.close();
});

describe('gemini/ against the mock', () => {
  const gemini = (model: string) => createGemini(context({ model: `gemini/${model}`, api_base: t.mock.url }, model, { GEMINI_API_KEY: 'env-key' })).provider;

  test('streamed and not: its paths, the key from GEMINI_API_KEY in x-goog-api-key, text and usage', async () => {
    const m = 'gemini-2.5-flash-plain';
    t.mock.enqueue(m, { text: 'Bonjour tout le monde.', usage: { input: 9, output: 4, cached: 3 } }, { text: 'Salut.', usage: { input: 9, output: 2 } });
    const p = gemini(m);
    assert.deepEqual([p.api, p.owner], ['gemini', 'google']);
    const events = await collect(await p.stream(request(m, [{ type: 'message', role: 'user', content: 'Hi' }], { instructions: 'Be brief.' }), opts()));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as { delta: string }).delta);
    assert.deepEqual(deltas, ['Bonjour tout ', 'le monde.']);
    assert.deepEqual(events.at(-1), { type: 'model.end', status: 'completed', usage: usageOf(9, 4, 3) });
    const plain = await p.complete(request(m, [{ type: 'message', role: 'user', content: 'Hi' }]), opts());
    assert.equal(textOf(plain), 'Salut.');
    assert.deepEqual(plain.end.usage, usageOf(9, 2));
    const [streamed, whole] = t.mock.requestsFor(m);
    assert.equal(streamed?.path, `/v1beta/models/${m}:streamGenerateContent`);
    assert.equal(streamed?.stream, true);
    assert.equal(streamed?.headers['x-goog-api-key'], 'env-key');
    assert.deepEqual(streamed?.body, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] } });
    assert.equal(whole?.path, `/v1beta/models/${m}:generateContent`);
    assert.equal(whole?.stream, false);
  });

  test('a tool loop: the call and its signature come back, and the next request carries the signature on that call', async () => {
    const m = 'gemini-3-flash-loop';
    t.mock.enqueue(m, { text: 'Checking.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }, (req) => ({
      text: req.toolOutputs.includes('18C and sunny') ? 'It is 18C and sunny.' : `missing: ${JSON.stringify(req.toolOutputs)}`,
    }));
    const p = gemini(m);
    const input = [{ type: 'message', role: 'user', content: 'Weather in Paris?' }];
    const first = await collect(await p.stream(request(m, input, { tools: [weatherTool] }), opts()));
    const items = first.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: Record<string, unknown> }).item);
    assert.deepEqual(
      items.map((i) => i.type),
      ['message', 'reasoning', 'function_call'],
    );
    const signature = mockThoughtSignature(m, 'get_weather');
    assert.equal(items[1]?.encrypted_content, `gemini:${signature}`);
    const call = items[2] as { call_id: string };
    const second = await p.complete(
      request(m, [...input, ...items, { type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' }], { tools: [weatherTool] }),
      opts(),
    );
    assert.equal(textOf(second), 'It is 18C and sunny.');
    assert.deepEqual(t.mock.requestsFor(m)[1]?.body.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: signature }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '18C and sunny' } } }] },
    ]);
  });

  test('an id Gemini gives a call goes back with the call and its response', async () => {
    const m = 'gemini-3-flash-ids';
    t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' }, id: 'gx-1' }] }, { text: 'Cold.' });
    const p = gemini(m);
    const first = await p.complete(request(m, [{ type: 'message', role: 'user', content: 'Oslo?' }], { tools: [weatherTool] }), opts());
    const call = first.items.find((i) => i.type === 'function_call') as { call_id: string };
    assert.equal(call.call_id, 'gcall_gx-1');
    await p.complete(request(m, [...first.items, { type: 'function_call_output', call_id: call.call_id, output: '-3C' }], { tools: [weatherTool] }), opts());
    const contents = t.mock.requestsFor(m)[1]?.body.contents;
    assert.deepEqual(contents[0].parts[0].functionCall, { id: 'gx-1', name: 'get_weather', args: { city: 'Oslo' } });
    assert.deepEqual(contents[1].parts[0].functionResponse, { id: 'gx-1', name: 'get_weather', response: { output: '-3C' } });
  });

  test("the provider's error keeps Google's status name as its code", async () => {
    const m = 'gemini-2.5-flash-err';
    t.mock.enqueue(m, { error: { status: 429, message: 'Resource has been exhausted' } });
    await assert.rejects(
      gemini(m).complete(request(m, [{ type: 'message', role: 'user', content: 'x' }]), opts()),
      (e: unknown) => e instanceof ProviderError && e.status === 429 && e.code === 'RESOURCE_EXHAUSTED' && e.message === 'Resource has been exhausted',
    );
  });

  test('listModels reads every page of GET /v1beta/models', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers['x-goog-api-key']}`);
      const second = req.url?.includes('pageToken=p2');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          second
            ? { models: [{ name: 'models/gemini-2.5-pro' }] }
            : { models: [{ name: 'models/gemini-2.5-flash' }, { name: 'models/embedding-001' }], nextPageToken: 'p2' },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta/`;
      const p = createGemini(context({ model: 'gemini/*', api_base: base, api_key: 'k1' }, '*')).provider;
      assert.deepEqual(await p.listModels(new AbortController().signal), ['gemini-2.5-flash', 'embedding-001', 'gemini-2.5-pro']);
      assert.deepEqual(seen, ['/v1beta/models?pageSize=1000 k1', '/v1beta/models?pageSize=1000&pageToken=p2 k1']);
    } finally {
      server.close();
    }
  });
});

describe('vertex_ai/ against the mock', () => {
  const credentials = () => vertexCredentials(t.mock);
  const vertex = (model: string, params: Record<string, unknown> = {}) =>
    createVertex(context({ model: `vertex_ai/${model}`, api_base: t.mock.url, vertex_credentials: credentials(), ...params }, model)).provider;
  const hi = (m: string) => request(m, [{ type: 'message', role: 'user', content: 'Hi' }]);

  before(() => {
    // the service account's assertions must verify against its public key
    vertexTokens(t.mock).keys.set('gateway@proj.iam.gserviceaccount.com', serviceAccountKeys().publicKey);
  });

  test("Gemini on Vertex: its publisher path, a token minted once (the credentials' token_uri) and reused, as Bearer", async () => {
    const m = 'gemini-2.5-pro-vx';
    t.mock.always(m, { text: 'From Vertex.' });
    const tokens = vertexTokens(t.mock);
    const before = tokens.minted.length;
    const p = vertex(m, { vertex_project: 'proj-a', vertex_location: 'europe-west4' });
    assert.deepEqual([p.api, p.owner], ['gemini', 'google']);
    const events = await collect(await p.stream(hi(m), opts()));
    assert.equal(events.at(-1)?.type, 'model.end');
    assert.equal(textOf(await p.complete(hi(m), opts())), 'From Vertex.');
    await Promise.all([p.complete(hi(m), opts()), p.complete(hi(m), opts())]);
    assert.equal(tokens.minted.length, before + 1, 'one token for four calls');
    assert.deepEqual(tokens.refused, []);
    const seen = t.mock.requestsFor(m);
    assert.deepEqual(
      seen.map((r) => r.path),
      [
        `/v1/projects/proj-a/locations/europe-west4/publishers/google/models/${m}:streamGenerateContent`,
        ...Array(3).fill(`/v1/projects/proj-a/locations/europe-west4/publishers/google/models/${m}:generateContent`),
      ],
    );
    assert.deepEqual(new Set(seen.map((r) => r.headers.authorization)), new Set([`Bearer ${tokens.minted.at(-1)}`]));
    assert.equal(seen[0]?.via, 'vertex');
  });

  test('a token within five minutes of expiry is refreshed; concurrent calls share one refresh', async () => {
    const m = 'gemini-2.5-flash-vx-refresh';
    t.mock.always(m, { text: 'ok' });
    const tokens = vertexTokens(t.mock);
    tokens.expiresIn = 120;
    try {
      const before = tokens.minted.length;
      const p = vertex(m, { vertex_project: 'proj' });
      await Promise.all([p.complete(hi(m), opts()), p.complete(hi(m), opts()), p.complete(hi(m), opts())]);
      assert.equal(tokens.minted.length, before + 1, 'concurrent calls: one exchange');
      await p.complete(hi(m), opts());
      assert.equal(tokens.minted.length, before + 2, 'the short-lived token was renewed');
      assert.equal(t.mock.requestsFor(m).at(-1)?.headers.authorization, `Bearer ${tokens.minted.at(-1)}`);
    } finally {
      tokens.expiresIn = 3599;
    }
  });

  test("LiteLLM's other spellings name the project and location; without one, the credentials' project", async () => {
    const m = 'gemini-2.5-flash-vx-names';
    t.mock.always(m, { text: 'ok' });
    await vertex(m, { vertex_ai_project: 'proj-b', vertex_ai_location: 'asia-south1' }).complete(hi(m), opts());
    await vertex(m).complete(hi(m), opts());
    await createVertex(
      context({ model: `vertex_ai/${m}`, api_base: t.mock.url, vertex_credentials: credentials() }, m, {
        VERTEXAI_PROJECT: 'env-proj',
        VERTEXAI_LOCATION: 'us-east1',
      }),
    ).provider.complete(hi(m), opts());
    assert.deepEqual(
      t.mock.requestsFor(m).map((r) => r.path.split('/publishers/')[0]),
      ['/v1/projects/proj-b/locations/asia-south1', '/v1/projects/proj/locations/us-central1', '/v1/projects/env-proj/locations/us-east1'],
    );
  });

  test('Claude on Vertex: :streamRawPredict and :rawPredict, anthropic_version in the body and no model, the same Bearer token', async () => {
    const m = 'claude-sonnet-4@20250514';
    t.mock.enqueue(m, { text: 'Claude here.' }, { text: 'Again.' });
    const created = createVertex(
      context({ model: `vertex_ai/${m}`, api_base: t.mock.url, vertex_project: 'proj', vertex_location: 'us-east5', vertex_credentials: credentials() }, m),
    );
    assert.equal(created.upstreamModel, m);
    const p = created.provider;
    assert.deepEqual([p.api, p.owner], ['anthropic', 'google']);
    const events = await collect(await p.stream(hi(m), opts()));
    assert.deepEqual(events.at(-1), { type: 'model.end', status: 'completed', usage: usageOf(12, 7) });
    assert.equal(textOf(await p.complete(hi(m), opts())), 'Again.');
    const [streamed, whole] = t.mock.requestsFor(m);
    assert.equal(streamed?.path, `/v1/projects/proj/locations/us-east5/publishers/anthropic/models/${m}:streamRawPredict`);
    assert.equal(whole?.path, `/v1/projects/proj/locations/us-east5/publishers/anthropic/models/${m}:rawPredict`);
    assert.equal(streamed?.body.anthropic_version, 'vertex-2023-10-16');
    assert.equal('model' in (streamed?.body ?? {}), false);
    assert.deepEqual([streamed?.body.stream, whole?.body.stream], [true, false]);
    assert.match(String(streamed?.headers.authorization), /^Bearer ya29\.mock-\d+$/);
    assert.equal(streamed?.headers['x-api-key'], undefined);
  });

  test('an assertion signed with another key is refused, and the call fails as an authentication error', async () => {
    const m = 'gemini-2.5-flash-vx-badkey';
    const tokens = vertexTokens(t.mock);
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    tokens.keys.set('impostor@proj.iam.gserviceaccount.com', other.publicKey);
    const sa = { ...JSON.parse(credentials()), client_email: 'impostor@proj.iam.gserviceaccount.com' };
    const before = tokens.minted.length;
    await assert.rejects(
      vertex(m, { vertex_credentials: JSON.stringify(sa) }).complete(hi(m), opts()),
      (e: unknown) =>
        e instanceof ProviderError && e.status === 401 && e.type === 'authentication_error' && /the JWT signature does not verify/.test(e.message),
    );
    assert.equal(tokens.minted.length, before);
    assert.equal(tokens.refused.at(-1), 'the JWT signature does not verify');
    assert.equal(t.mock.requestsFor(m).length, 0, 'nothing reached the model');
  });

  test('credentials that cannot be read fail the config, naming the key', () => {
    assert.throws(
      () => createVertex(context({ model: 'vertex_ai/gemini-2.5-pro', vertex_credentials: '/nonexistent/sa.json' }, 'gemini-2.5-pro')),
      /vertex_credentials: cannot read the credentials file \/nonexistent\/sa\.json/,
    );
    assert.throws(
      () => createVertex(context({ model: 'vertex_ai/gemini-2.5-pro', vertex_credentials: '{"type": ' }, 'gemini-2.5-pro')),
      /vertex_credentials is not a credentials JSON object/,
    );
  });
});

// ---- the gateway's MCP loop ---------------------------------------------------------------------

describe('the gateway MCP loop through gemini/', () => {
  const mcpTool = { type: 'mcp' as const, server_label: 'gw', server_url: 'litellm_proxy', require_approval: 'never' as const };

  for (const streamed of [false, true]) {
    test(`the second model call carries the first call's thought signature (${streamed ? 'streamed' : 'not streamed'})`, async () => {
      const m = `gemini-3-flash-mcp-${streamed ? 's' : 'n'}`;
      t.mock.always(
        m,
        callThenAnswer([{ name: 'fixture-add', arguments: { a: 2, b: 3 } }], (outs) => `The sum is ${outs[0]!.split('\n')[0]}.`),
      );
      const body = { model: `gem/${m}`, input: 'What is 2+3? Use the tool.', tools: [mcpTool] };
      let output: { type: string; encrypted_content?: string }[];
      if (streamed) {
        const { violations, events } = await streamResponse(t.gw.url, body);
        assert.deepEqual(violations, []);
        output = events.at(-1).response.output;
      } else {
        const r = await client.responses.create(body);
        assert.equal(r.output_text, 'The sum is 5.');
        output = r.output as never;
      }
      const signature = mockThoughtSignature(m, 'fixture-add');
      assert.deepEqual(
        output.filter((o) => o.type === 'reasoning').map((o) => o.encrypted_content),
        [`gemini:${signature}`],
      );
      const [, second] = t.mock.requestsFor(m);
      assert.deepEqual(second?.body.contents, [
        { role: 'user', parts: [{ text: 'What is 2+3? Use the tool.' }] },
        { role: 'model', parts: [{ functionCall: { name: 'fixture-add', args: { a: 2, b: 3 } }, thoughtSignature: signature }] },
        { role: 'user', parts: [{ functionResponse: { name: 'fixture-add', response: { output: '5\n{"sum":5}' } } }] },
      ]);
    });
  }

  test('a client function loop continued with previous_response_id replays the stored signature', async () => {
    const m = 'gemini-3-flash-history';
    t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }, { text: 'Sunny.' });
    const first = await client.responses.create({ model: `gem/${m}`, input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call?.type === 'function_call');
    const second = await client.responses.create({
      model: `gem/${m}`,
      previous_response_id: first.id,
      tools: [weatherTool],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '18C' }],
    });
    assert.equal(second.output_text, 'Sunny.');
    const contents = t.mock.requestsFor(m)[1]?.body.contents;
    assert.equal(contents?.[1]?.parts?.[0]?.thoughtSignature, mockThoughtSignature(m, 'get_weather'));
  });
});
