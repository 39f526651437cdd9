/**
 * Zod schemas of the OpenAI Responses API wire types that the gateway accepts.
 * This is the canonical internal form: every other wire form converts to and from it.
 */
import { z } from 'zod';
import { dispatch, openUnion } from './open-union.ts';
import { splitUnknown, type Passthrough } from './passthrough.ts';

const nullish = <T extends z.ZodType>(t: T) => t.nullish();

// Items, tools and config objects are loose: keys the gateway does not know are kept for an OpenAI
// Responses upstream, and ignored by the converters to other APIs.

// ---- content parts -------------------------------------------------------

const CacheBreakpoint = z.looseObject({ mode: z.string(), ttl: z.string().optional() }).optional();

export const InputTextPart = z.object({ type: z.literal('input_text'), text: z.string(), prompt_cache_breakpoint: CacheBreakpoint });
export const InputImagePart = z.object({
  type: z.literal('input_image'),
  image_url: nullish(z.string()),
  file_id: nullish(z.string()),
  detail: z.enum(['low', 'high', 'auto', 'original']).nullish(),
  prompt_cache_breakpoint: CacheBreakpoint,
});
export const InputFilePart = z.object({
  type: z.literal('input_file'),
  file_data: nullish(z.string()),
  file_id: nullish(z.string()),
  file_url: nullish(z.string()),
  filename: nullish(z.string()),
  detail: nullish(z.enum(['low', 'high', 'auto'])),
  prompt_cache_breakpoint: CacheBreakpoint,
});
/** Audio input: Chat's `input_audio` part, kept for upstreams that take it. */
export const InputAudioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
export const OutputTextPart = z.object({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.unknown()).default([]),
  logprobs: z.array(z.unknown()).optional(),
});
export const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

export const ContentPart = z.discriminatedUnion('type', [InputTextPart, InputImagePart, InputFilePart, InputAudioPart, OutputTextPart, RefusalPart]);
export type ContentPart = z.infer<typeof ContentPart>;

/** What a tool's output may hold besides text. */
export const ToolOutput = z.union([z.string(), z.array(z.discriminatedUnion('type', [InputTextPart, InputImagePart, InputFilePart]))]);
export type ToolOutput = z.infer<typeof ToolOutput>;

// ---- items ---------------------------------------------------------------

export const Role = z.enum(['user', 'assistant', 'system', 'developer']);
const ItemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

export const MessageItem = z.looseObject({
  type: z.literal('message'),
  id: nullish(z.string()),
  role: Role,
  content: z.union([z.string(), z.array(ContentPart)]),
  status: nullish(ItemStatus),
});
export type MessageItem = z.infer<typeof MessageItem>;

export const FunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  /** Set when the function belongs to a `namespace` tool: `name` is then the function's own name. */
  namespace: z.string().optional(),
  status: nullish(ItemStatus),
});
export type FunctionCallItem = z.infer<typeof FunctionCallItem>;

export const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: ToolOutput,
  status: nullish(ItemStatus),
});
export type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItem>;

export const ReasoningItem = z.looseObject({
  type: z.literal('reasoning'),
  id: nullish(z.string()),
  summary: z.array(z.object({ type: z.literal('summary_text'), text: z.string() })).default([]),
  content: nullish(z.array(z.object({ type: z.literal('reasoning_text'), text: z.string() }))),
  /** Only the upstream that produced it can read it: replayed to OpenAI Responses upstreams alone. */
  encrypted_content: nullish(z.string()),
  status: nullish(ItemStatus),
});
export type ReasoningItem = z.infer<typeof ReasoningItem>;

// Calls of tools the client runs itself, and the client's outputs for them (openai-node's
// ResponseCustomToolCall, ResponseInputItem.LocalShellCall, ShellCall, ApplyPatchCall, ...).

export const CustomToolCallItem = z.looseObject({
  type: z.literal('custom_tool_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  name: z.string().min(1),
  input: z.string(),
  namespace: z.string().optional(),
});
export type CustomToolCallItem = z.infer<typeof CustomToolCallItem>;

export const CustomToolCallOutputItem = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: ToolOutput,
});
export type CustomToolCallOutputItem = z.infer<typeof CustomToolCallOutputItem>;

