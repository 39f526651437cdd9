/**
 * Azure OpenAI (`azure/`) and Azure AI Foundry (`azure_ai/`) providers against the real mock provider,
 * seen through a recording proxy (the mock keeps paths, not queries): each API version's paths and
 * api-version query, `api-key` versus bearer credentials, streamed and whole answers in canonical form,
 * embeddings and images, the environment's fallbacks. Then the Chat request builder's quirks for Mistral
 * and Cohere, through the mock and as units.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startMockProvider, type MockProvider } from '../fixtures/mock-provider.ts';
import type { LitellmParams } from '../src/config/schema.ts';
import type { ModelEvent } from '../src/protocol/events.ts';
import type { ModelRequest } from '../src/protocol/model-request.ts';
import { ProviderError } from '../src/protocol/errors.ts';
import { azureAiEndpoint, azureChatFeatures, createAzure, createAzureAi } from '../src/providers/azure/provider.ts';
import { createProvider } from '../src/providers/deployments.ts';
import { ChatStreamDecoder, chatCompletionToOutput } from '../src/providers/openai-chat/decode.ts';
import { mistralCallId, modelRequestToChat } from '../src/providers/openai-chat/request.ts';
import type { Config } from '../src/config/schema.ts';
import type { CreatedProvider, Provider } from '../src/providers/types.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * Forwards everything to the mock and records each request's full URL. Azure's embeddings and images
 * paths, and the v1 API's chat path, go to the mock's OpenAI paths (it has no Azure routes for them).
 */
