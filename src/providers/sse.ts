/**
 * Decodes a provider's SSE body into batches of canonical events: one batch per network chunk, each
 * message parsed once and converted synchronously by the wire format's decoder. Silence from the
 * upstream longer than `idleMs` cuts the stream (time spent waiting on a slow consumer does not
 * count); any way the stream breaks surfaces as an `UpstreamStreamError`.
 */
import type { Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';
import type { StreamDecoder } from '../protocol/stream-decoder.ts';
import { UpstreamStreamError } from '../protocol/errors.ts';
import type { ModelEvent } from '../protocol/events.ts';

export async function* decodeSse(body: Readable, decoder: StreamDecoder, idleMs: number): AsyncGenerator<ModelEvent[]> {
  let batch: ModelEvent[] = [];
  const parser = createParser({ onEvent: (msg) => decoder.event(msg, batch) });
  let waitingOnUpstream = true;
  let timedOut = false;
  // One timer for the whole stream, refreshed per chunk: no timer or promise per event.
  const timer = setTimeout(function idle() {
    if (!waitingOnUpstream) return void timer.refresh();
    timedOut = true;
    body.destroy();
  }, idleMs);
  let finished = false;
  // A character split across two chunks is held back until its second half arrives.
  const utf8 = new TextDecoder();
  try {
    for await (const chunk of body) {
      parser.feed(utf8.decode(chunk as Buffer, { stream: true }));
      if (batch.length) {
        const ready = batch;
        batch = [];
        waitingOnUpstream = false;
        yield ready;
        waitingOnUpstream = true;
      }
      timer.refresh();
    }
    decoder.end(batch);
    finished = true;
    if (batch.length) yield batch;
  } catch (e) {
    if (timedOut) throw new UpstreamStreamError('upstream_timeout', `the upstream sent nothing for ${Math.round(idleMs / 1000)} s`);
    if (e instanceof UpstreamStreamError) throw e;
    if (e instanceof SyntaxError) throw new UpstreamStreamError('upstream_error', `the upstream sent an event that is not JSON: ${e.message}`);
    throw new UpstreamStreamError('upstream_error', `the upstream stream broke: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    // The consumer stopped early (client gone, error downstream) or the stream broke: stop the upstream.
    if (!finished) body.destroy();
  }
}
