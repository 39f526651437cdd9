/**
 * A gateway process stopped with SIGTERM while a slow stream runs, as an operator's deploy stops it:
 * readiness and new requests answer 503 at once, the stream finishes within the grace period (or ends
 * `incomplete`, reason `shutdown`, stored so, when the grace is shorter), and the process exits 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMockProvider, type MockProvider } from '../fixtures/mock-provider.ts';
import { openStore } from '../src/store/open.ts';
import { mockRoutes, serveProcess, writeConfig } from './support/gateway.ts';

let mock: MockProvider;

before(async () => {
  mock = await startMockProvider();
});
after(() => mock.close());

/** A gateway process on its own SQLite file; resolves once it listens. */
async function serve(graceSeconds: number) {
  const db = join(mkdtempSync(join(tmpdir(), 'toolgate-shutdown-')), 'toolgate.db');
  const config = writeConfig({
    general_settings: { database_url: `sqlite:${db}`, shutdown_grace_seconds: graceSeconds },
    model_list: mockRoutes(mock),
  });
  return { ...(await serveProcess(config)), db };
}

/** Opens a slow stream; resolves with its frames as they come, and once its first event is in. */
async function slowStream(url: string, model: string) {
  const res = await fetch(`${url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: `c/${model}`, input: 'count slowly', stream: true }),
  });
  assert.equal(res.status, 200);
  const events: any[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  let started!: () => void;
  const first = new Promise<void>((resolve) => (started = resolve));
  const done = (async () => {
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let cut = buffered.indexOf('\n\n'); cut >= 0; cut = buffered.indexOf('\n\n')) {
        const data = buffered
          .slice(0, cut)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buffered = buffered.slice(cut + 2);
        if (!data) continue;
        events.push(JSON.parse(data.slice(6)));
        if (events.some((e) => e.type === 'response.output_text.delta')) started();
      }
    }
    return events;
  })();
  return { first, done };
}

const words = Array.from({ length: 12 }, (_, i) => `w${i}`);

describe('SIGTERM', () => {
  test('a stream that fits in the grace gets every event and response.completed; meanwhile readiness and new requests get 503; exit 0', async () => {
    const gw = await serve(30);
    mock.enqueue('fits', { chunks: words.map((w) => `${w} `), chunkDelayMs: 60 });
    const stream = await slowStream(gw.url, 'fits');
    await stream.first;
    gw.child.kill('SIGTERM');
    // The process says so on its readiness at once (polling only until the signal has been handled).
    let readiness = 200;
    while (readiness === 200) readiness = (await fetch(`${gw.url}/health/readiness`)).status;
    assert.equal(readiness, 503);
    const refused = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'c/x', input: 'x' }),
    });
    assert.deepEqual([refused.status, refused.headers.get('retry-after'), ((await refused.json()) as any).error.code], [503, '1', 'shutting_down']);
    const events = await stream.done;
    assert.equal(events.at(-1).type, 'response.completed');
    assert.equal(events.at(-1).response.output[0].content[0].text, words.map((w) => `${w} `).join(''));
    assert.deepEqual(await gw.exited, [0, null]);
  });

  test('a stream longer than the grace ends response.incomplete (reason shutdown), stored so; exit 0; a second signal is not needed', async () => {
    const gw = await serve(0.3);
    mock.enqueue('too-long', { chunks: words.map((w) => `${w} `), chunkDelayMs: 200 });
    const stream = await slowStream(gw.url, 'too-long');
    await stream.first;
    gw.child.kill('SIGTERM');
    const events = await stream.done;
    const last = events.at(-1);
    assert.equal(last.type, 'response.incomplete');
    assert.deepEqual(last.response.incomplete_details, { reason: 'shutdown' });
    assert.ok(
      events.some((e) => e.type === 'response.output_text.delta'),
      'what was said before the stop was sent',
    );
    assert.deepEqual(await gw.exited, [0, null]);
    const store = await openStore(`sqlite:${gw.db}`);
    try {
      const stored = await store.getResponse(last.response.id);
      assert.deepEqual([stored?.response.status, stored?.response.incomplete_details], ['incomplete', { reason: 'shutdown' }]);
    } finally {
      await store.close();
    }
  });

  test('a second signal stops at once', async () => {
    const gw = await serve(30);
    mock.enqueue('stuck', { chunks: words.map((w) => `${w} `), chunkDelayMs: 1000 });
    const stream = await slowStream(gw.url, 'stuck');
    const cut = stream.done.then(
      () => 'ended',
      () => 'cut',
    );
    await stream.first;
    gw.child.kill('SIGTERM');
    let readiness = 200;
    while (readiness === 200) readiness = (await fetch(`${gw.url}/health/readiness`)).status;
    gw.child.kill('SIGTERM');
    assert.deepEqual(await gw.exited, [1, null]);
    assert.equal(await cut, 'cut', 'the stream did not get its grace');
  });
});
