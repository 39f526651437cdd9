/**
 * Builds one Response and its event stream: one `response.created`, continuous sequence numbers,
 * output indices that keep counting across model calls, and exactly one terminal event.
 * Every event of a response goes through here on its way to the sink (SSE writer or collector).
 */
import type { ItemEvent, LifecycleEvent, ResponseObject, StreamEvent, TerminalStatus } from '../protocol/events.ts';
import { addUsage, emptyUsage, type OutputItem, type Usage } from '../protocol/responses.ts';

export type EventSink = (event: StreamEvent) => void | Promise<void>;

export class ResponseEmitter {
  readonly response: ResponseObject;
  private seq = 0;
  private usage: Usage = emptyUsage();
  private started = false;
  private terminal = false;
  /** Indices of items added but not yet done. */
  private readonly open = new Set<number>();
  private readonly sink: EventSink;

  constructor(response: ResponseObject, sink: EventSink) {
    this.response = response;
    this.sink = sink;
  }

  get isStarted(): boolean {
    return this.started;
  }
  get isFinished(): boolean {
    return this.terminal;
  }
  /** The output index the next added item gets. */
  get nextIndex(): number {
    return this.response.output.length;
  }

  /** Items are never mutated once emitted (a changed item is a new object), so a shallow copy is a snapshot. */
  private snapshot(): ResponseObject {
    return { ...this.response, output: [...this.response.output] };
  }

  private async send(ev: ItemEvent | LifecycleEvent): Promise<void> {
    // `type` and `sequence_number` first, as OpenAI writes them.
    const { type, ...rest } = ev;
    await this.sink({ type, sequence_number: this.seq++, ...rest } as StreamEvent);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.send({ type: 'response.created', response: this.snapshot() });
    await this.send({ type: 'response.in_progress', response: this.snapshot() });
  }

  /**
   * An item event whose `output_index` is absolute. Keeps `response.output` in step with the stream,
   * so the terminal event carries every item.
   */
  async item(ev: ItemEvent): Promise<void> {
    if (ev.type === 'response.output_item.added') {
      if (ev.output_index !== this.response.output.length)
        throw new Error(`output_item.added at index ${ev.output_index}, expected ${this.response.output.length}`);
      this.response.output.push(ev.item);
      this.open.add(ev.output_index);
    } else if (ev.type === 'response.output_item.done') {
      this.response.output[ev.output_index] = ev.item;
      this.open.delete(ev.output_index);
    }
    await this.send(ev);
  }

  /** Adds an item that is complete already (added + done, no other events). */
  async completeItem(item: OutputItem): Promise<void> {
    const output_index = this.nextIndex;
    await this.item({ type: 'response.output_item.added', output_index, item });
    await this.item({ type: 'response.output_item.done', output_index, item });
  }

  addUsage(u: Usage): void {
    this.usage = addUsage(this.usage, u);
  }

  /** The terminal event. Items still in progress are marked with the response's fate. */
  async finish(status: TerminalStatus, detail?: { reason?: string; error?: { code: string; message: string } }): Promise<ResponseObject> {
    if (this.terminal) return this.response;
    this.terminal = true;
    await this.start();
    const r = this.response;
    // Items cut off by the end (a broken upstream, a deadline) are closed as incomplete.
    for (const index of [...this.open]) {
      const item = r.output[index]!;
      await this.item({ type: 'response.output_item.done', output_index: index, item: 'status' in item ? { ...item, status: 'incomplete' } : item });
    }
    r.status = status;
    r.usage = this.usage;
    r.completed_at = status === 'completed' ? Math.floor(Date.now() / 1000) : null;
    if (status === 'incomplete') r.incomplete_details = { reason: detail?.reason ?? 'max_output_tokens' };
    if (status === 'failed') r.error = detail?.error ?? { code: 'server_error', message: 'The response failed' };
    const type = status === 'completed' ? 'response.completed' : status === 'incomplete' ? 'response.incomplete' : 'response.failed';
    await this.send({ type, response: this.snapshot() });
    return r;
  }
}
