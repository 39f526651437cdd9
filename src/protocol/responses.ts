/**
 * Zod schemas of the OpenAI Responses API wire types that the gateway accepts.
 * This is the canonical internal form: every other wire form converts to and from it.
 */
import { z } from 'zod';

const nullish = <T extends z.ZodType>(t: T) => t.nullish();

// ---- content parts -------------------------------------------------------

export const InputTextPart = z.object({ type: z.literal('input_text'), text: z.string() });
export const InputImagePart = z.object({
  type: z.literal('input_image'),
  image_url: nullish(z.string()),
  file_id: nullish(z.string()),
  detail: z.enum(['low', 'high', 'auto', 'original']).nullish(),
});
export const InputFilePart = z.object({
  type: z.literal('input_file'),
  file_data: nullish(z.string()),
  file_id: nullish(z.string()),
  file_url: nullish(z.string()),
  filename: nullish(z.string()),
});
export const OutputTextPart = z.object({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.unknown()).default([]),
  logprobs: z.array(z.unknown()).optional(),
});
export const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

export const ContentPart = z.discriminatedUnion('type', [
  InputTextPart,
  InputImagePart,
  InputFilePart,
  OutputTextPart,
  RefusalPart,
]);
export type ContentPart = z.infer<typeof ContentPart>;

// ---- items ---------------------------------------------------------------

export const Role = z.enum(['user', 'assistant', 'system', 'developer']);

export const MessageItem = z.object({
  type: z.literal('message'),
  id: nullish(z.string()),
  role: Role,
  content: z.union([z.string(), z.array(ContentPart)]),
  status: nullish(z.enum(['in_progress', 'completed', 'incomplete'])),
});
export type MessageItem = z.infer<typeof MessageItem>;

export const FunctionCallItem = z.object({
  type: z.literal('function_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: nullish(z.enum(['in_progress', 'completed', 'incomplete'])),
});
export type FunctionCallItem = z.infer<typeof FunctionCallItem>;

export const FunctionCallOutputItem = z.object({
  type: z.literal('function_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion('type', [InputTextPart, InputImagePart, InputFilePart]))]),
  status: nullish(z.enum(['in_progress', 'completed', 'incomplete'])),
});
export type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItem>;

export const ReasoningItem = z.object({
  type: z.literal('reasoning'),
  id: nullish(z.string()),
  summary: z.array(z.object({ type: z.literal('summary_text'), text: z.string() })).default([]),
  content: nullish(z.array(z.object({ type: z.literal('reasoning_text'), text: z.string() }))),
  encrypted_content: nullish(z.string()),
  status: nullish(z.enum(['in_progress', 'completed', 'incomplete'])),
});
export type ReasoningItem = z.infer<typeof ReasoningItem>;

export const McpToolDescriptor = z.object({
  name: z.string(),
  description: nullish(z.string()),
  input_schema: z.unknown(),
  annotations: nullish(z.unknown()),
});

export const McpListToolsItem = z.object({
  type: z.literal('mcp_list_tools'),
  id: z.string(),
  server_label: z.string(),
  tools: z.array(McpToolDescriptor),
  error: nullish(z.string()),
});
export type McpListToolsItem = z.infer<typeof McpListToolsItem>;

export const McpCallError = z.union([
  z.string(),
  z.object({ type: z.literal('mcp_protocol_error'), code: z.number(), message: z.string() }),
  z.object({ type: z.literal('mcp_tool_execution_error'), content: z.unknown() }),
  z.object({ type: z.literal('http_error'), code: z.number(), message: z.string() }),
]);

export const McpCallItem = z.object({
  type: z.literal('mcp_call'),
  id: z.string(),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
  output: nullish(z.string()),
  error: nullish(McpCallError),
  status: nullish(z.enum(['in_progress', 'completed', 'incomplete', 'calling', 'failed'])),
  approval_request_id: nullish(z.string()),
});
export type McpCallItem = z.infer<typeof McpCallItem>;

export const McpApprovalRequestItem = z.object({
  type: z.literal('mcp_approval_request'),
  id: z.string(),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
});
export type McpApprovalRequestItem = z.infer<typeof McpApprovalRequestItem>;

export const McpApprovalResponseItem = z.object({
  type: z.literal('mcp_approval_response'),
  id: nullish(z.string()),
  approval_request_id: z.string().min(1),
  approve: z.boolean(),
  reason: nullish(z.string()),
});
export type McpApprovalResponseItem = z.infer<typeof McpApprovalResponseItem>;

export const ItemReference = z.object({ type: z.literal('item_reference'), id: z.string().min(1) });

/** An input item; a bare `{role, content}` is a message, as the API allows. */
export const InputItem = z.preprocess(
  (v) => (v && typeof v === 'object' && !('type' in v) && 'role' in v ? { ...v, type: 'message' } : v),
  z.discriminatedUnion('type', [
    MessageItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    ReasoningItem,
    McpListToolsItem,
    McpCallItem,
    McpApprovalRequestItem,
    McpApprovalResponseItem,
    ItemReference,
  ]),
);
export type InputItem = z.infer<typeof InputItem>;

/** Items that appear in `response.output`. */
export type OutputItem =
  | MessageItem
  | FunctionCallItem
  | ReasoningItem
  | McpListToolsItem
  | McpCallItem
  | McpApprovalRequestItem;

// ---- tools ---------------------------------------------------------------

export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export const FunctionTool = z.object({
  type: z.literal('function'),
  name: z.string().regex(FUNCTION_NAME, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: nullish(z.string()),
  parameters: nullish(z.record(z.string(), z.unknown())),
  strict: nullish(z.boolean()),
});
export type FunctionTool = z.infer<typeof FunctionTool>;

export const McpToolFilter = z.strictObject({
  tool_names: z.array(z.string()).optional(),
  read_only: z.boolean().optional(),
});
export type McpToolFilter = z.infer<typeof McpToolFilter>;

export const McpTool = z.object({
  type: z.literal('mcp'),
  server_label: z.string().min(1),
  server_url: z.string().min(1).optional(),
  connector_id: z.string().optional(),
  authorization: z.string().optional(),
  headers: nullish(z.record(z.string(), z.string())),
  server_description: nullish(z.string()),
  allowed_tools: nullish(z.union([z.array(z.string()), McpToolFilter])),
  require_approval: nullish(
    z.union([
      z.enum(['always', 'never']),
      z.strictObject({ always: McpToolFilter.optional(), never: McpToolFilter.optional() }),
    ]),
  ),
});
export type McpTool = z.infer<typeof McpTool>;

/** Hosted tools (web_search, file_search, ...): only an OpenAI Responses upstream can serve them. */
export const HostedTool = z
  .object({ type: z.string().refine((t) => t !== 'function' && t !== 'mcp') })
  .loose();

export const Tool = z.union([FunctionTool, McpTool, HostedTool]);
export type Tool = z.infer<typeof Tool>;

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string() }),
  z.object({ type: z.literal('mcp'), server_label: z.string(), name: nullish(z.string()) }),
  z.object({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.record(z.string(), z.unknown())),
  }),
  z.object({ type: z.string() }).loose(),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const TextFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    strict: nullish(z.boolean()),
    description: nullish(z.string()),
  }),
]);
export type TextFormat = z.infer<typeof TextFormat>;

