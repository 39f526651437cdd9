/** The SSE writer on its own: backpressure, keep-alives and a client gone mid-wait. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { SseWriter } from '../src/http/sse.ts';

/** A response whose socket is full after every write until it drains (on the next tick). */
class SlowResponse extends EventEmitter {
  written: string[] = [];
  writableNeedDrain = false;
  writableEnded = false;
  destroyed = false;
  headers: Record<string, unknown> | undefined;
  socket = { setNoDelay() {} };
  writeHead(_status: number, headers: Record<string, unknown>) {
    this.headers = headers;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableNeedDrain = true;
    setImmediate(() => {
      this.writableNeedDrain = false;
      this.emit('drain');
    });
    return false;
  }
  end() {
    this.writableEnded = true;
  }
  waiters(): number {
    return this.listenerCount('drain') + this.listenerCount('close') + this.listenerCount('error');
  }
}

function writer(res: SlowResponse, keepAliveMs = 60_000): SseWriter {
  return new SseWriter(res as unknown as ServerResponse, keepAliveMs, () => ({ 'x-request-id': 'req_1' }));
}

test('under backpressure the listener count stays constant over 10,000 waits', async () => {
  const res = new SlowResponse();
  const sse = writer(res);
  let waits = 0;
  let most = 0;
  for (let i = 0; i < 10_000; i++) {
    sse.send(`{"n":${i}}`, 'tick');
    const drained = sse.drain();
    most = Math.max(most, res.waiters());
    await drained;
    waits++;
  }
  assert.equal(waits, 10_000);
  assert.ok(most <= 2, `at most one drain and one close listener while waiting, saw ${most}`);
  assert.equal(res.waiters(), 0, 'no listener left behind');
  assert.equal(res.written.length, 10_000);
  sse.end();
});

test('events sent in one turn of the event loop go out in one write, and start the response with the edge headers', async () => {
  const res = new SlowResponse();
  const sse = writer(res);
  sse.send('{"a":1}', 'one');
  sse.send('{"b":2}');
  assert.equal(res.written.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(res.written, ['event: one\ndata: {"a":1}\n\ndata: {"b":2}\n\n']);
  assert.equal(res.headers?.['x-request-id'], 'req_1');
  assert.equal(res.headers?.['content-type'], 'text/event-stream; charset=utf-8');
  sse.end();
  assert.equal(res.writableEnded, true);
});

test('a client that goes away mid-wait releases the waiter', async () => {
  const res = new SlowResponse();
  res.write = function (chunk: string) {
    this.written.push(chunk);
    this.writableNeedDrain = true;
    return false; // never drains
  };
  const sse = writer(res);
  sse.send('{"x":1}');
  const waiting = sse.drain();
  res.destroyed = true;
  res.emit('close');
  await waiting;
  assert.equal(res.waiters(), 0);
  assert.equal(sse.send('{"after":1}'), true, 'nothing is queued for a closed response, and nothing blocks');
  await sse.drain();
});

test('keep-alive comments only after a whole period without data', async () => {
  const res = new SlowResponse();
  res.write = function (chunk: string) {
    this.written.push(chunk);
    return true;
  };
  const sse = writer(res, 20);
  sse.send('{"first":1}');
  await new Promise((r) => setTimeout(r, 110));
  const comments = res.written.filter((w) => w === ': keep-alive\n\n').length;
  assert.ok(comments >= 2 && comments <= 5, `expected a few keep-alives, saw ${comments}`);
  sse.end();
});

test('a producer faster than the event loop is told to wait once a batch is large, before anything is written', async () => {
  const res = new SlowResponse();
  res.write = function (chunk: string) {
    this.written.push(chunk);
    return true;
  };
  const sse = writer(res);
  let sent = 0;
  while (sse.send(`{"delta":"${'x'.repeat(100)}"}`)) sent++;
  assert.ok(sent > 10 && sent < 200, `asked to wait after ${sent} events`);
  assert.equal(res.written.length, 0);
  await sse.drain();
  assert.equal(res.written.length, 1, 'the batch went out in one write when the producer waited');
  assert.equal(sse.send('{}'), true);
  sse.end();
});
