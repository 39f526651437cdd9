/**
 * Every provider a LiteLLM config names, end to end: the real openai SDK through /v1/responses and
 * /v1/chat/completions (stream and not), a function tool round trip, an MCP tool loop run by the gateway,
 * summed usage, and a provider's error answered in OpenAI's shape with the provider's status. Each kind
 * reaches the mock through its own provider's paths, credentials and wire format.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type { IncomingHttpHeaders } from 'node:http';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { vertexTokens } from '../fixtures/mock-wires/vertex-auth.ts';
import type { MockApi, MockProvider } from '../fixtures/mock-provider.ts';
import { openaiClients, startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';
import { vertexCredentials } from './support/vertex.ts';
import { callThenAnswer } from './support/scripts.ts';

interface Kind {
  /** The model-name prefix routed to this provider. */
  prefix: string;
  /** The wire format the mock receives, and whose paths it came through. */
  api: MockApi;
  via: string;
  /** The config entry's litellm_params (the mock's URL filled in). */
  params(mock: MockProvider): Record<string, unknown>;
  /** The credentials the provider must have sent, as the mock saw them. */
  credentials(headers: IncomingHttpHeaders, mock: MockProvider): boolean;
}

const minted = (h: IncomingHttpHeaders, mock: MockProvider) => vertexTokens(mock).minted.some((token) => h.authorization === `Bearer ${token}`);
const sigV4 = (h: IncomingHttpHeaders) => /^AWS4-HMAC-SHA256 Credential=AKIDMOCK\/\d{8}\/us-east-1\/bedrock\/aws4_request, /.test(h.authorization ?? '');

export const NEW_PROVIDER_KINDS: Kind[] = [
  {
    prefix: 'az',
    api: 'chat',
    via: 'azure',
    params: (m) => ({ model: 'azure/*', api_base: m.url, api_key: 'az-key', api_version: '2024-10-21' }),
    credentials: (h) => h['api-key'] === 'az-key',
  },
  {
    prefix: 'azr',
    api: 'responses',
    via: 'azure',
    params: (m) => ({ model: 'azure/*', api_base: m.url, api_key: 'az-key', api_version: 'preview', api_mode: 'responses' }),
    credentials: (h) => h['api-key'] === 'az-key',
  },
  {
    prefix: 'azai',
    api: 'chat',
    via: 'azure_ai',
    params: (m) => ({ model: 'azure_ai/*', api_base: `${m.url}/models`, api_key: 'azai-key' }),
    credentials: (h) => h.authorization === 'Bearer azai-key',
  },
  {
    prefix: 'gem',
    api: 'gemini',
    via: 'gemini',
    params: (m) => ({ model: 'gemini/*', api_base: m.url, api_key: 'gem-key' }),
    credentials: (h) => h['x-goog-api-key'] === 'gem-key',
  },
  {
    prefix: 'vx',
    api: 'gemini',
    via: 'vertex',
    params: (m) => ({
      model: 'vertex_ai/*',
      api_base: m.url,
      vertex_project: 'proj',
      vertex_location: 'us-central1',
      vertex_credentials: vertexCredentials(m),
    }),
    credentials: minted,
  },
  {
    prefix: 'vxc',
    api: 'anthropic',
    via: 'vertex',
    params: (m) => ({
      model: 'vertex_ai/claude-*',
      api_base: m.url,
      vertex_project: 'proj',
      vertex_location: 'us-east5',
      vertex_credentials: vertexCredentials(m),
    }),
    credentials: minted,
  },
  {
    prefix: 'bed',
    api: 'bedrock',
    via: 'bedrock',
    params: (m) => ({ model: 'bedrock/*', api_base: m.url, aws_region_name: 'us-east-1', aws_access_key_id: 'AKIDMOCK', aws_secret_access_key: 'mock-secret' }),
    credentials: sigV4,
  },
  {
    prefix: 'coh',
    api: 'chat',
    via: 'openai',
    params: (m) => ({ model: 'cohere/*', api_base: m.openaiBase, api_key: 'co-key' }),
    credentials: (h) => h.authorization === 'Bearer co-key',
  },
  {
    prefix: 'mis',
    api: 'chat',
    via: 'openai',
    params: (m) => ({ model: 'mistral/*', api_base: m.openaiBase, api_key: 'mi-key' }),
    credentials: (h) => h.authorization === 'Bearer mi-key',
  },
];

let t: TestGateway;
let client: OpenAI;
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;

before(async () => {
  fixture = await startFixtureHttpServer();
  // The gateway's mock is started by startTestGateway; the entries need its URL, so they are built lazily.
  t = await startTestGateway({
    model_list: (mock: MockProvider) =>
      NEW_PROVIDER_KINDS.map((k) => ({
        model_name: `${k.prefix}/${k.api === 'anthropic' ? 'claude-*' : '*'}`,
        litellm_params: { max_retries: 0, ...k.params(mock) },
      })),
    mcp_servers: { fixture: { url: fixture.url, transport: 'http' } },
  });
  ({ client } = openaiClients(t.gw.url));
});
after(async () => {
  await t.close();
  await fixture.close();
});

let n = 0;
const uniq = (kind: Kind, label: string) => `${kind.api === 'anthropic' ? 'claude-' : ''}${kind.prefix}-${label}-${++n}`;

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

const mcpTool = { type: 'mcp' as const, server_label: 'gw', server_url: 'litellm_proxy', require_approval: 'never' as const };

