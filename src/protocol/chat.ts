/**
 * Zod schemas of the OpenAI Chat Completions request (OpenAI API reference; the field list is openai-node's `ChatCompletionCreateParams`), as the gateway accepts it.
 */
import { z } from 'zod';
import { splitUnknown, type Passthrough } from './passthrough.ts';
import { FUNCTION_NAME, McpTool } from './responses.ts';

const nullish = <T extends z.ZodType>(t: T) => t.nullish();

/**
 * Anthropic's prompt caching marker as LiteLLM takes it on a Chat message or content part (LiteLLM docs,
 * "Prompt Caching"; Anthropic's prompt caching guide: `ttl` is `5m` or `1h`). Not part of OpenAI's Chat API.
 */
const CacheControl = nullish(z.looseObject({ type: z.literal('ephemeral'), ttl: z.string().optional() }));
export type ChatCacheControl = z.infer<typeof CacheControl>;

const TextPart = z.object({ type: z.literal('text'), text: z.string(), cache_control: CacheControl });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.enum(['low', 'high', 'auto']).optional() }),
  cache_control: CacheControl,
});
const FilePart = z.object({
  type: z.literal('file'),
  file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
  cache_control: CacheControl,
});
const AudioPart = z.object({ type: z.literal('input_audio'), input_audio: z.object({ data: z.string(), format: z.string() }) });
const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
export const ChatContentPart = z.discriminatedUnion('type', [TextPart, ImagePart, FilePart, AudioPart, RefusalPart]);
export type ChatContentPart = z.infer<typeof ChatContentPart>;

const TextOnly = z.union([z.string(), z.array(TextPart)]);

export const ChatToolCall = z.discriminatedUnion('type', [
  z.object({ id: z.string().min(1), type: z.literal('function'), function: z.object({ name: z.string().min(1), arguments: z.string() }) }),
  z.object({ id: z.string().min(1), type: z.literal('custom'), custom: z.object({ name: z.string().min(1), input: z.string() }) }),
]);
export type ChatToolCall = z.infer<typeof ChatToolCall>;

/**
 * A `cache_control` on a message marks its last content part. An assistant's markers (on the message or
 * its parts) are accepted and ignored: the canonical output text has no breakpoint.
 */
export const ChatMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: TextOnly, name: z.string().optional(), cache_control: CacheControl }),
  z.object({ role: z.literal('developer'), content: TextOnly, name: z.string().optional(), cache_control: CacheControl }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(ChatContentPart)]),
    name: z.string().optional(),
    cache_control: CacheControl,
  }),
  z.object({
    role: z.literal('assistant'),
    content: nullish(z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPart, RefusalPart]))])),
    refusal: nullish(z.string()),
    tool_calls: nullish(z.array(ChatToolCall)),
    /** Deprecated form of one tool call. */
    function_call: nullish(z.object({ name: z.string().min(1), arguments: z.string() })),
    audio: nullish(z.object({ id: z.string() })),
    name: z.string().optional(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: TextOnly, cache_control: CacheControl }),
  /** Deprecated: the result of an assistant `function_call`. */
  z.object({ role: z.literal('function'), name: z.string().min(1), content: nullish(z.string()) }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

const FunctionDefinition = z.object({
  name: z.string().regex(FUNCTION_NAME, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: nullish(z.boolean()),
});

export const ChatFunctionTool = z.object({ type: z.literal('function'), function: FunctionDefinition });
export const ChatCustomTool = z.object({
  type: z.literal('custom'),
  custom: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }),
        z.object({ type: z.literal('grammar'), grammar: z.object({ definition: z.string(), syntax: z.string() }) }),
      ])
      .optional(),
  }),
});

export const ChatToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
  z.object({ type: z.literal('custom'), custom: z.object({ name: z.string() }) }),
  z.object({
    type: z.literal('allowed_tools'),
    allowed_tools: z.object({ mode: z.enum(['auto', 'required']), tools: z.array(z.record(z.string(), z.unknown())) }),
  }),
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

/**
 * Chat-only knobs with no Responses field; carried to Chat providers (and `stop` to Anthropic). `n` above
 * 1, `audio` and audio `modalities` are accepted but never served: the gateway answers with one text choice.
 */
export const ChatExtras = z.object({
  stop: nullish(z.union([z.string(), z.array(z.string()).max(4)])),
  seed: nullish(z.int()),
  presence_penalty: nullish(z.number().min(-2).max(2)),
  frequency_penalty: nullish(z.number().min(-2).max(2)),
  logit_bias: nullish(z.record(z.string(), z.number())),
  prediction: nullish(z.looseObject({ type: z.string(), content: z.union([z.string(), z.array(TextPart)]) })),
  web_search_options: nullish(z.looseObject({})),
  /** OpenAI's stored completions (distillation, evals): not the gateway's storage. */
  store: nullish(z.boolean()),
  n: nullish(z.int().min(1).max(128)),
  audio: nullish(z.looseObject({})),
  modalities: nullish(z.array(z.string())),
});
export type ChatExtras = z.infer<typeof ChatExtras>;

/** Every field of openai-node's `ChatCompletionCreateParams` (7.57). Fields not listed here are passed through. */
const requestFields = {
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  /** Function and custom tools, and MCP tools in the Responses form (run by the gateway; require_approval must be "never"). */
  tools: nullish(z.array(z.discriminatedUnion('type', [ChatFunctionTool, ChatCustomTool, McpTool]))),
  tool_choice: nullish(ChatToolChoice),
  /** Deprecated forms of `tools` and `tool_choice`. */
  functions: nullish(z.array(FunctionDefinition.omit({ strict: true }))),
  function_call: nullish(z.union([z.enum(['none', 'auto']), z.object({ name: z.string() })])),
  parallel_tool_calls: nullish(z.boolean()),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })),
  max_tokens: nullish(z.int().positive()),
  max_completion_tokens: nullish(z.int().positive()),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.int().min(0).max(20)),
  response_format: nullish(ChatResponseFormat),
  reasoning_effort: nullish(z.string()),
  verbosity: nullish(z.enum(['low', 'medium', 'high'])),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  user: nullish(z.string()),
  safety_identifier: nullish(z.string()),
  prompt_cache_key: nullish(z.string()),
  prompt_cache_retention: nullish(z.string()),
  prompt_cache_options: nullish(z.looseObject({ mode: nullish(z.string()), ttl: nullish(z.string()) })),
  service_tier: nullish(z.string()),
  moderation: nullish(z.looseObject({ model: z.string(), policy: nullish(z.looseObject({})) })),
  ...ChatExtras.shape,
};
const KNOWN_REQUEST_FIELDS = new Set(Object.keys(requestFields));
const RequestFields = z.object(requestFields);

/** A Chat Completions request; fields the gateway does not know are moved to `passthrough`. */
export const ChatRequest = z.looseObject(requestFields).transform((r) => splitUnknown<z.infer<typeof RequestFields>>(r, KNOWN_REQUEST_FIELDS, 'openai-chat'));
export type ChatRequest = z.infer<typeof RequestFields> & { passthrough?: Passthrough };

// ---- what the gateway sends back --------------------------------------------------

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';
