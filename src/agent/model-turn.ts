/**
 * One model call's output, going into the response. Streamed: the model's text and client function
 * calls are forwarded as they arrive (re-indexed into the response); not streamed: each finished item
 * is added whole. Either way a function call to an MCP tool is held back until its arguments are
 * complete and handed to `onMcpCall`, which turns it into an `mcp_call` or an `mcp_approval_request`.
 */
import type { ModelEnd, ModelEvent, ModelOutput } from '../protocol/events.ts';
import type { ModelInputItem } from '../protocol/model-request.ts';
import { isClientCall } from '../protocol/client-tools.ts';
import type { OutputItem, Usage } from '../protocol/responses.ts';
import type { ResponseEmitter } from './emitter.ts';

export interface ModelCall {
  callId: string;
  name: string;
  arguments: string;
}

export class ModelTurn {
  status: ModelEnd['status'] = 'completed';
  reason: string | undefined;
  /** The model's own items that stay in the conversation (messages, reasoning, client function calls). */
  readonly items: ModelInputItem[] = [];
  /** The call's usage, once it has ended. */
  usage: Usage | undefined;
  /** How many calls the client runs itself the model made (functions, shell, custom tools, ...: they end the response). */
  clientCalls = 0;
  private readonly emitter: ResponseEmitter;
  private readonly isMcp: (functionName: string) => boolean;
  private readonly onMcpCall: (call: ModelCall) => void;
  /** Model-local output index → the response's index; held-back MCP calls are not in it. */
  private readonly indexOf = new Map<number, number>();
  private readonly held = new Set<number>();

  constructor(emitter: ResponseEmitter, isMcp: (functionName: string) => boolean, onMcpCall: (call: ModelCall) => void) {
    this.emitter = emitter;
    this.isMcp = isMcp;
    this.onMcpCall = onMcpCall;
  }

  /** One streamed event. The event is the provider's own object: it is re-indexed in place. */
  event(ev: ModelEvent): void {
    if (ev.type === 'model.end') {
      this.end(ev);
      return;
    }
    const local = ev.output_index;
    if (ev.type === 'response.output_item.added' && ev.item.type === 'function_call' && this.isMcp(ev.item.name)) {
      this.held.add(local);
      return;
    }
    if (this.held.size && this.held.has(local)) {
      // argument deltas of a held call are not forwarded; the mcp_call carries them
      if (ev.type === 'response.output_item.done') {
        this.held.delete(local);
        this.finished(ev.item);
      }
      return;
    }
    if (ev.type === 'response.output_item.added') this.indexOf.set(local, this.emitter.nextIndex);
    const index = this.indexOf.get(local);
    if (index === undefined) return; // an event for an item the model never added: dropped
    ev.output_index = index;
    this.emitter.item(ev);
    if (ev.type === 'response.output_item.done') this.finished(ev.item);
  }

  /** A whole answer (not streamed). */
  output(out: ModelOutput): void {
    for (const item of out.items) {
      if (!this.isHeld(item)) this.emitter.completeItem(item);
      this.finished(item);
    }
    this.end(out.end);
  }

  private isHeld(item: OutputItem): boolean {
    return item.type === 'function_call' && this.isMcp(item.name);
  }

  /** Every finished item of the model passes here once, streamed or not. */
  private finished(item: OutputItem): void {
    if (this.isHeld(item)) {
      const call = item as Extract<OutputItem, { type: 'function_call' }>;
      this.onMcpCall({ callId: call.call_id, name: call.name, arguments: call.arguments });
      return;
    }
    this.items.push(item as ModelInputItem);
    if (isClientCall(item)) this.clientCalls++;
  }

  private end(ev: ModelEnd): void {
    this.usage = ev.usage;
    this.emitter.addUsage(ev.usage);
    this.status = ev.status;
    this.reason = ev.incomplete_reason;
  }
}