async function startRecorder(mock: MockProvider): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const path = new URL(req.url!, 'http://x').pathname;
    const target = /\/embeddings$/.test(path)
      ? '/v1/embeddings'
      : /\/images\/generations$/.test(path)
        ? '/v1/images/generations'
        : path === '/openai/v1/chat/completions'
          ? '/v1/chat/completions'
          : req.url!;
    const up = httpRequest(`${mock.url}${target}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let mock: MockProvider;
let rec: Awaited<ReturnType<typeof startRecorder>>;
before(async () => {
  mock = await startMockProvider();
  rec = await startRecorder(mock);
});
after(async () => {
  await rec.close();
  await mock.close();
});

const opts = () => ({ signal: AbortSignal.timeout(10_000), log: pino({ level: 'silent' }) });

function ctx(params: Partial<LitellmParams> & { model: string }, env: NodeJS.ProcessEnv = {}) {
  return {
    params: params as LitellmParams,
    name: params.model.slice(params.model.indexOf('/') + 1),
    env,
    timeoutMs: 10_000,
    streamIdleMs: 10_000,
    headers: undefined,
  };
}

let n = 0;
const uniq = (label: string) => `${label}-${++n}`;

function request(model: string, over: Partial<ModelRequest> = {}): ModelRequest {
  return { model, instructions: null, input: [{ type: 'message', role: 'user', content: 'Hi' }], tools: [], ...over };
}

async function collect(provider: Provider, req: ModelRequest): Promise<ModelEvent[]> {
  const out: ModelEvent[] = [];
  for await (const batch of await provider.stream(req, opts())) out.push(...batch);
  return out;
}

/** The streamed text, the finished items without their ids, and how the call ended. */
function summary(events: ModelEvent[]) {
  const done = events
    .filter((e) => e.type === 'response.output_item.done')
    .map((e): Record<string, unknown> => ({ ...(e as { item: object }).item, id: undefined }));
  const text = events.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
  return { text, done, end: events.at(-1) };
}

/** The request the recorder saw last, and the mock's record of it. */
function last(model: string) {
  const wire = mock.requestsFor(model).at(-1)!;
  const hop = rec.seen.at(-1)!;
  return { url: hop.url, headers: hop.headers, body: wire.body, via: wire.via, api: wire.api };
}

const usage = (input: number, output: number, cached = 0) => ({
  input_tokens: input,
  input_tokens_details: { cached_tokens: cached },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: input + output,
});

describe('azure/ (Azure OpenAI)', () => {
  test('Chat, GA version: the deployment in the path, api-version in the query, the key in api-key, max_tokens', async () => {
    const dep = uniq('gpt4o');
    mock.enqueue(dep, { text: 'Hello from Azure.', usage: { input: 9, output: 4 } });
    const { provider, upstreamModel } = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'az-key', api_version: '2024-10-21' }));
    assert.equal(upstreamModel, dep);
    assert.deepEqual([provider.api, provider.owner], ['openai-chat', 'azure']);
    const out = await provider.complete(request(dep, { max_output_tokens: 50 }), opts());
    const seen = last(dep);
    assert.equal(seen.url, `/openai/deployments/${dep}/chat/completions?api-version=2024-10-21`);
    assert.equal(seen.headers['api-key'], 'az-key');
    assert.equal(seen.headers.authorization, undefined);
    assert.deepEqual(seen.body, { model: dep, messages: [{ role: 'user', content: 'Hi' }], stream: false, max_tokens: 50 });
    assert.deepEqual(
      out.items.map((i) => ({ ...i, id: undefined })),
      [
        {
          id: undefined,
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello from Azure.', annotations: [], logprobs: [] }],
        },
      ],
    );
    assert.deepEqual(out.end, { type: 'model.end', status: 'completed', usage: usage(9, 4) });
  });

  test('Chat, streamed, a preview version: max_completion_tokens, usage asked for and reported, a tool call', async () => {
    const dep = uniq('o4mini');
    mock.enqueue(dep, {
      text: 'Let me look.',
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_az1' }],
      usage: { input: 20, output: 8, cached: 5 },
    });
    const { provider } = createAzure(ctx({ model: `azure/${dep}`, api_base: `${rec.url}/`, api_key: 'az-key', api_version: '2025-04-01-preview' }));
    const tools: ModelRequest['tools'] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: null }];
    const events = await collect(provider, request(dep, { max_output_tokens: 64, tools }));
    const seen = last(dep);
    assert.equal(seen.url, `/openai/deployments/${dep}/chat/completions?api-version=2025-04-01-preview`);
    assert.deepEqual(seen.body, {
      model: dep,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      max_completion_tokens: 64,
    });
    const s = summary(events);
    assert.equal(s.text, 'Let me look.');
    assert.deepEqual(s.done, [
      {
        id: undefined,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Let me look.', annotations: [], logprobs: [] }],
      },
      { id: undefined, type: 'function_call', status: 'completed', call_id: 'call_az1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ]);
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(20, 8, 5) });
  });

  test('an Entra ID token goes as a bearer token, never as api-key', async () => {
    const dep = uniq('ad');
    mock.enqueue(dep, { text: 'ok' });
    const { provider } = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, azure_ad_token: 'eyJ.token' }, { AZURE_API_KEY: 'env-key' }));
    await provider.complete(request(dep), opts());
    const seen = last(dep);
    assert.equal(seen.headers.authorization, 'Bearer eyJ.token');
    assert.equal(seen.headers['api-key'], undefined);
  });

  test('the environment: AZURE_API_BASE, AZURE_API_KEY, AZURE_API_VERSION; AZURE_AD_TOKEN when there is no key', async () => {
    const dep = uniq('env');
    mock.enqueue(dep, { text: 'one' }, { text: 'two' });
    const keyed = createAzure(ctx({ model: `azure/${dep}` }, { AZURE_API_BASE: rec.url, AZURE_API_KEY: 'env-key', AZURE_API_VERSION: '2024-06-01' }));
    await keyed.provider.complete(request(dep), opts());
    assert.equal(last(dep).url, `/openai/deployments/${dep}/chat/completions?api-version=2024-06-01`);
    assert.equal(last(dep).headers['api-key'], 'env-key');
    const tokened = createAzure(ctx({ model: `azure/${dep}` }, { AZURE_API_BASE: rec.url, AZURE_AD_TOKEN: 'env-token' }));
    await tokened.provider.complete(request(dep), opts());
    // without any version the GA one
    assert.equal(last(dep).url, `/openai/deployments/${dep}/chat/completions?api-version=2024-10-21`);
    assert.equal(last(dep).headers.authorization, 'Bearer env-token');
    assert.equal(last(dep).headers['api-key'], undefined);
  });

  test('Responses on a dated version: /openai/responses with the deployment as model; streamed and whole', async () => {
    const dep = uniq('resp');
    mock.enqueue(dep, { text: 'Streamed answer.', usage: { input: 7, output: 3 } }, { text: 'Whole answer.' });
    const { provider } = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'k', api_version: '2025-04-01-preview', api_mode: 'responses' }));
    assert.deepEqual([provider.api, provider.owner], ['openai-responses', 'azure']);
    const s = summary(await collect(provider, request(dep, { instructions: 'Be brief.' })));
    let seen = last(dep);
    assert.equal(seen.url, '/openai/responses?api-version=2025-04-01-preview');
    assert.deepEqual([seen.via, seen.api, seen.body.model, seen.body.instructions, seen.body.stream], ['azure', 'responses', dep, 'Be brief.', true]);
    assert.equal(s.text, 'Streamed answer.');
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(7, 3) });
    const whole = await provider.complete(request(dep), opts());
    seen = last(dep);
    assert.equal(seen.body.stream, false);
    assert.equal((whole.items[0] as { content: { text: string }[] }).content[0]!.text, 'Whole answer.');
  });

  test('the v1 API: OpenAI paths under /openai/v1, no api-version (preview opts in with one); the default for Responses', async () => {
    const dep = uniq('v1');
    mock.enqueue(dep, { text: 'a' }, { text: 'b' }, { text: 'c' });
    // an api_base given the way the openai SDK wants it for v1
    const chat = createAzure(ctx({ model: `azure/${dep}`, api_base: `${rec.url}/openai/v1/`, api_key: 'k', api_version: 'v1' }));
    await chat.provider.complete(request(dep, { max_output_tokens: 10 }), opts());
    assert.equal(last(dep).url, '/openai/v1/chat/completions');
    assert.equal(last(dep).body.max_completion_tokens, 10);
    assert.equal(last(dep).body.model, dep);
    const preview = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'k', api_version: 'preview', api_mode: 'responses' }));
    await preview.provider.complete(request(dep), opts());
    assert.equal(last(dep).url, '/openai/v1/responses?api-version=preview');
    const dflt = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'k', api_mode: 'responses' }));
    await dflt.provider.complete(request(dep), opts());
    assert.equal(last(dep).url, '/openai/v1/responses');
  });

  test('embeddings and images at the deployment paths (v1: OpenAI paths); no model list', async () => {
    const { provider } = createAzure(ctx({ model: 'azure/emb-dep', api_base: rec.url, api_key: 'k', api_version: '2024-10-21' }));
    const e = await provider.embed!({ model: 'emb-dep', input: ['hello', 'world'] }, opts());
    assert.equal(rec.seen.at(-1)!.url, '/openai/deployments/emb-dep/embeddings?api-version=2024-10-21');
    assert.equal(rec.seen.at(-1)!.headers['api-key'], 'k');
    assert.deepEqual([e.data.length, e.data[0]!.embedding.length, e.model], [2, 8, 'emb-dep']);
    const img = await provider.generateImage!({ model: 'dalle-dep', prompt: 'a cat' }, opts());
    assert.equal(rec.seen.at(-1)!.url, '/openai/deployments/dalle-dep/images/generations?api-version=2024-10-21');
    assert.equal(img.data?.length, 1);
    const v1 = createAzure(ctx({ model: 'azure/emb-dep', api_base: rec.url, api_key: 'k', api_version: 'latest' }));
    await v1.provider.embed!({ model: 'emb-dep', input: 'x' }, opts());
    assert.equal(rec.seen.at(-1)!.url, '/openai/v1/embeddings');
    const before = rec.seen.length;
    assert.deepEqual(await provider.listModels(AbortSignal.timeout(1000)), []);
    assert.equal(rec.seen.length, before, 'nothing asked: Azure lists base models, not deployments');
  });

  test("Azure's error answers come back as ProviderErrors with its status and message", async () => {
    const dep = uniq('err');
    mock.enqueue(dep, { error: { status: 429, message: 'Requests to the deployment have exceeded the rate limit', headers: { 'retry-after': '2' } } });
    const { provider } = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'k' }));
    await assert.rejects(provider.complete(request(dep), opts()), (e: ProviderError) => {
      assert.ok(e instanceof ProviderError);
      assert.deepEqual([e.status, e.message, e.retryAfterMs], [429, 'Requests to the deployment have exceeded the rate limit', 2000]);
      return true;
    });
  });

  test('refused at startup: no api_base, an oidc/ token', () => {
    assert.throws(() => createAzure(ctx({ model: 'azure/x', api_key: 'k' })), /api_base \(or AZURE_API_BASE\) is required/);
    assert.throws(
      () => createAzure(ctx({ model: 'azure/x', api_base: 'https://r.openai.azure.com', azure_ad_token: 'oidc/github/x' })),
      /oidc\/.*not supported/,
    );
  });

  test('max_tokens or max_completion_tokens, and stream_options, by API version', () => {
    const cases: Record<string, [string, boolean]> = {
      '2023-05-15': ['max_tokens', false],
      '2024-06-01': ['max_tokens', false],
      '2024-08-01-preview': ['max_tokens', false],
      '2024-09-01-preview': ['max_completion_tokens', true],
      '2024-10-21': ['max_tokens', true],
      '2024-12-01-preview': ['max_completion_tokens', true],
      '2025-04-01-preview': ['max_completion_tokens', true],
      v1: ['max_completion_tokens', true],
      latest: ['max_completion_tokens', true],
      preview: ['max_completion_tokens', true],
    };
    for (const [version, [maxTokensField, streamOptions]] of Object.entries(cases))
      assert.deepEqual(azureChatFeatures(version), { maxTokensField, streamOptions }, version);
  });

  test('an old API version streams without stream_options (it would be refused); usage only if the stream carries it unasked', async () => {
    const dep = uniq('old');
    mock.enqueue(dep, { text: 'Old but fine.', usage: { input: 3, output: 3 } });
    const { provider } = createAzure(ctx({ model: `azure/${dep}`, api_base: rec.url, api_key: 'k', api_version: '2024-02-01' }));
    const s = summary(await collect(provider, request(dep)));
    assert.equal(last(dep).url, `/openai/deployments/${dep}/chat/completions?api-version=2024-02-01`);
    assert.deepEqual(last(dep).body, { model: dep, messages: [{ role: 'user', content: 'Hi' }], stream: true });
    assert.equal(s.text, 'Old but fine.');
    // the mock, like Mistral, puts usage on the finish chunk when stream_options is absent
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(3, 3) });
  });
});

describe('azure_ai/ (Azure AI Foundry)', () => {
  test('{api_base}/chat/completions, the model in the body, extra parameters passed through; a bearer key off Azure hosts', async () => {
    const model = uniq('mistral-large');
    mock.enqueue(model, { text: 'Bonjour.', usage: { input: 5, output: 2 } }, { text: 'Salut.' });
    const { provider, upstreamModel } = createAzureAi(ctx({ model: `azure_ai/${model}`, api_base: `${rec.url}/models`, api_key: 'ai-key' }));
    assert.deepEqual([provider.api, provider.owner, upstreamModel], ['openai-chat', 'azure_ai', model]);
    const s = summary(await collect(provider, request(model)));
    let seen = last(model);
    assert.deepEqual([seen.url, seen.via], ['/models/chat/completions', 'azure_ai']);
    assert.equal(seen.headers.authorization, 'Bearer ai-key');
    assert.equal(seen.headers['extra-parameters'], 'pass-through');
    assert.deepEqual(seen.body, { model, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
    assert.equal(s.text, 'Bonjour.');
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(5, 2) });
    // the environment, and an api_version given
    const fromEnv = createAzureAi(
      ctx({ model: `azure_ai/${model}`, api_version: '2024-05-01-preview' }, { AZURE_AI_API_BASE: `${rec.url}/models/`, AZURE_AI_API_KEY: 'env-ai' }),
    );
    await fromEnv.provider.complete(request(model), opts());
    seen = last(model);
    assert.equal(seen.url, '/models/chat/completions?api-version=2024-05-01-preview');
    assert.equal(seen.headers.authorization, 'Bearer env-ai');
    assert.deepEqual(await fromEnv.provider.listModels(AbortSignal.timeout(1000)), []);
  });

  test("Foundry's resource endpoint: /models added, api-key, a default api-version; serverless endpoints as given", () => {
    assert.deepEqual(azureAiEndpoint('https://res.services.ai.azure.com', undefined), {
      baseURL: 'https://res.services.ai.azure.com/models',
      query: '?api-version=2024-05-01-preview',
      apiKeyHeader: true,
    });
    assert.deepEqual(azureAiEndpoint('https://res.services.ai.azure.com/models/chat/completions', '2025-05-01'), {
      baseURL: 'https://res.services.ai.azure.com/models',
      query: '?api-version=2025-05-01',
      apiKeyHeader: true,
    });
    assert.deepEqual(azureAiEndpoint('https://Mistral-large-nmefg-serverless.eastus2.inference.ai.azure.com/', undefined), {
      baseURL: 'https://Mistral-large-nmefg-serverless.eastus2.inference.ai.azure.com',
      query: '',
      apiKeyHeader: false,
    });
  });
});

// ---- Mistral and Cohere: OpenAI's Chat API with their own rules ------------------------------------

const config = { router_settings: {}, litellm_settings: {} } as Config;
const compatible = (model: string, api_key: string): CreatedProvider =>
  createProvider({ model, api_base: mock.openaiBase, api_key } as LitellmParams, config, {});

/** A conversation that replays another model's tool call, with a client's `seed` and `user`. */
function replayed(model: string): ModelRequest {
  return request(model, {
    instructions: 'Be brief.',
    input: [
      { type: 'message', role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_abc123', output: '18C' },
    ],
    tools: [
      {
        type: 'function',
        name: 'get_weather',
        parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: 'string' } } },
        strict: null,
      },
    ],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    user: 'u-1',
    metadata: { team: 'a' },
    service_tier: 'auto',
    reasoning: { effort: 'low' },
    extras: { seed: 7, logit_bias: { '50256': -100 } },
  });
}

describe('mistral/ and cohere/', () => {
  test("Mistral: its own field names only, its ids for another's tool calls, no $schema; streamed", async () => {
    const m = uniq('mistral-small');
    mock.enqueue(m, { text: 'It is 18C.' });
    const { provider } = compatible(`mistral/${m}`, 'mi-key');
    const s = summary(await collect(provider, replayed(m)));
    const body = mock.requestsFor(m).at(-1)!.body;
    const id = mistralCallId('call_abc123');
    assert.match(id, /^[A-Za-z0-9]{9}$/);
    assert.deepEqual(body, {
      model: m,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: id, content: '18C' },
      ],
      stream: true,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      reasoning_effort: 'low',
      metadata: { team: 'a' },
      random_seed: 7,
    });
    assert.equal(s.text, 'It is 18C.');
    const { dropped } = modelRequestToChat(replayed(m), { maxTokensField: 'max_tokens', owner: 'mistral' });
    assert.deepEqual(dropped, ['user', 'service_tier', 'logit_bias']);
  });

  test('Mistral ids: its own pass unchanged, others map to the same nine characters every time', () => {
    assert.equal(mistralCallId('D681PevKs'), 'D681PevKs');
    assert.equal(mistralCallId('call_abc123'), mistralCallId('call_abc123'));
    assert.notEqual(mistralCallId('call_abc123'), mistralCallId('call_abc124'));
    assert.match(mistralCallId('fc_0123456789abcdef'), /^[A-Za-z0-9]{9}$/);
  });

  test("Mistral's reasoning models: content as text and thinking chunks, streamed and whole", () => {
    const decoder = new ChatStreamDecoder();
    const out: ModelEvent[] = [];
    const chunk = (delta: object, finish: string | null = null, extra: object = {}) => ({
      data: JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: 'magistral', choices: [{ index: 0, delta, finish_reason: finish }], ...extra }),
    });
    decoder.event(chunk({ role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm, ' }] }] }) as never, out);
    decoder.event(chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Paris.' }] }] }) as never, out);
    decoder.event(chunk({ content: 'Paris' }) as never, out);
    decoder.event(
      chunk({ content: [{ type: 'text', text: ' it is.' }] }, 'stop', { usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 } }) as never,
      out,
    );
    decoder.end(out);
    const s = summary(out);
    assert.equal(s.text, 'Paris it is.');
    assert.deepEqual(
      s.done.map((i) => (i as { type: string }).type),
      ['reasoning', 'message'],
    );
    assert.deepEqual(s.done[0]?.content, [{ type: 'reasoning_text', text: 'Hmm, Paris.' }]);
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(4, 6) });
    const whole = chatCompletionToOutput({
      id: 'x',
      object: 'chat.completion',
      created: 0,
      model: 'magistral',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            refusal: null,
            content: [
              { type: 'thinking', thinking: [{ type: 'text', text: 'Look it up.' }] },
              { type: 'text', text: 'Checking.' },
            ] as never,
            // Mistral leaves `type` out
            tool_calls: [{ id: 'D681PevKs', function: { name: 'get_weather', arguments: '{}' } } as never],
          },
        },
      ],
    });
    assert.deepEqual(
      whole.items.map((i) => ({ ...i, id: undefined })),
      [
        { id: undefined, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Look it up.' }], status: 'completed' },
        {
          id: undefined,
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Checking.', annotations: [], logprobs: [] }],
        },
        { id: undefined, type: 'function_call', status: 'completed', call_id: 'D681PevKs', name: 'get_weather', arguments: '{}' },
      ],
    );
  });

  test("Cohere's Compatibility API: only the parameters it supports; tool_choice auto left to its default; usage asked for", async () => {
    const m = uniq('command-a');
    mock.enqueue(m, { text: 'Eighteen degrees.', usage: { input: 30, output: 3 } });
    const { provider } = compatible(`cohere_chat/${m}`, 'co-key');
    assert.equal(provider.owner, 'cohere');
    const req = { ...replayed(m), reasoning: { effort: 'high' as const } };
    const s = summary(await collect(provider, req));
    const body = mock.requestsFor(m).at(-1)!.body;
    assert.deepEqual(Object.keys(body).sort(), ['messages', 'model', 'reasoning_effort', 'seed', 'stream', 'stream_options', 'tools', 'user']);
    assert.deepEqual([body.reasoning_effort, body.seed, body.user], ['high', 7, 'u-1']);
    // another model's call ids are fine here; $schema too
    assert.equal(body.messages[3].tool_call_id, 'call_abc123');
    assert.equal(s.text, 'Eighteen degrees.');
    assert.deepEqual(s.end, { type: 'model.end', status: 'completed', usage: usage(30, 3) });
    assert.deepEqual(modelRequestToChat(replayed(m), { maxTokensField: 'max_tokens', owner: 'cohere' }).dropped, [
      'reasoning.effort',
      'parallel_tool_calls',
      'metadata',
      'service_tier',
      'logit_bias',
    ]);
    assert.equal(
      modelRequestToChat({ ...replayed(m), tool_choice: 'required' }, { maxTokensField: 'max_tokens', owner: 'cohere' }).body.tool_choice,
      'required',
    );
  });

  test('other servers get the body as before', () => {
    const { body, dropped } = modelRequestToChat(replayed('m'), { maxTokensField: 'max_tokens', owner: 'groq' });
    assert.equal(body.messages[2]!.role, 'assistant');
    assert.deepEqual((body as unknown as Record<string, unknown>).seed, 7);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.deepEqual(dropped, []);
  });
});
