/**
 * ConverseStream's body: the AWS event stream encoding (`application/vnd.amazon.eventstream`; Amazon
 * Bedrock API Reference: ConverseStream, and the AWS SDKs' "event stream encoding"). Each message is a
 * 4-byte total length, a 4-byte headers length, a prelude CRC, headers, payload and a message CRC.
 * The bytes are cut into whole messages here by that total length; each message is decoded and checked
 * by Smithy's EventStreamCodec (loaded on first use) and delivered as its `:event-type` and payload text.
 * An `exception` or `error` message is the stream's failure.
 */
import type { EventStreamCodec, Message } from '@smithy/eventstream-codec';
import { Lazy } from '../../lazy.ts';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { SseMessage } from '../../protocol/stream-decoder.ts';
import type { Framing } from '../stream-body.ts';

const PRELUDE = 4;

const codec = new Lazy(async (): Promise<EventStreamCodec> => {
  const [{ EventStreamCodec }, { toUtf8, fromUtf8 }] = await Promise.all([import('@smithy/eventstream-codec'), import('@smithy/util-utf8')]);
  return new EventStreamCodec(toUtf8, fromUtf8);
});

const utf8 = new TextDecoder();

function header(m: Message, name: string): string | undefined {
  const h = m.headers[name];
  return h?.type === 'string' ? h.value : undefined;
}

/** An exception's message, from its JSON payload (`{"message": ...}`). */
function exceptionMessage(m: Message): string {
  const text = utf8.decode(m.body);
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    const message = parsed.message ?? parsed.Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text is the message
  }
  return text;
}

/** A decoded message as the decoder reads it; throws the stream's failure for an exception or error. */
function toMessage(m: Message): SseMessage {
  const type = header(m, ':message-type');
  if (type === 'exception') {
    const name = header(m, ':exception-type') ?? 'exception';
    throw new UpstreamStreamError(
      name === 'throttlingException' ? 'rate_limit_exceeded' : 'upstream_error',
      `the upstream stream reported an error: ${name}: ${exceptionMessage(m)}`,
    );
  }
  if (type === 'error') {
    const code = header(m, ':error-code') ?? 'error';
    throw new UpstreamStreamError('upstream_error', `the upstream stream reported an error: ${code}: ${header(m, ':error-message') ?? ''}`);
  }
  return { event: header(m, ':event-type'), data: utf8.decode(m.body) };
}

/** The framing, once the codec is loaded (the first Bedrock stream loads it). */
export async function eventStreamFraming(): Promise<Framing> {
  const c = codec.value ?? (await codec.get());
  return (deliver) => {
    const length = new Uint8Array(PRELUDE);
    let lengthFilled = 0;
    let message: Uint8Array | null = null;
    let filled = 0;
    return {
      feed(chunk) {
        let at = 0;
        while (at < chunk.length) {
          if (!message && lengthFilled === 0 && chunk.length - at >= PRELUDE) {
            // The usual case: a whole message inside the chunk, decoded where it lies.
            const total = new DataView(chunk.buffer, chunk.byteOffset + at, PRELUDE).getUint32(0, false);
            if (total >= 16 && chunk.length - at >= total) {
              deliver(toMessage(c.decode(chunk.subarray(at, at + total))));
              at += total;
              continue;
            }
          }
          if (!message) {
            // The total length may itself arrive split across chunks.
            const n = Math.min(PRELUDE - lengthFilled, chunk.length - at);
            length.set(chunk.subarray(at, at + n), lengthFilled);
            lengthFilled += n;
            at += n;
            if (lengthFilled < PRELUDE) return;
            const total = new DataView(length.buffer).getUint32(0, false);
            if (total < 16) throw new UpstreamStreamError('upstream_error', `the upstream sent an event-stream message of ${total} bytes`);
            message = new Uint8Array(total);
            message.set(length);
            filled = PRELUDE;
            lengthFilled = 0;
          }
          const n = Math.min(message.length - filled, chunk.length - at);
          message.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === message.length) {
            const whole = message;
            message = null;
            deliver(toMessage(c.decode(whole)));
          }
        }
      },
    };
  };
}
