/**
 * Amazon Bedrock (Converse / ConverseStream): the request converter's exact bodies (cache points, tool
 * results, images, documents), the recorded binary stream decoded whole and byte by byte, stream
 * exceptions, and the provider against the mock: SigV4 signing (re-verified here), Bearer keys, errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { pino } from 'pino';
import type { LitellmParams } from '../src/config/schema.ts';
import { startMockProvider, type MockProvider, type MockRequest } from '../fixtures/mock-provider.ts';
import { bedrockAuthProblem, BEDROCK_WIRE, eventMessage, exceptionMessage } from '../fixtures/mock-wires/bedrock.ts';
import { ProviderError, UpstreamStreamError } from '../src/protocol/errors.ts';
import type { ModelEvent } from '../src/protocol/events.ts';
import type { ModelRequest } from '../src/protocol/model-request.ts';
import { BedrockStreamDecoder, converseResponseToOutput } from '../src/providers/bedrock/decode.ts';
import { eventStreamFraming } from '../src/providers/bedrock/framing.ts';
import { BedrockProvider, createBedrock } from '../src/providers/bedrock/provider.ts';
import { cacheFields, converseModelId, modelRequestToConverse } from '../src/providers/bedrock/request.ts';
import { decodeStream } from '../src/providers/stream-body.ts';
import type { ModelStream } from '../src/providers/types.ts';

const PNG = 'iVBORw0KGgo=';

const conversation: ModelRequest = {
  model: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
  instructions: 'Be brief.',
  input: [
    { type: 'message', role: 'developer', content: 'Use metric units.' },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'Weather?' },
        { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
        { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' },
      ],
    },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '' },
    { type: 'function_call_output', call_id: 'call_1', output: '18C' },
    {
      type: 'function_call_output',
      call_id: 'call_2',
      output: [
        { type: 'input_text', text: 'map:' },
        { type: 'input_image', image_url: `data:image/jpeg;base64,${PNG}` },
      ],
    },
  ],
  tools: [
    { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
    { type: 'web_search' },
  ],
  tool_choice: { type: 'function', name: 'get_weather' },
  max_output_tokens: 100,
  temperature: 1.5,
  top_p: 0.9,
  extras: { stop: 'END' },
  text: { format: { type: 'json_schema', name: 'w', description: 'The weather', schema: { type: 'object' }, strict: true } },
};

const weatherSpec = {
  toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } },
};

describe('requests to Converse', () => {
  test('Claude: system blocks, merged turns, images, tool uses and results, tools, choice, knobs, cache points', () => {
    const { body, dropped, calls } = modelRequestToConverse(conversation);
    assert.deepEqual(body, {
      messages: [
        { role: 'user', content: [{ text: 'Weather?' }, { image: { format: 'png', source: { bytes: PNG } } }] },
        {
          role: 'assistant',
          content: [
            { text: 'Checking.' },
            { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
            { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: {} } },
          ],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'call_1', content: [{ text: '18C' }] } },
            { toolResult: { toolUseId: 'call_2', content: [{ text: 'map:' }, { image: { format: 'jpeg', source: { bytes: PNG } } }] } },
            { cachePoint: { type: 'default' } },
          ],
        },
      ],
      system: [{ text: 'Be brief.' }, { text: 'Use metric units.' }, { cachePoint: { type: 'default' } }],
      toolConfig: { tools: [weatherSpec, { cachePoint: { type: 'default' } }], toolChoice: { tool: { name: 'get_weather' } } },
      inferenceConfig: { maxTokens: 100, temperature: 1, topP: 0.9, stopSequences: ['END'] },
      outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: '{"type":"object"}', name: 'w', description: 'The weather' } } } },
    });
    assert.deepEqual(dropped, ['tools:web_search']);
    assert.equal(calls, null);
  });

  test('Nova takes cache points in system and messages but not tools; older Claude and other models take none', () => {
    const nova = modelRequestToConverse({ ...conversation, model: 'us.amazon.nova-pro-v1:0' }).body;
    assert.deepEqual(nova.toolConfig?.tools, [weatherSpec]);
    assert.deepEqual(nova.system?.at(-1), { cachePoint: { type: 'default' } });
    assert.deepEqual(nova.messages.at(-1)?.content.at(-1), { cachePoint: { type: 'default' } });
    for (const model of ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'meta.llama3-70b-instruct-v1:0', 'mistral.mistral-large-2407-v1:0']) {
      const { body } = modelRequestToConverse({ ...conversation, model });
      assert.equal(JSON.stringify(body).includes('cachePoint'), false, model);
    }
    assert.deepEqual(cacheFields('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0'), { tools: true });
    assert.deepEqual(cacheFields('anthropic.claude-haiku-4-5-20251001-v1:0'), { tools: true });
    assert.deepEqual(cacheFields('amazon.nova-2-lite-v1:0'), { tools: false });
    assert.equal(cacheFields('anthropic.claude-3-haiku-20240307-v1:0'), null);
  });

  test("the client's own breakpoints become cache points after their blocks and count first; the latest four are kept", () => {
    const bp = { prompt_cache_breakpoint: { mode: 'explicit' } };
    const marked = (text: string) => ({ type: 'input_text' as const, text, ...bp });
    const CP = { cachePoint: { type: 'default' } };
    const req = (input: unknown[], extra: object = {}) =>
      modelRequestToConverse({ model: 'anthropic.claude-sonnet-4-20250514-v1:0', instructions: null, input, tools: [], ...extra } as never).body;
    // two of the client's: the system's and a user part's; the gateway adds its own on the last block
    const two = req([
      { type: 'message', role: 'system', content: [marked('Rules.')] },
      { type: 'message', role: 'user', content: [marked('Long document.'), { type: 'input_text', text: 'Question?' }] },
    ]);
    assert.deepEqual(two.system, [{ text: 'Rules.' }, CP]);
    assert.deepEqual(two.messages, [{ role: 'user', content: [{ text: 'Long document.' }, CP, { text: 'Question?' }, CP] }]);
    // a marked tool output: the cache point follows the tool result (one cannot go inside it)
    const tool = req([
      { type: 'message', role: 'user', content: 'Go' },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: [marked('big result')] },
    ]);
    assert.deepEqual(tool.messages.at(-1), { role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [{ text: 'big result' }] } }, CP] });
    // five of the client's: the earliest is removed, and the gateway adds none
    const five = req([{ type: 'message', role: 'user', content: ['a', 'b', 'c', 'd', 'e'].map(marked) }]);
    assert.deepEqual(five.messages[0]!.content, [{ text: 'a' }, { text: 'b' }, CP, { text: 'c' }, CP, { text: 'd' }, CP, { text: 'e' }, CP]);
    // OpenAI's explicit mode: only the client's own
    const explicit = req([{ type: 'message', role: 'user', content: [marked('x'), { type: 'input_text', text: 'y' }] }], {
      prompt_cache_options: { mode: 'explicit' },
    });
    assert.deepEqual(explicit.messages[0]!.content, [{ text: 'x' }, CP, { text: 'y' }]);
  });

  test('a plain first turn: the one user message gets the cache point, no toolConfig, no inferenceConfig', () => {
    const { body, dropped } = modelRequestToConverse({
      model: 'anthropic.claude-opus-4-20250514-v1:0',
      instructions: null,
      input: [{ type: 'message', role: 'user', content: 'Hi' }],
      tools: [],
    });
    assert.deepEqual(body, { messages: [{ role: 'user', content: [{ text: 'Hi' }, { cachePoint: { type: 'default' } }] }] });
    assert.deepEqual(dropped, []);
  });

  test('tool_choice: required is any, allowed_tools follows its mode, auto is not sent, none leaves the tools out', () => {
    const req = (tool_choice: ModelRequest['tool_choice'], input: ModelRequest['input'] = [{ type: 'message', role: 'user', content: 'x' }]) =>
      modelRequestToConverse({ model: 'meta.llama3-70b-instruct-v1:0', instructions: null, input, tools: conversation.tools.slice(0, 1), tool_choice });
    assert.deepEqual(req('required').body.toolConfig, { tools: [weatherSpec], toolChoice: { any: {} } });
    assert.deepEqual(req({ type: 'allowed_tools', mode: 'required', tools: [] }).body.toolConfig, { tools: [weatherSpec], toolChoice: { any: {} } });
    assert.deepEqual(req('auto').body.toolConfig, { tools: [weatherSpec] });
    const none = req('none');
    assert.equal(none.body.toolConfig, undefined);
    assert.deepEqual(none.dropped, []);
    // A conversation that holds tool calls must come with a toolConfig: the tools stay, the choice is dropped.
    const history: ModelRequest['input'] = [
      { type: 'message', role: 'user', content: 'x' },
      { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'found' },
    ];
    const noneWithHistory = req('none', history);
    assert.deepEqual(noneWithHistory.body.toolConfig, { tools: [weatherSpec] });
    assert.deepEqual(noneWithHistory.dropped, ['tool_choice']);
    // ... and with no tools offered at all, stand-ins named after the calls.
    const bare = modelRequestToConverse({ model: 'meta.llama3-70b-instruct-v1:0', instructions: null, input: history, tools: [] });
    assert.deepEqual(bare.body.toolConfig, { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: {} } } } }] });
  });

  test('documents: a PDF and a text file with names Converse accepts; an audio part, a web image and unknown files are left out', () => {
    const { body } = modelRequestToConverse({
      model: 'meta.llama3-70b-instruct-v1:0',
      instructions: null,
      input: [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'Q3 report (final)_v2.pdf' },
            { type: 'input_file', file_data: 'data:text/plain;base64,aGk=' },
            { type: 'input_file', file_data: 'data:application/zip;base64,UEs=', filename: 'a.zip' },
            { type: 'input_file', file_url: 'https://example.com/a.pdf' },
            { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
            { type: 'input_image', image_url: 's3://bucket/cat.webp' },
          ],
        },
      ],
      tools: [],
    });
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { document: { format: 'pdf', name: 'Q3 report (final) v2', source: { bytes: 'JVBERi0=' } } },
          { document: { format: 'txt', name: 'document-2', source: { bytes: 'aGk=' } } },
          { image: { format: 'webp', source: { s3Location: { uri: 's3://bucket/cat.webp' } } } },
        ],
      },
    ]);
  });

  test("reasoning and OpenAI-only knobs are listed as dropped; LiteLLM's converse/ route hint is stripped", () => {
    const { dropped } = modelRequestToConverse({ ...conversation, tools: [], tool_choice: undefined, reasoning: { effort: 'high' }, top_logprobs: 2 });
    assert.deepEqual(dropped, ['top_logprobs', 'reasoning.effort']);
    assert.equal(converseModelId('converse/us.amazon.nova-pro-v1:0'), 'us.amazon.nova-pro-v1:0');
    assert.equal(converseModelId('amazon.nova-pro-v1:0'), 'amazon.nova-pro-v1:0');
  });
});

// ---- the stream ----------------------------------------------------------------------------------

const RECORDED = readFileSync(new URL('../fixtures/streams/bedrock-text-then-tool.eventstream', import.meta.url));

async function collect(stream: ModelStream): Promise<ModelEvent[]> {
  const out: ModelEvent[] = [];
  for await (const batch of stream) out.push(...batch);
  return out;
}

async function decodeChunks(chunks: Uint8Array[]): Promise<ModelEvent[]> {
  return collect(decodeStream(Readable.from(chunks), new BedrockStreamDecoder(), 10_000, await eventStreamFraming()));
}

/** Item ids are random: numbered by first appearance. */
function stableIds(events: ModelEvent[]): unknown {
  const ids = new Map<string, string>();
  return JSON.parse(JSON.stringify(events), (_k, v) => {
    if (typeof v !== 'string' || !/^(msg|fc|rs)_[0-9a-f]{48}$/.test(v)) return v;
    if (!ids.has(v)) ids.set(v, `${v.slice(0, v.indexOf('_'))}_${ids.size + 1}`);
    return ids.get(v);
  });
}