export const LocalShellCallItem = z.looseObject({
  type: z.literal('local_shell_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  action: z.looseObject({
    type: z.literal('exec'),
    command: z.array(z.string()),
    env: z.record(z.string(), z.string()).default({}),
    timeout_ms: nullish(z.int()),
    user: nullish(z.string()),
    working_directory: nullish(z.string()),
  }),
  status: nullish(ItemStatus),
});
export type LocalShellCallItem = z.infer<typeof LocalShellCallItem>;

/** openai-node names the call by `id`; OpenAI's guide sends `call_id`: either is accepted. */
export const LocalShellCallOutputItem = z
  .looseObject({
    type: z.literal('local_shell_call_output'),
    id: nullish(z.string()),
    call_id: nullish(z.string()),
    output: z.string(),
    status: nullish(ItemStatus),
  })
  .refine((i) => i.call_id || i.id, { message: 'a local_shell_call_output needs the call_id (or id) of its call', path: ['call_id'] });
export type LocalShellCallOutputItem = z.infer<typeof LocalShellCallOutputItem>;

export const ShellCallItem = z.looseObject({
  type: z.literal('shell_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  action: z.looseObject({ commands: z.array(z.string()), max_output_length: nullish(z.int()), timeout_ms: nullish(z.int()) }),
  environment: nullish(z.looseObject({ type: z.string() })),
  status: nullish(ItemStatus),
});
export type ShellCallItem = z.infer<typeof ShellCallItem>;

export const ShellCallOutputItem = z.looseObject({
  type: z.literal('shell_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: z.array(
    z.looseObject({
      stdout: z.string(),
      stderr: z.string(),
      outcome: z.discriminatedUnion('type', [z.looseObject({ type: z.literal('timeout') }), z.looseObject({ type: z.literal('exit'), exit_code: z.int() })]),
    }),
  ),
  max_output_length: nullish(z.int()),
  status: nullish(ItemStatus),
});
export type ShellCallOutputItem = z.infer<typeof ShellCallOutputItem>;

export const ApplyPatchCallItem = z.looseObject({
  type: z.literal('apply_patch_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  operation: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('create_file'), path: z.string(), diff: z.string() }),
    z.looseObject({ type: z.literal('update_file'), path: z.string(), diff: z.string() }),
    z.looseObject({ type: z.literal('delete_file'), path: z.string() }),
  ]),
  status: nullish(ItemStatus),
});
export type ApplyPatchCallItem = z.infer<typeof ApplyPatchCallItem>;

export const ApplyPatchCallOutputItem = z.looseObject({
  type: z.literal('apply_patch_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  status: z.enum(['completed', 'failed']),
  output: nullish(z.string()),
});
export type ApplyPatchCallOutputItem = z.infer<typeof ApplyPatchCallOutputItem>;

const ComputerAction = z.looseObject({ type: z.string() });
export const ComputerCallItem = z.looseObject({
  type: z.literal('computer_call'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  /** `computer_use_preview`: one action per call. */
  action: ComputerAction.optional(),
  /** `computer`: a batch of actions. */
  actions: z.array(ComputerAction).optional(),
  pending_safety_checks: z.array(z.unknown()).default([]),
  status: nullish(ItemStatus),
});
export type ComputerCallItem = z.infer<typeof ComputerCallItem>;

export const ComputerCallOutputItem = z.looseObject({
  type: z.literal('computer_call_output'),
  id: nullish(z.string()),
  call_id: z.string().min(1),
  output: z.looseObject({ type: z.literal('computer_screenshot'), image_url: z.string().optional(), file_id: z.string().optional() }),
  acknowledged_safety_checks: nullish(z.array(z.unknown())),
  status: nullish(ItemStatus),
});
export type ComputerCallOutputItem = z.infer<typeof ComputerCallOutputItem>;

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
/** `mcp_call.error` as the gateway sets it: always the tagged form (a string is accepted in input only). */
export type McpCallError = Exclude<z.infer<typeof McpCallError>, string>;

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
export type ItemReference = z.infer<typeof ItemReference>;

// ---- tools ---------------------------------------------------------------

export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export const FunctionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().regex(FUNCTION_NAME, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
  description: nullish(z.string()),
  parameters: nullish(z.record(z.string(), z.unknown())),
  strict: nullish(z.boolean()),
  /** Not offered to the model until a tool search loads it. */
  defer_loading: nullish(z.boolean()),
});
export type FunctionTool = z.infer<typeof FunctionTool>;

/** A tool that takes free-form text (`input`) rather than JSON arguments. */
export const CustomTool = z.looseObject({
  type: z.literal('custom'),
  name: z.string().min(1),
  description: nullish(z.string()),
  format: nullish(
    z.discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('grammar'), syntax: z.string(), definition: z.string() }),
    ]),
  ),
  defer_loading: nullish(z.boolean()),
});
export type CustomTool = z.infer<typeof CustomTool>;

