/**
 * Responses API stream events (OpenAI API reference: Responses streaming), the gateway's canonical event form.
 * Providers yield `ModelEvent`s: the item-scoped events of one model call, indexed from 0 for that call.
 * Each event is built once, in its wire form (`type` and `sequence_number` first, as OpenAI writes them);
 * the agent re-bases `output_index` and sets `sequence_number` in place as it emits it.
 */
import type { ResponseError } from './errors.ts';
import type { OutputItem, Usage } from './responses.ts';

export interface OutputTextPartShape {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}
export interface RefusalPartShape {
  type: 'refusal';
  refusal: string;
}
export type OutputPart = OutputTextPartShape | RefusalPartShape;

interface Indexed {
  sequence_number: number;
  output_index: number;
}
interface ItemScoped extends Indexed {
  item_id: string;
}
interface PartScoped extends ItemScoped {
  content_index: number;
}

export type ItemEvent =
  | ({ type: 'response.output_item.added'; item: OutputItem } & Indexed)
  | ({ type: 'response.output_item.done'; item: OutputItem } & Indexed)
  | ({ type: 'response.content_part.added'; part: OutputPart } & PartScoped)
  | ({ type: 'response.content_part.done'; part: OutputPart } & PartScoped)
  | ({ type: 'response.output_text.delta'; delta: string; logprobs: unknown[] } & PartScoped)
  | ({ type: 'response.output_text.done'; text: string; logprobs: unknown[] } & PartScoped)
  | ({ type: 'response.refusal.delta'; delta: string } & PartScoped)
  | ({ type: 'response.refusal.done'; refusal: string } & PartScoped)
  | ({ type: 'response.function_call_arguments.delta'; delta: string } & ItemScoped)
  | ({ type: 'response.function_call_arguments.done'; arguments: string; name: string } & ItemScoped)
  | ({ type: 'response.reasoning_summary_part.added'; summary_index: number; part: { type: 'summary_text'; text: string } } & ItemScoped)
  | ({ type: 'response.reasoning_summary_part.done'; summary_index: number; part: { type: 'summary_text'; text: string } } & ItemScoped)
  | ({ type: 'response.reasoning_summary_text.delta'; summary_index: number; delta: string } & ItemScoped)
  | ({ type: 'response.reasoning_summary_text.done'; summary_index: number; text: string } & ItemScoped)
  | ({ type: 'response.reasoning_text.delta'; content_index: number; delta: string } & ItemScoped)
  | ({ type: 'response.reasoning_text.done'; content_index: number; text: string } & ItemScoped)
  | ({ type: 'response.mcp_list_tools.in_progress' } & ItemScoped)
  | ({ type: 'response.mcp_list_tools.completed' } & ItemScoped)
  | ({ type: 'response.mcp_list_tools.failed' } & ItemScoped)
  | ({ type: 'response.mcp_call.in_progress' } & ItemScoped)
  | ({ type: 'response.mcp_call.completed' } & ItemScoped)
  | ({ type: 'response.mcp_call.failed' } & ItemScoped)
  | ({ type: 'response.mcp_call_arguments.delta'; delta: string } & ItemScoped)
  | ({ type: 'response.mcp_call_arguments.done'; arguments: string } & ItemScoped)
  | ({ type: 'response.custom_tool_call_input.delta'; delta: string } & ItemScoped)
  | ({ type: 'response.custom_tool_call_input.done'; input: string } & ItemScoped);

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'cancelled' | 'queued' | 'incomplete';

/** The Response object as the API returns it (OpenAI API reference: the response object). */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: boolean;
  error: ResponseError | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: unknown; verbosity: string };
  tool_choice: unknown;
  tools: unknown[];
  top_logprobs: number;
  top_p: number;
  truncation: string;
  usage: Usage | null;
  user: string | null;
  metadata: Record<string, string>;
}

export interface LifecycleEvent {
  type: 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete' | 'response.failed';
  sequence_number: number;
  response: ResponseObject;
}

/** An event as it goes on the wire. */
export type StreamEvent = ItemEvent | LifecycleEvent;

/** The last event of every model call: how it ended, and what it cost. */
export interface ModelEnd {
  type: 'model.end';
  status: 'completed' | 'incomplete';
  incomplete_reason?: 'max_output_tokens' | 'content_filter';
  usage: Usage;
}

export type ModelEvent = ItemEvent | ModelEnd;

/** A model call made without streaming: its finished output items, and how it ended. */
export interface ModelOutput {
  items: OutputItem[];
  end: ModelEnd;
}

export type TerminalStatus = 'completed' | 'incomplete' | 'failed';
