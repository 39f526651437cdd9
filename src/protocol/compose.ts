/**
 * Builds well-formed Responses item events from the pieces a provider stream delivers
 * (text deltas, tool-call fragments, ...). Chat and Anthropic stream decoders both use it,
 * so the ordering rules (checked by test/support/validate-stream.ts) live in one place.
 * Every method appends the events it makes to `out`: one array per network chunk, no copies.
 */
import type { ModelEvent, OutputPart } from './events.ts';
import { newId } from './ids.ts';
import type { FunctionCallItem, MessageItem, OutputItem, ReasoningItem } from './responses.ts';

type Part = { kind: 'text'; value: string } | { kind: 'refusal'; value: string };
type Open =
  | { kind: 'message'; index: number; id: string; parts: Part[] }
  | { kind: 'call'; index: number; id: string; call_id: string; name: string; args: string; key: string | number }
  | { kind: 'reasoning'; index: number; id: string; text: string; encrypted?: string };

export class OutputComposer {
  private next = 0;
  private open: Open | null = null;

  /** Append text to the current message, opening one (and closing anything else) if needed. */
  text(delta: string, out: ModelEvent[]): void {
    if (delta !== '') this.appendPart('text', delta, out);
  }

  refusal(delta: string, out: ModelEvent[]): void {
    if (delta !== '') this.appendPart('refusal', delta, out);
  }

  /** Start a function call. `key` identifies it in later `callArgs` (a Chat tool-call index, an Anthropic block index). */
  callStart(key: string | number, call_id: string, name: string, out: ModelEvent[]): void {
    this.close(out);
    const id = newId('fc');
    const index = this.next++;
    this.open = { kind: 'call', index, id, call_id, name, args: '', key };
    const item: FunctionCallItem = { id, type: 'function_call', status: 'in_progress', arguments: '', call_id, name };
    out.push({ type: 'response.output_item.added', sequence_number: 0, output_index: index, item });
  }

  /** Arguments for the call opened under `key`. Fragments for a call that is no longer open are dropped. */
  callArgs(key: string | number, delta: string, out: ModelEvent[]): void {
    const c = this.open;
    if (c?.kind !== 'call' || c.key !== key || delta === '') return;
    c.args += delta;
    out.push({ type: 'response.function_call_arguments.delta', sequence_number: 0, item_id: c.id, output_index: c.index, delta });
  }

  isCallOpen(key: string | number): boolean {
    return this.open?.kind === 'call' && this.open.key === key;
  }

  reasoning(delta: string, out: ModelEvent[]): void {
    const r = this.openReasoning(out);
    r.text += delta;
    out.push({ type: 'response.reasoning_text.delta', sequence_number: 0, item_id: r.id, output_index: r.index, content_index: 0, delta });
  }

  /**
   * Opaque reasoning state only the upstream can read (a Gemini thought signature), carried as the open
   * reasoning item's `encrypted_content`; opens an item (without text) if none is open.
   */
  reasoningState(encrypted: string, out: ModelEvent[]): void {
    this.openReasoning(out).encrypted = encrypted;
  }

  isReasoningOpen(): boolean {
    return this.open?.kind === 'reasoning';
  }