/** A named group of functions (and custom tools); their calls come back with `namespace` set. */
export const NamespaceTool = z.looseObject({
  type: z.literal('namespace'),
  name: z.string().min(1),
  description: nullish(z.string()),
  tools: z.array(
    z.discriminatedUnion('type', [
      z.looseObject({
        type: z.literal('function'),
        name: z.string().min(1),
        description: nullish(z.string()),
        parameters: nullish(z.record(z.string(), z.unknown())),
        strict: nullish(z.boolean()),
        defer_loading: nullish(z.boolean()),
      }),
      CustomTool,
    ]),
  ),
});
export type NamespaceTool = z.infer<typeof NamespaceTool>;

export const LocalShellTool = z.looseObject({ type: z.literal('local_shell') });
/** `environment` local (or none): the client runs the commands; a container: OpenAI does. */
export const ShellTool = z.looseObject({ type: z.literal('shell'), environment: nullish(z.looseObject({ type: z.string() })) });
export const ApplyPatchTool = z.looseObject({ type: z.literal('apply_patch') });
export const ComputerUsePreviewTool = z.looseObject({
  type: z.literal('computer_use_preview'),
  display_width: z.number(),
  display_height: z.number(),
  environment: z.string(),
});
export const ComputerTool = z.looseObject({ type: z.literal('computer') });

export const McpToolFilter = z.strictObject({
  tool_names: z.array(z.string()).optional(),
  read_only: z.boolean().optional(),
});
export type McpToolFilter = z.infer<typeof McpToolFilter>;

/** What may go upstream as an HTTP header: a field name (RFC 9110 token), a value without CR, LF or NUL. */
const HeaderValue = z.string().regex(/^[^\r\n\0]*$/, 'a header value cannot hold CR, LF or NUL');
const HeaderMap = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), HeaderValue, {
  error: (issue) => (issue.code === 'invalid_key' ? 'not a valid HTTP header name' : undefined),
});
/** Credentials belong in `headers` or `authorization`: fetch refuses URLs holding them, and the URL is stored and logged. */
const hasNoCredentials = (url: string) => {
  const u = URL.parse(url);
  return !u || (!u.username && !u.password);
};

export const McpTool = z.object({
  type: z.literal('mcp'),
  server_label: z.string().min(1),
  server_url: z.string().min(1).refine(hasNoCredentials, 'credentials go in headers or authorization, not in the URL').optional(),
  connector_id: z.string().optional(),
  authorization: HeaderValue.optional(),
  headers: nullish(HeaderMap),
  server_description: nullish(z.string()),
  allowed_tools: nullish(z.union([z.array(z.string()), McpToolFilter])),
  require_approval: nullish(z.union([z.enum(['always', 'never']), z.strictObject({ always: McpToolFilter.optional(), never: McpToolFilter.optional() })])),
  /** The server's tools are not offered to the model until a tool search loads them (absent: the server's default). */
  defer_loading: z.boolean().optional(),
});
export type McpTool = z.infer<typeof McpTool>;

/**
 * Tools OpenAI runs (web_search, file_search, code_interpreter, image_generation, tool_search, ...) and
 * any tool type newer than this list: only an OpenAI Responses upstream can serve them. The type names
 * openai-node's current ones so that narrowing on `type` keeps working; any other type parses too.
 */
export type HostedToolType =
  | 'file_search'
  | 'web_search'
  | 'web_search_2025_08_26'
  | 'web_search_preview'
  | 'web_search_preview_2025_03_11'
  | 'code_interpreter'
  | 'image_generation'
  | 'programmatic_tool_calling';
