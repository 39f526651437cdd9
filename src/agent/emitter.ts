/**
 * Builds one Response and its event stream: one `response.created`, continuous sequence numbers,
 * output indices that keep counting across model calls, and exactly one terminal event.
 * Every event of a response goes through here on its way to the sink (an edge's writer). Emitting is
 * synchronous: the sink reports backpressure and the agent waits for `drain()` only when it must.
 * Without a sink (a non-streamed response) no events are built at all.
 */
import type { ResponseError } from '../protocol/errors.ts';
import type { ItemEvent, LifecycleEvent, ResponseObject, StreamEvent, TerminalStatus } from '../protocol/events.ts';
import { addUsage, emptyUsage, type OutputItem, type Usage } from '../protocol/responses.ts';

export interface EventSink {
  /** Takes one event; returns false when the consumer is full and the producer should wait for `drain()`. */
  write(event: StreamEvent): boolean;
  drain(): Promise<void>;
}

export class ResponseEmitter {
  readonly response: ResponseObject;
  private seq = 0;
  private usage: Usage = emptyUsage();
  private started = false;
  private terminal = false;
  private full = false;
  /** Indices of items added but not yet done. */
  private readonly open = new Set<number>();
  private readonly sink: EventSink | null;

  constructor(response: ResponseObject, sink: EventSink | null) {
    this.response = response;
    this.sink = sink;
  }

  get isStarted(): boolean {
    return this.started;
  }
  /** Whether events go anywhere (a streamed response). */
  get streaming(): boolean {
    return this.sink !== null;
  }
  /** The output index the next added item gets. */
  get nextIndex(): number {
    return this.response.output.length;
  }

  /** Resolves when the sink can take more; at once unless it said it was full. */
  drain(): Promise<void> | undefined {
    if (!this.full) return undefined;
    this.full = false;
    return this.sink!.drain();
  }

  /** Items are never mutated once emitted (a changed item is a new object), so a shallow copy is a snapshot. */
  private snapshot(): ResponseObject {
    return { ...this.response, output: [...this.response.output] };
  }

  private send(ev: StreamEvent): void {
    ev.sequence_number = this.seq++;
    if (!this.sink!.write(ev)) this.full = true;
  }

  private lifecycle(type: LifecycleEvent['type']): void {
    if (this.sink) this.send({ type, sequence_number: 0, response: this.snapshot() });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.lifecycle('response.created');
    this.lifecycle('response.in_progress');
  }

  /**
   * An item event whose `output_index` is absolute. Keeps `response.output` in step with the stream,
   * so the terminal event carries every item.
   */
  item(ev: ItemEvent): void {
    if (ev.type === 'response.output_item.added') {
      if (ev.output_index !== this.response.output.length)
        throw new Error(`output_item.added at index ${ev.output_index}, expected ${this.response.output.length}`);
      this.response.output.push(ev.item);
      this.open.add(ev.output_index);
    } else if (ev.type === 'response.output_item.done') {
      this.response.output[ev.output_index] = ev.item;
      this.open.delete(ev.output_index);
    }
    if (this.sink) this.send(ev);
  }

  /** Adds an item that is complete already (added + done, no other events). */
  completeItem(item: OutputItem): void {
    const output_index = this.nextIndex;
    if (!this.sink) {
      this.response.output.push(item);
      return;
    }
    this.item({ type: 'response.output_item.added', sequence_number: 0, output_index, item });
    this.item({ type: 'response.output_item.done', sequence_number: 0, output_index, item });
  }

  /**
   * The model that answered the latest model call: the requested name, or the fallback's when the
   * requested model failed. Events already sent keep the name they carried (a stream's
   * `response.created` names the requested model unless the model had answered before it was sent).
   */
  answeredBy(model: string): void {
    this.response.model = model;
  }

  addUsage(u: Usage): void {
    this.usage = addUsage(this.usage, u);
  }

  /** The terminal event. Items still in progress are marked with the response's fate. */
  finish(status: TerminalStatus, detail?: { reason?: string; error?: ResponseError }): ResponseObject {
    if (this.terminal) return this.response;
    this.terminal = true;
    this.start();
    const r = this.response;
    // Items cut off by the end (a broken upstream, a deadline) are closed as incomplete.
    for (const index of [...this.open]) {
      const item = r.output[index]!;
      this.item({
        type: 'response.output_item.done',
        sequence_number: 0,
        output_index: index,
        item: 'status' in item ? { ...item, status: 'incomplete' } : item,
      });
    }
    r.status = status;
    r.usage = this.usage;
    r.completed_at = status === 'completed' ? Math.floor(Date.now() / 1000) : null;
    if (status === 'incomplete') r.incomplete_details = { reason: detail?.reason ?? 'max_output_tokens' };
    if (status === 'failed') r.error = detail?.error ?? { code: 'server_error', message: 'The response failed' };
    this.lifecycle(status === 'completed' ? 'response.completed' : status === 'incomplete' ? 'response.incomplete' : 'response.failed');
    return r;
  }
}