  /** Close whatever is open. `status` is the status the closed item gets. */
  close(out: ModelEvent[], status: 'completed' | 'incomplete' = 'completed'): void {
    const o = this.open;
    this.open = null;
    if (!o) return;
    if (o.kind === 'message') {
      for (let ci = 0; ci < o.parts.length; ci++) {
        const p = o.parts[ci]!;
        if (p.kind === 'text')
          out.push({
            type: 'response.output_text.done',
            sequence_number: 0,
            item_id: o.id,
            output_index: o.index,
            content_index: ci,
            text: p.value,
            logprobs: [],
          });
        else out.push({ type: 'response.refusal.done', sequence_number: 0, item_id: o.id, output_index: o.index, content_index: ci, refusal: p.value });
        out.push({ type: 'response.content_part.done', sequence_number: 0, item_id: o.id, output_index: o.index, content_index: ci, part: partShape(p) });
      }
      const item: MessageItem = { id: o.id, type: 'message', status, role: 'assistant', content: o.parts.map(partShape) };
      out.push({ type: 'response.output_item.done', sequence_number: 0, output_index: o.index, item });
      return;
    }
    if (o.kind === 'call') {
      const item: FunctionCallItem = { id: o.id, type: 'function_call', status, arguments: o.args, call_id: o.call_id, name: o.name };
      out.push({ type: 'response.function_call_arguments.done', sequence_number: 0, item_id: o.id, output_index: o.index, arguments: o.args, name: o.name });
      out.push({ type: 'response.output_item.done', sequence_number: 0, output_index: o.index, item });
      return;
    }
    const item: ReasoningItem = { id: o.id, type: 'reasoning', summary: [], content: o.text ? [{ type: 'reasoning_text', text: o.text }] : [], status };
    if (o.encrypted) item.encrypted_content = o.encrypted;
    if (o.text) out.push({ type: 'response.reasoning_text.done', sequence_number: 0, item_id: o.id, output_index: o.index, content_index: 0, text: o.text });
    out.push({ type: 'response.output_item.done', sequence_number: 0, output_index: o.index, item });
  }

  private openReasoning(out: ModelEvent[]): Extract<Open, { kind: 'reasoning' }> {
    if (this.open?.kind === 'reasoning') return this.open;
    this.close(out);
    const id = newId('rs');
    const index = this.next++;
    const r: Extract<Open, { kind: 'reasoning' }> = { kind: 'reasoning', index, id, text: '' };
    this.open = r;
    const item: ReasoningItem = { id, type: 'reasoning', summary: [], content: [], status: 'in_progress' };
    out.push({ type: 'response.output_item.added', sequence_number: 0, output_index: index, item });
    return r;
  }

  private appendPart(kind: Part['kind'], delta: string, out: ModelEvent[]): void {
    if (this.open?.kind !== 'message') {
      this.close(out);
      const id = newId('msg');
      const index = this.next++;
      this.open = { kind: 'message', index, id, parts: [] };
      const item: MessageItem = { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      out.push({ type: 'response.output_item.added', sequence_number: 0, output_index: index, item });
    }
    const m = this.open;
    let ci = m.parts.length - 1;
    if (ci < 0 || m.parts[ci]!.kind !== kind) {
      m.parts.push({ kind, value: '' });
      ci++;
      const part: OutputPart = kind === 'text' ? { type: 'output_text', text: '', annotations: [], logprobs: [] } : { type: 'refusal', refusal: '' };
      out.push({ type: 'response.content_part.added', sequence_number: 0, item_id: m.id, output_index: m.index, content_index: ci, part });
    }
    m.parts[ci]!.value += delta;
    if (kind === 'text')
      out.push({ type: 'response.output_text.delta', sequence_number: 0, item_id: m.id, output_index: m.index, content_index: ci, delta, logprobs: [] });
    else out.push({ type: 'response.refusal.delta', sequence_number: 0, item_id: m.id, output_index: m.index, content_index: ci, delta });
  }
}

function partShape(p: Part): OutputPart {
  return p.kind === 'text' ? { type: 'output_text', text: p.value, annotations: [], logprobs: [] } : { type: 'refusal', refusal: p.value };
}

/**
 * The output items of a whole (not streamed) answer, in the order its blocks came: adjacent text blocks
 * form one message, as they do in a stream.
 */
export class ItemCollector {
  private readonly items: OutputItem[] = [];
  private readonly status: 'completed' | 'incomplete';
  private pending = '';

  constructor(status: 'completed' | 'incomplete') {
    this.status = status;
  }

  text(text: string): void {
    this.pending += text;
  }

  call(call_id: string, name: string, args: string): void {
    this.flush();
    this.items.push({ id: newId('fc'), type: 'function_call', status: this.status, call_id, name, arguments: args });
  }

  reasoning(text: string): void {
    this.flush();
    this.items.push({ id: newId('rs'), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }], status: this.status });
  }

  done(): OutputItem[] {
    this.flush();
    return this.items;
  }

  private flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.items.push({
      id: newId('msg'),
      type: 'message',
      status: this.status,
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    });
  }
}
