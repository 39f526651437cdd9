/**
 * Continuing a conversation with previous_response_id costs in proportion to the new turn: the chain is
 * not read back from the store on every turn. It still survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { type APIError } from 'openai';
import type { Store } from '../src/store/types.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const dbFile = join(mkdtempSync(join(tmpdir(), 'toolgate-history-')), 'toolgate.db');
let t: TestGateway;

before(async () => {
  t = await startTestGateway({ general_settings: { database_url: `sqlite:${dbFile}` } });
});
after(() => t.close());

/** Counts the store's reads of whole responses and of statuses. */
function countReads(store: Store): { responses: number; statuses: number } {
  const n = { responses: 0, statuses: 0 };
  const getResponse = store.getResponse.bind(store);
  const responseStatus = store.responseStatus.bind(store);
  store.getResponse = (id) => {
    n.responses++;
    return getResponse(id);
  };
  store.responseStatus = (id) => {
    n.statuses++;
    return responseStatus(id);
  };
  return n;
}

async function turns(client: OpenAI, model: string, from: string | null, count: number, reads: { responses: number; statuses: number }) {
  const perTurn: number[] = [];
  let previous = from;
  for (let i = 0; i < count; i++) {
    const before = reads.responses + reads.statuses;
    const r = await client.responses.create({ model, input: `turn ${i}`, previous_response_id: previous });
    perTurn.push(reads.responses + reads.statuses - before);
    previous = r.id;
  }
  return { perTurn, last: previous! };
}

test('turn 50 of a conversation reads no more from the store than turn 5', async () => {
  const reads = countReads(t.gw.gateway.store);
  const client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const { perTurn } = await turns(client, 'c/history-50', null, 50, reads);
  assert.ok(perTurn[49]! <= perTurn[4]!, `turn 5 read ${perTurn[4]}, turn 50 read ${perTurn[49]}`);
  assert.ok(perTurn[49]! <= 1, `turn 50 read ${perTurn[49]} rows`);
  // and the model saw the whole conversation: 50 user turns and 49 answers
  const seen = t.mock.requestsFor('history-50').at(-1)!;
  assert.equal(seen.body.messages.length, 99);
});

test('after a restart, the chain is read once and the conversation goes on', async () => {
  const client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const reads0 = countReads(t.gw.gateway.store);
  const { last } = await turns(client, 'c/history-restart', null, 10, reads0);
  await t.close();
  t = await startTestGateway({ general_settings: { database_url: `sqlite:${dbFile}` } });
  const reads = countReads(t.gw.gateway.store);
  const client2 = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const { perTurn } = await turns(client2, 'c/history-restart', last, 3, reads);
  assert.equal(perTurn[0], 1 + 10, 'the first turn after the restart reads the status and the ten responses of the chain');
  assert.equal(perTurn[2], 1, 'later turns read only the status');
  assert.equal(t.mock.requestsFor('history-restart').at(-1)!.body.messages.length, 25);
});

test('a deleted previous response cannot be continued, even when it is remembered', async () => {
  const client = new OpenAI({ baseURL: `${t.gw.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const r = await client.responses.create({ model: 'c/history-deleted', input: 'hello' });
  await client.responses.delete(r.id);
  await assert.rejects(
    client.responses.create({ model: 'c/history-deleted', input: 'again', previous_response_id: r.id }),
    (e: APIError) => e.status === 400 && e.code === 'previous_response_not_found',
  );
});
