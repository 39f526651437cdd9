/** Log lines never carry credentials, and censoring them costs nothing when there are none. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { censorCredentials } from '../src/log.ts';

test('credentials one level down and every header value are censored; the rest is untouched', () => {
  const lines: string[] = [];
  const out = new Writable({
    write: (chunk, _e, cb) => {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ base: undefined, formatters: { log: censorCredentials } }, out);
  log.info(
    { upstream: { url: 'http://x', authorization: 'Bearer sk-secret-1', api_key: 'sk-secret-2' }, headers: { cookie: 'c=sk-secret-3' }, status: 200 },
    'call',
  );
  const line = JSON.parse(lines[0]!);
  assert.deepEqual(line.upstream, { url: 'http://x', authorization: '[redacted]', api_key: '[redacted]' });
  assert.deepEqual(line.headers, { cookie: '[redacted]' });
  assert.equal(line.status, 200);
  assert.doesNotMatch(lines[0]!, /sk-secret/);
});

test('a line with nothing to censor is passed on as it is, not copied', () => {
  const obj = { method: 'POST', path: '/v1/responses', status: 200, ms: 1.2, deployment: { id: 'gpt#0' } };
  assert.equal(censorCredentials(obj), obj);
});
