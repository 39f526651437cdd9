/**
 * What the agent hands a provider: the model-facing part of a Responses request.
 * The gateway keeps ids, storage and conversation state to itself, so `store`, `previous_response_id`,
 * `conversation`, `background` and `mcp` tools never reach a provider.
 */
import type { ChatExtras } from './chat.ts';
import type {
  FunctionCallItem,
  FunctionCallOutputItem,
  FunctionTool,
  MessageItem,
  ReasoningItem,
  ResponsesRequest,
} from './responses.ts';

export type ModelInputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem;

/** A tool the model sees: a function, or a hosted tool only an OpenAI Responses upstream can run. */
export type ModelTool = FunctionTool | { type: string; [k: string]: unknown };

export type ModelRequest = Pick<
  ResponsesRequest,
  | 'tool_choice'
  | 'parallel_tool_calls'
  | 'max_output_tokens'
  | 'temperature'
  | 'top_p'
  | 'top_logprobs'
  | 'text'
  | 'reasoning'
  | 'metadata'
  | 'include'
  | 'truncation'
  | 'user'
  | 'safety_identifier'
  | 'prompt_cache_key'
  | 'service_tier'
> & {
  /** The provider's own model id. */
  model: string;
  instructions: string | null;
  input: ModelInputItem[];
  tools: ModelTool[];
  extras?: ChatExtras;
};

/** Text of a message's content, whatever its form. */
export function contentText(content: MessageItem['content']): string {
  if (typeof content === 'string') return content;
  return content
    .map((p) => (p.type === 'input_text' || p.type === 'output_text' ? p.text : p.type === 'refusal' ? p.refusal : ''))
    .join('');
}