// ---- request -------------------------------------------------------------

export const ResponsesRequest = z.strictObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(InputItem)]).optional(),
  instructions: nullish(z.string()),
  tools: nullish(z.array(Tool)),
  tool_choice: nullish(ToolChoice),
  parallel_tool_calls: nullish(z.boolean()),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_obfuscation: z.boolean().optional() })),
  previous_response_id: nullish(z.string()),
  conversation: nullish(z.union([z.string(), z.object({ id: z.string() })])),
  store: nullish(z.boolean()),
  background: nullish(z.boolean()),
  max_output_tokens: nullish(z.int().positive()),
  max_tool_calls: nullish(z.int().positive()),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  top_logprobs: nullish(z.int().min(0).max(20)),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  include: nullish(z.array(z.string())),
  text: nullish(
    z.object({ format: nullish(TextFormat), verbosity: nullish(z.enum(['low', 'medium', 'high'])) }),
  ),
  reasoning: nullish(
    z.object({
      effort: nullish(z.string()),
      summary: nullish(z.enum(['auto', 'concise', 'detailed'])),
      generate_summary: nullish(z.string()),
    }),
  ),
  truncation: nullish(z.enum(['auto', 'disabled'])),
  user: nullish(z.string()),
  safety_identifier: nullish(z.string()),
  prompt_cache_key: nullish(z.string()),
  prompt_cache_retention: nullish(z.string()),
  service_tier: nullish(z.string()),
  prompt: nullish(z.record(z.string(), z.unknown())),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

// ---- usage ---------------------------------------------------------------

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function emptyUsage(): Usage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    input_tokens_details: { cached_tokens: a.input_tokens_details.cached_tokens + b.input_tokens_details.cached_tokens },
    output_tokens: a.output_tokens + b.output_tokens,
    output_tokens_details: {
      reasoning_tokens: a.output_tokens_details.reasoning_tokens + b.output_tokens_details.reasoning_tokens,
    },
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

export function usageOf(input: number, output: number, cached = 0, reasoning = 0): Usage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}
