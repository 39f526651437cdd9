/**
 * Zod schemas of the OpenAI Chat Completions request (openai-wire.md §5), as the gateway accepts it.
 */
import { z } from 'zod';
import { FUNCTION_NAME, McpTool } from './responses.ts';

const nullish = <T extends z.ZodType>(t: T) => t.nullish();

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.enum(['low', 'high', 'auto']).optional() }),
});
const FilePart = z.object({
  type: z.literal('file'),
  file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
});
const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
export const ChatContentPart = z.discriminatedUnion('type', [TextPart, ImagePart, FilePart, RefusalPart]);
export type ChatContentPart = z.infer<typeof ChatContentPart>;

const TextOnly = z.union([z.string(), z.array(TextPart)]);

export const ChatToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

export const ChatMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: TextOnly, name: z.string().optional() }),
  z.object({ role: z.literal('developer'), content: TextOnly, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(ChatContentPart)]), name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: nullish(z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, RefusalPart]))])),
    refusal: nullish(z.string()),
    tool_calls: nullish(z.array(ChatToolCall)),
    name: z.string().optional(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: TextOnly }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatFunctionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(FUNCTION_NAME, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: nullish(z.boolean()),
  }),
});

export const ChatToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

export const ChatResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: nullish(z.boolean()),
      description: z.string().optional(),
    }),
  }),
]);

/** Chat-only sampling knobs with no Responses field; carried to providers that understand them. */
export const ChatExtras = z.object({
  stop: nullish(z.union([z.string(), z.array(z.string()).max(4)])),
  seed: nullish(z.int()),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  logit_bias: nullish(z.record(z.string(), z.number())),
});
export type ChatExtras = z.infer<typeof ChatExtras>;

export const ChatRequest = z.strictObject({
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  /** Function tools, and MCP tools in the Responses form (run by the gateway; require_approval must be "never"). */
  tools: nullish(z.array(z.union([ChatFunctionTool, McpTool]))),
  tool_choice: nullish(ChatToolChoice),
  parallel_tool_calls: nullish(z.boolean()),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })),
  max_tokens: nullish(z.int().positive()),
  max_completion_tokens: nullish(z.int().positive()),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  n: nullish(z.literal(1)),
  response_format: nullish(ChatResponseFormat),
  reasoning_effort: nullish(z.string()),
  verbosity: nullish(z.enum(['low', 'medium', 'high'])),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  store: nullish(z.boolean()),
  user: nullish(z.string()),
  safety_identifier: nullish(z.string()),
  prompt_cache_key: nullish(z.string()),
  service_tier: nullish(z.string()),
  ...ChatExtras.shape,
});
export type ChatRequest = z.infer<typeof ChatRequest>;

// ---- what the gateway sends back --------------------------------------------------

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';