export const HostedTool = z.looseObject({ type: z.string() as z.ZodType<HostedToolType> });
export type HostedTool = z.infer<typeof HostedTool>;

/**
 * A search over the request's deferred tools. `server` (the default): the gateway runs it, whatever the
 * model; `client`: the model's call goes back to the client, which answers with a `tool_search_output`.
 */
export const ToolSearchTool = z.looseObject({
  type: z.literal('tool_search'),
  execution: nullish(z.enum(['server', 'client'])),
  description: nullish(z.string()),
  parameters: nullish(z.record(z.string(), z.unknown())),
});
export type ToolSearchTool = z.infer<typeof ToolSearchTool>;

const KnownTool = z.discriminatedUnion('type', [
  ToolSearchTool,
  FunctionTool,
  McpTool,
  CustomTool,
  NamespaceTool,
  LocalShellTool,
  ShellTool,
  ApplyPatchTool,
  ComputerUsePreviewTool,
  ComputerTool,
]);
export const Tool = openUnion(KnownTool, HostedTool);
export type Tool = z.infer<typeof Tool>;

/** A model's search for deferred tools (openai-node's `ResponseToolSearchCall`). */
export const ToolSearchCallItem = z.looseObject({
  type: z.literal('tool_search_call'),
  id: nullish(z.string()),
  call_id: nullish(z.string()),
  arguments: z.unknown(),
  execution: nullish(z.enum(['server', 'client'])),
  status: nullish(ItemStatus),
  created_by: z.string().optional(),
});
export type ToolSearchCallItem = z.infer<typeof ToolSearchCallItem>;

/** The tools a search loaded (openai-node's `ResponseToolSearchOutputItem`): from then on they are offered to the model. */
export const ToolSearchOutputItem = z.looseObject({
  type: z.literal('tool_search_output'),
  id: nullish(z.string()),
  call_id: nullish(z.string()),
  execution: nullish(z.enum(['server', 'client'])),
  status: nullish(ItemStatus),
  tools: z.array(Tool),
  created_by: z.string().optional(),
});
export type ToolSearchOutputItem = z.infer<typeof ToolSearchOutputItem>;

/**
 * Items of tools OpenAI runs (web search, file search, code interpreter, ...) and any item type newer
 * than this list: carried as they are to OpenAI Responses upstreams, skipped for the others. The type
 * names openai-node's current ones so that narrowing on `type` keeps working; any other type parses too.
 */
export type HostedItemType =
  | 'file_search_call'
  | 'web_search_call'
  | 'image_generation_call'
  | 'code_interpreter_call'
  | 'additional_tools'
  | 'configuration_update'
  | 'compaction'
  | 'compaction_trigger'
  | 'program'
  | 'program_output';
export const HostedItem = z.looseObject({ type: z.string() as z.ZodType<HostedItemType>, id: nullish(z.string()) });
export type HostedItem = z.infer<typeof HostedItem>;

const KnownInputItem = z.discriminatedUnion('type', [
  MessageItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  ReasoningItem,
  CustomToolCallItem,
  CustomToolCallOutputItem,
  LocalShellCallItem,
  LocalShellCallOutputItem,
  ShellCallItem,
  ShellCallOutputItem,
  ApplyPatchCallItem,
  ApplyPatchCallOutputItem,
  ComputerCallItem,
  ComputerCallOutputItem,
  McpListToolsItem,
  McpCallItem,
  McpApprovalRequestItem,
  McpApprovalResponseItem,
  ItemReference,
  ToolSearchCallItem,
  ToolSearchOutputItem,
]);

/** An input item; a bare `{role, content}` is a message and a bare `{id}` an item reference, as the API allows. */
export const InputItem = z.preprocess(
  (v) => {
    if (!v || typeof v !== 'object' || (v as { type?: unknown }).type != null) return v;
    if ('role' in v) return { ...v, type: 'message' };
    if ('id' in v) return { ...v, type: 'item_reference' };
    return v;
  },
  openUnion(KnownInputItem, HostedItem),
);
export type InputItem = z.infer<typeof InputItem>;

