/**
 * What the agent hands a provider: the model-facing part of a Responses request.
 * The gateway keeps ids, storage and conversation state to itself, so `store`, `previous_response_id`,
 * `conversation`, `background` and `mcp` tools never reach a provider.
 */
import type { ChatExtras } from './chat.ts';
import type { Passthrough } from './passthrough.ts';
import type {
  InputItem,
  ItemReference,
  McpApprovalRequestItem,
  McpApprovalResponseItem,
  McpCallItem,
  McpListToolsItem,
  McpTool,
  MessageItem,
  ResponsesRequest,
  Tool,
  ToolSearchCallItem,
  ToolSearchOutputItem,
  ToolSearchTool,
} from './responses.ts';

/** History as a model reads it: MCP and tool search items are already turned into function calls, references resolved. */
export type ModelInputItem = Exclude<
  InputItem,
  McpListToolsItem | McpCallItem | McpApprovalRequestItem | McpApprovalResponseItem | ItemReference | ToolSearchCallItem | ToolSearchOutputItem
>;

/** A tool the model sees: a function, a tool the client runs, or a tool OpenAI hosts. */
export type ModelTool = Exclude<Tool, McpTool | ToolSearchTool>;

/** The request fields that reach a provider as they are (each converter maps or drops them). */
export const MODEL_PARAMS = [
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'top_logprobs',
  'text',
  'reasoning',
  'metadata',
  'include',
  'truncation',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'service_tier',
  'prompt',
  'context_management',
  'moderation',
  'access_programs',
  'image',
] as const satisfies readonly (keyof ResponsesRequest)[];

export type ModelParams = Pick<ResponsesRequest, (typeof MODEL_PARAMS)[number]>;

export type ModelRequest = ModelParams & {
  /** The provider's own model id. */
  model: string;
  instructions: string | null;
  input: ModelInputItem[];
  tools: ModelTool[];
  extras?: ChatExtras;
  /** Top-level fields the gateway does not know, for an upstream of the client's own API. */
  passthrough?: Passthrough;
};

/** The request's model-facing fields that are set. */
export function modelParams(req: ModelParams): ModelParams {
  const out: Record<string, unknown> = {};
  for (const k of MODEL_PARAMS) if (req[k] != null) out[k] = req[k];
  return out as ModelParams;
}

/** Text of a message's content, whatever its form. */
export function contentText(content: MessageItem['content']): string {
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'input_text' || p.type === 'output_text' ? p.text : p.type === 'refusal' ? p.refusal : '')).join('');
}

/** A `data:` URL with base64 content: its media type and data. */
export const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/**
 * A function call's arguments as the object providers that take structured input want: `{}` when empty,
 * a non-object JSON value as `{value}`, text that is not JSON as `{_raw}` (the call is replayed, not refused).
 */
export function argumentsObject(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v = JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : { value: v };
  } catch {
    return { _raw: args };
  }
}

/**
 * The mark on a reasoning item's `encrypted_content` that holds a Gemini thought signature: only Gemini can
 * read it, so other upstreams that replay encrypted reasoning (OpenAI Responses) leave it out.
 */
export const GEMINI_SIGNATURE_MARK = 'gemini:';
