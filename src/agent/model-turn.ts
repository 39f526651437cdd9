/**
 * Streams one model call into the response. The model's text and client function calls are forwarded
 * as they arrive (re-indexed into the response); a function call to an MCP tool is held back until its
 * arguments are complete and handed to `onMcpCall`, which turns it into an `mcp_call` or an
 * `mcp_approval_request` item.
 */
import type { ItemEvent, ModelEvent } from '../protocol/events.ts';
import type { ModelInputItem } from '../protocol/model-request.ts';
import type { OutputItem } from '../protocol/responses.ts';
import type { ResponseEmitter } from './emitter.ts';

export interface ModelCall {
  callId: string;
  name: string;
  arguments: string;
}

export interface TurnResult {
  status: 'completed' | 'incomplete';
  reason?: string;
  /** The model's own items that stay in the conversation (messages, reasoning, client function calls). */
  items: ModelInputItem[];
  /** How many client-side function calls the model made (they end the response). */
  clientCalls: number;
}

function asInput(item: OutputItem): ModelInputItem | null {
  switch (item.type) {
    case 'message':
    case 'function_call':
    case 'reasoning':
      return item;
    default:
      return null;
  }
}

export async function streamModelTurn(
  stream: AsyncIterable<ModelEvent>,
  emitter: ResponseEmitter,
  isMcp: (functionName: string) => boolean,
  onMcpCall: (call: ModelCall) => Promise<void>,
): Promise<TurnResult> {
  const result: TurnResult = { status: 'completed', items: [], clientCalls: 0 };
  /** Model-local output index → the response's index; held-back MCP calls are not in it. */
  const indexOf = new Map<number, number>();
  const held = new Set<number>();
  for await (const ev of stream) {
    if (ev.type === 'model.end') {
      emitter.addUsage(ev.usage);
      result.status = ev.status;
      result.reason = ev.incomplete_reason;
      continue;
    }
    const local = ev.output_index;
    if (ev.type === 'response.output_item.added' && ev.item.type === 'function_call' && isMcp(ev.item.name)) {
      held.add(local);
      continue;
    }
    if (held.has(local)) {
      if (ev.type === 'response.output_item.done' && ev.item.type === 'function_call') {
        held.delete(local);
        await onMcpCall({ callId: ev.item.call_id, name: ev.item.name, arguments: ev.item.arguments });
      }
      continue; // argument deltas of a held call are not forwarded; the mcp_call carries them
    }
    if (ev.type === 'response.output_item.added') indexOf.set(local, emitter.nextIndex);
    const index = indexOf.get(local);
    if (index === undefined) continue; // an event for an item the model never added: dropped
    await emitter.item({ ...ev, output_index: index } as ItemEvent);
    if (ev.type === 'response.output_item.done') {
      const item = asInput(ev.item);
      if (item) result.items.push(item);
      if (ev.item.type === 'function_call') result.clientCalls++;
    }
  }
  return result;
}
