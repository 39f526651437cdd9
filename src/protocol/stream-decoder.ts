/**
 * What a provider's answer is decoded by. A stream decoder takes one SSE message at a time and appends
 * the canonical events it makes to the batch it is given (one batch per network chunk); `end` closes
 * the stream, or throws `UpstreamStreamError` if the upstream stopped before saying it was done.
 */
import type { ModelEvent } from './events.ts';

/** One message of an upstream stream: an SSE event, or an AWS event-stream message (its `:event-type` and payload). */
export interface SseMessage {
  event?: string | undefined;
  data: string;
}

export interface StreamDecoder {
  event(msg: SseMessage, out: ModelEvent[]): void;
  end(out: ModelEvent[]): void;
}