for (const kind of NEW_PROVIDER_KINDS) {
  describe(`${kind.prefix}/ (${kind.via}, ${kind.api} wire)`, { concurrency: true }, () => {
    test('/v1/responses, not streamed: text and usage, through its own paths', async () => {
      const m = uniq(kind, 'plain');
      t.mock.enqueue(m, { text: 'Hello from the cloud.', usage: { input: 9, output: 4 } });
      const r = await client.responses.create({ model: `${kind.prefix}/${m}`, input: 'Hi', instructions: 'Be brief.' });
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, 'Hello from the cloud.');
      assert.deepEqual([r.usage?.input_tokens, r.usage?.output_tokens, r.usage?.total_tokens], [9, 4, 13]);
      const [seen] = t.mock.requestsFor(m);
      assert.equal(seen?.api, kind.api);
      assert.equal(seen?.via, kind.via);
      assert.equal(seen?.stream, false);
      assert.ok(kind.credentials(seen.headers, t.mock), `credentials as the provider wants them: ${JSON.stringify(seen.headers)}`);
    });

    test('/v1/responses, streamed: the frames pass the validator, usage on the terminal event', async () => {
      const m = uniq(kind, 'stream');
      t.mock.enqueue(m, { text: 'One two three four five.', usage: { input: 11, output: 5 } });
      const { violations, events } = await streamResponse(t.gw.url, { model: `${kind.prefix}/${m}`, input: 'Count' });
      assert.deepEqual(violations, []);
      const done = events.at(-1);
      assert.equal(done.type, 'response.completed');
      assert.equal(done.response.output[0].content[0].text, 'One two three four five.');
      assert.equal(events.filter((e) => e.type === 'response.output_text.delta').length > 1, true, 'text arrives in several deltas');
      assert.deepEqual([done.response.usage.input_tokens, done.response.usage.output_tokens], [11, 5]);
      assert.equal(t.mock.requestsFor(m)[0]?.stream, true);
    });

    test('/v1/chat/completions, streamed and not, with usage', async () => {
      const m = uniq(kind, 'chat');
      t.mock.enqueue(m, { text: 'Bonjour!', usage: { input: 8, output: 2 } }, { text: 'Salut tout le monde!', usage: { input: 8, output: 4 } });
      const model = `${kind.prefix}/${m}`;
      const plain = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
      assert.equal(plain.choices[0]?.message.content, 'Bonjour!');
      assert.deepEqual([plain.usage?.prompt_tokens, plain.usage?.completion_tokens, plain.usage?.total_tokens], [8, 2, 10]);
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish ??= chunk.choices[0]?.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, 'Salut tout le monde!');
      assert.equal(finish, 'stop');
      assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [8, 4]);
    });

    test('a function tool round trip: the call comes back, its output reaches the model', async () => {
      const m = uniq(kind, 'fn');
      t.mock.enqueue(m, { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'call_w1' }] }, (req) => ({
        text: req.toolOutputs.includes('18C and sunny') ? 'It is 18C and sunny in Paris.' : `missing output: ${JSON.stringify(req.toolOutputs)}`,
      }));
      const model = `${kind.prefix}/${m}`;
      const first = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool] });
      const call = first.output.find((o) => o.type === 'function_call');
      assert.ok(call?.type === 'function_call', JSON.stringify(first.output));
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
      assert.deepEqual(t.mock.requestsFor(m)[0]?.functions, ['get_weather']);
      // The client replays what the model said (a reasoning item carries Gemini's thought signature) and adds the output.
      const replayed = first.output.filter((o) => o.type !== 'message') as OpenAI.Responses.ResponseInputItem[];
      const second = await client.responses.create({
        model,
        tools: [weatherTool],
        input: [{ role: 'user', content: 'Weather in Paris?' }, ...replayed, { type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' }],
      });
      assert.equal(second.output_text, 'It is 18C and sunny in Paris.');
    });

    test('an MCP tool loop run by the gateway (require_approval: never), streamed and not, usage summed', async () => {
      const m = uniq(kind, 'mcp');
      t.mock.always(
        m,
        callThenAnswer([{ name: 'fixture-add', arguments: { a: 2, b: 3 } }], (outs) => `The sum is ${outs[0]!.split('\n')[0]}.`),
      );
      const body = { model: `${kind.prefix}/${m}`, input: 'What is 2+3? Use the tool.', tools: [mcpTool] };
      const plain = await client.responses.create(body);
      assert.equal(plain.status, 'completed');
      assert.equal(plain.output_text, 'The sum is 5.');
      const call = plain.output.find((o) => o.type === 'mcp_call');
      assert.equal(call?.type === 'mcp_call' && call.output, '5\n{"sum":5}');
      assert.deepEqual([plain.usage?.input_tokens, plain.usage?.output_tokens], [24, 14]);
      const { violations, events } = await streamResponse(t.gw.url, body);
      assert.deepEqual(violations, []);
      const final = events.at(-1).response;
      assert.equal(final.output.at(-1).content[0].text, 'The sum is 5.');
      assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens], [24, 14]);
    });

    test("a provider's error comes back in OpenAI's shape with the provider's status", async () => {
      const m = uniq(kind, 'err');
      t.mock.enqueue(m, { error: { status: 400, message: 'this request is malformed', type: 'invalid_request_error' } });
      t.mock.enqueue(m, { error: { status: 429, message: 'slow down' } });
      const model = `${kind.prefix}/${m}`;
      const bad = await fetch(`${t.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: 'x' }),
      });
      assert.equal(bad.status, 400);
      const badBody = (await bad.json()) as { error: { message: string; type: string } };
      assert.match(badBody.error.message, /this request is malformed/);
      assert.equal(badBody.error.type, 'invalid_request_error');
      const limited = await fetch(`${t.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(limited.status, 429);
      const limitedBody = (await limited.json()) as { error: { message: string; type: string } };
      assert.match(limitedBody.error.message, /slow down/);
    });
  });
}
