/**
 * Decodes a provider's streamed body into batches of canonical events: one batch per network chunk. A
 * framing cuts the bytes into messages (SSE by default; Bedrock's binary event stream is another), and
 * each message is parsed once and converted synchronously by the wire format's decoder. Silence from the
 * upstream longer than `idleMs` cuts the stream (time spent waiting on a slow consumer does not
 * count); any way the stream breaks surfaces as an `UpstreamStreamError`.
 */
import type { Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';
import type { SseMessage, StreamDecoder } from '../protocol/stream-decoder.ts';
import { UpstreamStreamError } from '../protocol/errors.ts';
import type { ModelEvent } from '../protocol/events.ts';

/** Cuts a byte stream into messages; `feed` hands each whole message to `deliver` synchronously. */
export interface Framer {
  feed(chunk: Uint8Array): void;
}
export type Framing = (deliver: (msg: SseMessage) => void) => Framer;

/** Server-sent events; a character split across two chunks is held back until its second half arrives. */
export const sseFraming: Framing = (deliver) => {
  const parser = createParser({ onEvent: deliver });
  const utf8 = new TextDecoder();
  return { feed: (chunk) => parser.feed(utf8.decode(chunk, { stream: true })) };
};

export async function* decodeStream(body: Readable, decoder: StreamDecoder, idleMs: number, framing: Framing = sseFraming): AsyncGenerator<ModelEvent[]> {
  let batch: ModelEvent[] = [];
  const framer = framing((msg) => decoder.event(msg, batch));
  let waitingOnUpstream = true;
  let timedOut = false;
  // One timer for the whole stream, refreshed per chunk: no timer or promise per event.
  const timer = setTimeout(function idle() {
    if (!waitingOnUpstream) return void timer.refresh();
    timedOut = true;
    body.destroy();
  }, idleMs);
  let finished = false;
  try {
    for await (const chunk of body) {
      framer.feed(chunk as Buffer);
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
