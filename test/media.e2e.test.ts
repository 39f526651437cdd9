/** /v1/embeddings and /v1/images/generations through the real openai SDK. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type OpenAI from 'openai';
import { MOCK_PNG_B64 } from '../fixtures/mock-provider.ts';
import { openaiClients, startTestGateway, type TestGateway } from './support/gateway.ts';

let t: TestGateway;
let client: OpenAI;
before(async () => {
  t = await startTestGateway();
  ({ client } = openaiClients(t.gw.url));
});
after(() => t.close());

test('embeddings: one vector per input, the requested model name, usage', async () => {
  const r = await client.embeddings.create({ model: 'c/text-embedding-mock', input: ['hello world', 'second'], encoding_format: 'float' });
  assert.equal(r.object, 'list');
  assert.equal(r.model, 'c/text-embedding-mock');
  assert.equal(r.data.length, 2);
  assert.equal(r.data[0]!.embedding.length, 8);
  assert.deepEqual(
    r.data.map((d) => d.index),
    [0, 1],
  );
  assert.equal(r.usage.prompt_tokens, 3);
  const again = await client.embeddings.create({ model: 'r/text-embedding-mock', input: 'hello world', encoding_format: 'float' });
  assert.deepEqual(again.data[0]!.embedding, r.data[0]!.embedding, 'deterministic, and both OpenAI modes serve embeddings');
});

test('images: b64 images come back', async () => {
  const r = await client.images.generate({ model: 'c/image-mock', prompt: 'a red dot', n: 2, response_format: 'b64_json' });
  assert.equal(r.data!.length, 2);
  assert.equal(r.data![0]!.b64_json, MOCK_PNG_B64);
});

test('a provider that offers neither: a clear 400', async () => {
  await assert.rejects(
    client.embeddings.create({ model: 'a/claude-mock', input: 'x' }),
    (e: any) => e.status === 400 && e.code === 'model_not_supported' && /cannot create embeddings/.test(e.message),
  );
  await assert.rejects(
    client.images.generate({ model: 'a/claude-mock', prompt: 'x' }),
    (e: any) => e.status === 400 && /cannot generate images/.test(e.message),
  );
  await assert.rejects(client.embeddings.create({ model: 'nope', input: 'x' }), (e: any) => e.status === 404);
  await assert.rejects(client.embeddings.create({ model: 'c/x', input: [] as string[] }), (e: any) => e.status === 400 && e.param === 'input');
});