/** Calls of tools the client runs: they end the response, and the client answers with their outputs. */
export type ClientCallItem = FunctionCallItem | CustomToolCallItem | LocalShellCallItem | ShellCallItem | ApplyPatchCallItem | ComputerCallItem;

/** Items that appear in `response.output`. */
export type OutputItem =
  | MessageItem
  | ReasoningItem
  | ClientCallItem
  | McpListToolsItem
  | McpCallItem
  | McpApprovalRequestItem
  | ToolSearchCallItem
  | ToolSearchOutputItem
  | HostedItem;

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string() }),
  z.object({ type: z.literal('custom'), name: z.string() }),
  z.object({ type: z.literal('mcp'), server_label: z.string(), name: nullish(z.string()) }),
  z.object({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.record(z.string(), z.unknown())),
  }),
  // apply_patch, shell, hosted tool types, ...
  z.object({ type: z.string() }).loose(),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const TextFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    strict: nullish(z.boolean()),
    description: nullish(z.string()),
  }),
]);
export type TextFormat = z.infer<typeof TextFormat>;

// ---- request -------------------------------------------------------------

/** Every field of openai-node's `ResponseCreateParams` (7.57). Fields not listed here are passed through. */
const requestFields = {
  model: z.string().min(1),
  input: dispatch<string | InputItem[]>((v) => (typeof v === 'string' ? z.string() : z.array(InputItem))).optional(),
  instructions: nullish(z.string()),
  tools: nullish(z.array(Tool)),
  tool_choice: nullish(ToolChoice),
  parallel_tool_calls: nullish(z.boolean()),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.looseObject({ include_obfuscation: z.boolean().optional() })),
  previous_response_id: nullish(z.string()),
  conversation: nullish(z.union([z.string(), z.looseObject({ id: z.string() })])),
  store: nullish(z.boolean()),
  background: nullish(z.boolean()),
  max_output_tokens: nullish(z.int().positive()),
  max_tool_calls: nullish(z.int().positive()),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().min(0).max(1)),
  top_logprobs: nullish(z.int().min(0).max(20)),
  metadata: nullish(z.record(z.string().max(64), z.string().max(512))),
  /** Every value is accepted (`reasoning.encrypted_content`, `message.output_text.logprobs`, ...). */
  include: nullish(z.array(z.string())),
  text: nullish(z.looseObject({ format: nullish(TextFormat), verbosity: nullish(z.enum(['low', 'medium', 'high'])) })),
  reasoning: nullish(
    z.looseObject({
      effort: nullish(z.string()),
      summary: nullish(z.enum(['auto', 'concise', 'detailed'])),
      generate_summary: nullish(z.string()),
      context: nullish(z.string()),
      mode: nullish(z.string()),
    }),
  ),
  truncation: nullish(z.enum(['auto', 'disabled'])),
  user: nullish(z.string()),
  safety_identifier: nullish(z.string()),
  prompt_cache_key: nullish(z.string()),
  prompt_cache_retention: nullish(z.string()),
  prompt_cache_options: nullish(z.looseObject({ mode: nullish(z.string()), ttl: nullish(z.string()), comparison_response_id: nullish(z.string()) })),
  service_tier: nullish(z.string()),
  prompt: nullish(z.looseObject({ id: z.string(), version: nullish(z.string()), variables: nullish(z.record(z.string(), z.unknown())) })),
  context_management: nullish(z.array(z.looseObject({ type: z.string(), compact_threshold: nullish(z.number()) }))),
  moderation: nullish(z.looseObject({ model: z.string(), policy: nullish(z.looseObject({})) })),
  access_programs: nullish(z.looseObject({ cyber: nullish(z.string()) })),
  image: nullish(z.looseObject({ context_compression: nullish(z.string()) })),
};
const KNOWN_REQUEST_FIELDS = new Set(Object.keys(requestFields));
const RequestFields = z.object(requestFields);

/** A Responses request; fields the gateway does not know are moved to `passthrough`. */
export const ResponsesRequest = z
  .looseObject(requestFields)
  .transform((r) => splitUnknown<z.infer<typeof RequestFields>>(r, KNOWN_REQUEST_FIELDS, 'openai-responses'));
export type ResponsesRequest = z.infer<typeof RequestFields> & { passthrough?: Passthrough };

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
