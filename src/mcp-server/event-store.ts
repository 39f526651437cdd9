/**
 * A bounded event store for one Streamable HTTP session, so a client can resume a stream with
 * `Last-Event-ID`. Event ids are `<stream>:<n>`; past the cap the oldest events are overwritten (a ring,
 * so storing stays constant-time: every response stores two events).
 */
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
}

export class SessionEventStore implements EventStore {
  private readonly ring: StoredEvent[] = [];
  /** How many events were ever stored; the newest is at `(stored - 1) % cap`. */
  private stored = 0;
  private readonly cap: number;

  constructor(cap = 1000) {
    this.cap = cap;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}:${this.stored}`;
    this.ring[this.stored % this.cap] = { id, streamId, message };
    this.stored++;
    return id;
  }

  /** The events still held, oldest first. */
  private *held(): Generator<StoredEvent> {
    const first = Math.max(0, this.stored - this.cap);
    for (let n = first; n < this.stored; n++) yield this.ring[n % this.cap]!;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    for (const e of this.held()) if (e.id === eventId) return e.streamId;
    return undefined;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    let streamId: string | undefined;
    const after: StoredEvent[] = [];
    for (const e of this.held()) {
      if (streamId !== undefined && e.streamId === streamId) after.push(e);
      else if (e.id === lastEventId) streamId = e.streamId;
    }
    if (streamId === undefined) return '';
    for (const e of after) await send(e.id, e.message);
    return streamId;
  }
}