const TEXT = "I'll check the weather in Paris — one moment.";
const ARGS = '{"city": "Paris", "unit": "celsius"}';
const textPart = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });
const RECORDED_EVENTS = [
  {
    type: 'response.output_item.added',
    sequence_number: 0,
    output_index: 0,
    item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
  },
  { type: 'response.content_part.added', sequence_number: 0, item_id: 'msg_1', output_index: 0, content_index: 0, part: textPart('') },
  ...["I'll check", ' the weather in', ' Paris — one moment.'].map((delta) => ({
    type: 'response.output_text.delta',
    sequence_number: 0,
    item_id: 'msg_1',
    output_index: 0,
    content_index: 0,
    delta,
    logprobs: [],
  })),
  { type: 'response.output_text.done', sequence_number: 0, item_id: 'msg_1', output_index: 0, content_index: 0, text: TEXT, logprobs: [] },
  { type: 'response.content_part.done', sequence_number: 0, item_id: 'msg_1', output_index: 0, content_index: 0, part: textPart(TEXT) },
  {
    type: 'response.output_item.done',
    sequence_number: 0,
    output_index: 0,
    item: { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [textPart(TEXT)] },
  },
  {
    type: 'response.output_item.added',
    sequence_number: 0,
    output_index: 1,
    item: { id: 'fc_2', type: 'function_call', status: 'in_progress', arguments: '', call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather' },
  },
  { type: 'response.function_call_arguments.delta', sequence_number: 0, item_id: 'fc_2', output_index: 1, delta: '{"city": "Par' },
  { type: 'response.function_call_arguments.delta', sequence_number: 0, item_id: 'fc_2', output_index: 1, delta: 'is", "unit": "celsius"}' },
  { type: 'response.function_call_arguments.done', sequence_number: 0, item_id: 'fc_2', output_index: 1, arguments: ARGS, name: 'get_weather' },
  {
    type: 'response.output_item.done',
    sequence_number: 0,
    output_index: 1,
    item: { id: 'fc_2', type: 'function_call', status: 'completed', arguments: ARGS, call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather' },
  },
  {
    type: 'model.end',
    status: 'completed',
    // 412 uncached + 1024 read from cache, counted inside input as OpenAI counts them
    usage: {
      input_tokens: 1436,
      input_tokens_details: { cached_tokens: 1024 },
      output_tokens: 58,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 1494,
    },
  },
];

describe('ConverseStream decoding', () => {
  test('the recorded stream, whole: text, then the tool call, usage with cache reads', async () => {
    assert.deepEqual(stableIds(await decodeChunks([RECORDED])), RECORDED_EVENTS);
  });

  test('the recorded stream fed byte by byte: messages split across every boundary decode the same', async () => {
    const bytes = Array.from(RECORDED, (b) => Uint8Array.of(b));
    assert.deepEqual(stableIds(await decodeChunks(bytes)), RECORDED_EVENTS);
  });

  test('and in uneven chunks, several messages and a part of the next in one', async () => {
    const chunks: Uint8Array[] = [];
    for (let at = 0, n = 1; at < RECORDED.length; at += n, n = (n * 7) % 601) chunks.push(RECORDED.subarray(at, at + n));
    assert.deepEqual(stableIds(await decodeChunks(chunks)), RECORDED_EVENTS);
  });

  test('a throttlingException in the stream is a rate-limit stream failure with its message', async () => {
    const frames = [
      eventMessage('messageStart', { role: 'assistant' }),
      eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' } }),
      exceptionMessage('throttlingException', 'Too many tokens, please wait before trying again.'),
    ];
    await assert.rejects(decodeChunks([Buffer.concat(frames)]), (e: unknown) => {
      assert.ok(e instanceof UpstreamStreamError);
      assert.equal(e.code, 'rate_limit_exceeded');
      assert.equal(e.message, 'the upstream stream reported an error: throttlingException: Too many tokens, please wait before trying again.');
      return true;
    });
  });

  test('other exceptions are upstream errors; a stream that ends before messageStop is one too', async () => {
    const broken = [eventMessage('messageStart', { role: 'assistant' }), exceptionMessage('modelStreamErrorException', 'The model failed.')];
    await assert.rejects(decodeChunks(broken), {
      name: 'Error',
      code: 'upstream_error',
      message: 'the upstream stream reported an error: modelStreamErrorException: The model failed.',
    });
    const cut = [eventMessage('messageStart', { role: 'assistant' }), eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } })];
    await assert.rejects(decodeChunks(cut), { code: 'upstream_error', message: 'The upstream stream ended before messageStop' });
  });

  test('stop reasons: max_tokens and content filters end incomplete; reasoning deltas become a reasoning item', async () => {
    const run = (stopReason: string) =>
      decodeChunks([
        eventMessage('messageStart', { role: 'assistant' }),
        eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Hmm.' } } }),
        eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig' } } }),
        eventMessage('contentBlockStop', { contentBlockIndex: 0 }),
        eventMessage('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Hi' } }),
        eventMessage('messageStop', { stopReason }),
        eventMessage('metadata', { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } }),
      ]);
    const ends = await Promise.all(['max_tokens', 'guardrail_intervened', 'content_filtered', 'stop_sequence'].map(run));
    assert.deepEqual(
      ends.map((events) => {
        const end = events.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
        return [end.status, end.incomplete_reason];
      }),
      [
        ['incomplete', 'max_output_tokens'],
        ['incomplete', 'content_filter'],
        ['incomplete', 'content_filter'],
        ['completed', undefined],
      ],
    );
    const items = ends[0]!.filter((e) => e.type === 'response.output_item.done').map((e) => (e as { item: unknown }).item);
    assert.deepEqual(stableIds(items as ModelEvent[]), [
      { id: 'rs_1', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Hmm.' }], status: 'completed' },
      { id: 'msg_2', type: 'message', status: 'incomplete', role: 'assistant', content: [textPart('Hi')] },
    ]);
  });

  test('a whole Converse answer: text, a tool use, cached usage', () => {
    const out = converseResponseToOutput({
      output: {
        message: {
          role: 'assistant',
          content: [{ text: 'Checking' }, { text: '.' }, { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 45, cacheReadInputTokens: 20, cacheWriteInputTokens: 10 },
    });
    assert.deepEqual(stableIds(out.items as unknown as ModelEvent[]), [
      { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [textPart('Checking.')] },
      { id: 'fc_2', type: 'function_call', status: 'completed', call_id: 'tooluse_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ]);
    assert.deepEqual(out.end, {
      type: 'model.end',
      status: 'completed',
      usage: {
        input_tokens: 40,
        input_tokens_details: { cached_tokens: 20 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 45,
      },
    });
  });
});

// ---- the provider against the mock ---------------------------------------------------------------

let mock: MockProvider;
before(async () => {
  // The mock refuses a Bedrock call whose SigV4 signature is missing or malformed (bedrockAuth).
  mock = await startMockProvider();
});
after(() => mock.close());

const opts = () => ({ signal: AbortSignal.timeout(10_000), log: pino({ level: 'silent' }) });

let n = 0;
const modelName = (base = 'anthropic.claude-sonnet-4-20250514-v1:0') => `${base.replace('v1:0', `v${++n}:0`)}`;

function bedrock(params: Partial<LitellmParams>, env: NodeJS.ProcessEnv = {}) {
  const model = params.model ?? 'bedrock/x';
  return createBedrock({
    params: { api_base: mock.url, aws_region_name: 'eu-west-3', ...params, model } as LitellmParams,
    name: model.slice('bedrock/'.length),
    env,
    timeoutMs: 10_000,
    streamIdleMs: 10_000,
    headers: undefined,
  });
}

const STATIC = { aws_access_key_id: 'AKIDSTATIC', aws_secret_access_key: 'static-secret' };
const ask = (model: string, text = 'Hello'): ModelRequest => ({
  model,
  instructions: null,
  input: [{ type: 'message', role: 'user', content: text }],
  tools: [],
});

/** Signs the recorded request again with the same key and time: the signature must match what the mock received. */
async function verifySignature(r: MockRequest, secret: string, region: string): Promise<void> {
  const auth = String(r.headers.authorization);
  const [, keyId, signedHeaders, signature] = /Credential=([^/]+)\/[^ ]+ SignedHeaders=([^,]+), Signature=(\w+)/.exec(auth) ?? [];
  const headers: Record<string, string> = {};
  for (const h of signedHeaders!.split(';')) headers[h] = String(r.headers[h]);
  const d = String(r.headers['x-amz-date']);
  const signingDate = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
  const url = new URL(mock.url);
  const signer = new SignatureV4({
    service: 'bedrock',
    region,
    credentials: { accessKeyId: keyId!, secretAccessKey: secret, sessionToken: r.headers['x-amz-security-token'] as string | undefined },
    sha256: Sha256,
    applyChecksum: false,
  });
  const again = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: r.path, query: {}, headers, body: JSON.stringify(r.body) },
    { signingDate },
  );
  assert.equal(/Signature=(\w+)/.exec(again.headers.authorization!)?.[1], signature, 'the signature covers the exact body, path and headers sent');
}

describe('the Bedrock provider against the mock', () => {
  test('streamed: SigV4-signed with the static keys, the event stream decoded, the path names the model', async () => {
    const model = modelName();
    mock.enqueue(model, { text: 'Hello from Bedrock.', usage: { input: 9, output: 4, cached: 3 } });
    const { provider, upstreamModel } = bedrock({ model: `bedrock/${model}`, ...STATIC });
    assert.equal([provider.api, provider.owner, upstreamModel].join(' '), `bedrock-converse amazon ${model}`);
    const events = await collect(await provider.stream(ask(model), opts()));
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    assert.equal(text, 'Hello from Bedrock.');
    const end = events.at(-1) as Extract<ModelEvent, { type: 'model.end' }>;
    assert.deepEqual([end.status, end.usage.input_tokens, end.usage.input_tokens_details.cached_tokens, end.usage.output_tokens], ['completed', 9, 3, 4]);
    const [seen] = mock.requestsFor(model);
    assert.equal(seen?.path, `/model/${encodeURIComponent(model)}/converse-stream`);
    assert.equal(seen?.stream, true);
    assert.deepEqual(seen?.body, { messages: [{ role: 'user', content: [{ text: 'Hello' }, { cachePoint: { type: 'default' } }] }] });
    assert.match(
      String(seen?.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDSTATIC\/\d{8}\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date, /,
    );
    assert.equal(bedrockAuthProblem(seen!.headers), null);
    await verifySignature(seen!, 'static-secret', 'eu-west-3');
  });

  test('not streamed: a tool call comes back; a session token is sent and signed', async () => {
    const model = modelName();
    mock.enqueue(model, { text: 'Checking.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'tooluse_9' }] });
    const { provider } = bedrock({ model: `bedrock/converse/${model}`, ...STATIC, aws_session_token: 'session-token' });
    const out = await provider.complete(
      { ...ask(model), tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: null }] },
      opts(),
    );
    assert.deepEqual(
      out.items.map((i) => (i.type === 'function_call' ? [i.type, i.call_id, i.name, i.arguments] : [i.type])),
      [['message'], ['function_call', 'tooluse_9', 'get_weather', '{"city":"Paris"}']],
    );
    assert.equal(out.end.status, 'completed');
    const [seen] = mock.requestsFor(model);
    assert.equal(seen?.path, `/model/${encodeURIComponent(model)}/converse`);
    assert.deepEqual(seen?.functions, ['get_weather']);
    assert.equal(seen?.headers['x-amz-security-token'], 'session-token');
    assert.match(String(seen?.headers.authorization), /SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, /);
    await verifySignature(seen!, 'static-secret', 'eu-west-3');
  });

  test('tool results reach the model, images as their format', async () => {
    const model = modelName();
    const { provider } = bedrock({ model: `bedrock/${model}`, ...STATIC });
    await provider.complete(
      {
        ...ask(model),
        input: [
          { type: 'message', role: 'user', content: 'Map?' },
          { type: 'function_call', call_id: 'tu_1', name: 'map', arguments: '{}' },
          {
            type: 'function_call_output',
            call_id: 'tu_1',
            output: [
              { type: 'input_text', text: 'here' },
              { type: 'input_image', image_url: `data:image/png;base64,${PNG}` },
            ],
          },
        ],
      },
      opts(),
    );
    assert.deepEqual(mock.requestsFor(model)[0]?.toolOutputs, ['here\n[image image/png]']);
  });

  test('an inference-profile ARN is the model id, URL-encoded into one path segment', async () => {
    const arn = `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p${++n}`;
    mock.enqueue(arn, { text: 'ok' });
    const { provider } = bedrock({ model: `bedrock/${arn}`, ...STATIC });
    await provider.complete(ask(arn), opts());
    const [seen] = mock.requestsFor(arn);
    assert.equal(seen?.path, `/model/${encodeURIComponent(arn)}/converse`);
    await verifySignature(seen!, 'static-secret', 'eu-west-3');
  });

  test('a 429 is a retryable ProviderError with status 429 and the AWS error name; a 400 keeps its message', async () => {
    const model = modelName();
    mock.enqueue(
      model,
      { error: { status: 429, message: 'Too many requests, please wait before trying again.' } },
      { error: { status: 400, message: 'Malformed input request' } },
    );
    const { provider } = bedrock({ model: `bedrock/${model}`, ...STATIC });
    await assert.rejects(provider.stream(ask(model), opts()), (e: unknown) => {
      assert.ok(e instanceof ProviderError);
      assert.deepEqual([e.status, e.code, e.message, e.retryable], [429, 'ThrottlingException', 'Too many requests, please wait before trying again.', true]);
      return true;
    });
    await assert.rejects(provider.complete(ask(model), opts()), { status: 400, code: 'ValidationException', message: 'Malformed input request' });
  });

  test('a Bedrock API key (api_key, or AWS_BEARER_TOKEN_BEDROCK) goes out as a Bearer token, unsigned, to the configured endpoint', async () => {
    const model = modelName();
    await bedrock({ model: `bedrock/${model}`, api_key: 'bedrock-api-key' }).provider.complete(ask(model), opts());
    // aws_bedrock_runtime_endpoint wins over api_base
    const viaEndpoint = bedrock(
      { model: `bedrock/${model}`, aws_bedrock_runtime_endpoint: mock.url, api_base: 'http://127.0.0.1:9' },
      { AWS_BEARER_TOKEN_BEDROCK: 'env-api-key' },
    );
    await viaEndpoint.provider.complete(ask(model), opts());
    const [fromParam, fromEnv] = mock.requestsFor(model);
    assert.deepEqual([fromParam?.headers.authorization, fromParam?.headers['x-amz-date']], ['Bearer bedrock-api-key', undefined]);
    assert.equal(fromEnv?.headers.authorization, 'Bearer env-api-key');
  });

  test('the default credential chain: keys from the environment, loaded on first use', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    try {
      const model = modelName();
      await bedrock({ model: `bedrock/${model}` }).provider.complete(ask(model), opts());
      const [seen] = mock.requestsFor(model);
      assert.match(String(seen?.headers.authorization), /Credential=AKIDFROMENV\//);
      await verifySignature(seen!, 'env-secret', 'eu-west-3');
    } finally {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });

  test('the mock refuses a request whose signing broke: 403 AccessDeniedException', async () => {
    const model = modelName();
    const unsigned = new BedrockProvider({
      baseURL: mock.url,
      headers: {},
      signer: (req) => ({ ...req.headers, authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-3/s3/aws4_request' }),
      timeoutMs: 10_000,
      streamIdleMs: 10_000,
      defaultMaxTokens: undefined,
    });
    await assert.rejects(unsigned.complete(ask(model), opts()), { status: 403, code: 'AccessDeniedException' });
    assert.match(String(bedrockAuthProblem({})), /Missing Authentication Token/);
  });

  test('startup: the region is required (named), from the config or the environment; keys go in pairs', () => {
    const ctx = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => ({
      params: { model: 'bedrock/amazon.nova-pro-v1:0', ...params } as LitellmParams,
      name: 'amazon.nova-pro-v1:0',
      env,
      timeoutMs: 1000,
      streamIdleMs: 1000,
      headers: undefined,
    });
    assert.throws(() => createBedrock(ctx({})), /aws_region_name \(or AWS_REGION \/ AWS_DEFAULT_REGION\)/);
    assert.throws(
      () => createBedrock(ctx({ aws_region_name: 'us-east-1', aws_access_key_id: 'AKID' })),
      /aws_access_key_id and aws_secret_access_key go together/,
    );
    assert.equal(createBedrock(ctx({}, { AWS_DEFAULT_REGION: 'us-west-2' })).provider.api, 'bedrock-converse');
  });
});

describe('the mock wire', () => {
  test('its stream is event-stream messages in the order the API sends them', async () => {
    const { contentType, frames } = BEDROCK_WIRE.stream({ text: 'Hi there', toolCalls: [{ name: 'f', arguments: { a: 1 }, id: 't1' }] }, 'm', {});
    assert.equal(contentType, 'application/vnd.amazon.eventstream');
    const types: string[] = [];
    const framer = (await eventStreamFraming())((m) => types.push(m.event!));
    for (const f of frames) framer.feed(f as Uint8Array);
    assert.deepEqual(types, [
      'messageStart',
      'contentBlockDelta',
      'contentBlockStop',
      'contentBlockStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
  });
});
