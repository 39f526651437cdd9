/**
 * A leaner reader for the event streams an upstream answers requests with, put in place of the one in
 * the SDK's Streamable HTTP client transport (SDK 2.x). The SDK's pipes each response through a
 * TextDecoderStream and an EventSourceParserStream: two web TransformStreams, whose promise hand-offs and
 * closing (Node builds an Error, stack and all, whenever a TransformStream terminates) cost about a tenth
 * of a millisecond per call. This one reads the body directly and parses it with the same parser
 * library; what it does with each event is the SDK's, step for step: resumption tokens, the priming
 * event, reconnection when a stream ends before its response (unless the request was aborted), the end
 * of a request's stream, server-set retry delays.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  parseJSONRPCMessage,
  type JSONRPCMessage,
  type StartSSEOptions,
  type StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** The SDK transport's private members this reader stands in for or uses. */
interface SseInternals {
  _handleSseStream(stream: ReadableStream<Uint8Array> | null, options: StartSSEOptions, isReconnectable: boolean): void;
  _scheduleReconnection(options: StartSSEOptions, attemptCount?: number): void;
  _abortController?: AbortController;
  _serverRetryMs?: number;
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
}

/** Puts the lean reader in place on `transport`; an SDK without the expected method keeps its own. */
export function useLeanSseReader(transport: StreamableHTTPClientTransport): void {
  const t = transport as unknown as SseInternals;
  if (typeof t._handleSseStream !== 'function' || typeof t._scheduleReconnection !== 'function') return;
  t._handleSseStream = (stream, options, isReconnectable) => {
    if (stream) void readEvents(t, stream, options, isReconnectable);
    else options.onRequestStreamEnd?.();
  };
}

async function readEvents(t: SseInternals, stream: ReadableStream<Uint8Array>, options: StartSSEOptions, isReconnectable: boolean): Promise<void> {
  const { onresumptiontoken, replayMessageId, requestSignal, onRequestStreamEnd } = options;
  const aborted = () => t._abortController?.signal.aborted === true || requestSignal?.aborted === true;
  let lastEventId: string | undefined;
  let hasPrimingEvent = false;
  let receivedResponse = false;
  const onEvent = (event: EventSourceMessage) => {
    if (event.id) {
      lastEventId = event.id;
      hasPrimingEvent = true;
      onresumptiontoken?.(event.id);
    }
    if (!event.data || (event.event && event.event !== 'message')) return;
    try {
      const message = parseJSONRPCMessage(JSON.parse(event.data));
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
        receivedResponse = true;
        if (replayMessageId !== undefined) message.id = replayMessageId;
      }
      t.onmessage?.(message);
    } catch (error) {
      t.onerror?.(error as Error);
    }
  };
  // A stream that ends before its response is resumed, when it can be (a GET stream, or one that was primed).
  const resumeIfCut = () => {
    if ((isReconnectable || hasPrimingEvent) && !receivedResponse && t._abortController && !aborted())
      t._scheduleReconnection({ resumptionToken: lastEventId, onresumptiontoken, replayMessageId, requestSignal, onRequestStreamEnd }, 0);
    else if (!aborted()) onRequestStreamEnd?.();
  };
  const parser = createParser({ onEvent, onRetry: (ms) => (t._serverRetryMs = ms) });
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    parser.feed(decoder.decode());
    resumeIfCut();
  } catch (error) {
    if (aborted()) return;
    t.onerror?.(new Error(`SSE stream disconnected: ${error}`));
    try {
      resumeIfCut();
    } catch (e) {
      t.onerror?.(new Error(`Failed to reconnect: ${e instanceof Error ? e.message : String(e)}`));
      onRequestStreamEnd?.();
    }
  }
}
