/**
 * A canonical model request as the body an OpenAI-compatible Chat Completions server takes (OpenAI API
 * reference, Create chat completion), with what some servers take differently: Mistral's API reference
 * (chat completions) and Cohere's Compatibility API (docs.cohere.com, "Using Cohere models via the OpenAI SDK").
 */
import { createHash } from 'node:crypto';
import type {
  ChatCompletionContentPart,
  ChatCompletionFunctionTool,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { providerTools, type FunctionHistoryItem, type HistoryMapper, type ToolNames } from '../../protocol/client-tools.ts';
import { droppedLabel, droppedParams } from '../../protocol/dropped-params.ts';
import { contentText, type ModelRequest } from '../../protocol/model-request.ts';
import type { ContentPart } from '../../protocol/responses.ts';
import type { ConvertedRequest } from '../types.ts';

function inputPartToChat(p: ContentPart): ChatCompletionContentPart | null {
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: p.text };
    case 'input_image':
      return p.image_url ? { type: 'image_url', image_url: { url: p.image_url, detail: p.detail === 'original' ? 'high' : (p.detail ?? 'auto') } } : null;
    case 'input_file':
      return { type: 'file', file: { file_data: p.file_data ?? undefined, file_id: p.file_id ?? undefined, filename: p.filename ?? undefined } };
    case 'input_audio':
      return { type: 'input_audio', input_audio: p.input_audio as { data: string; format: 'wav' | 'mp3' } };
    case 'refusal':
      return { type: 'text', text: p.refusal };
  }
}

/**
 * @param callId the id a tool call is sent under (servers that accept only their own form of id,
 *   see QUIRKS); the same for a call and its output.
 */
export function itemsToChatMessages(
  instructions: string | null,
  input: ModelRequest['input'],
  history: HistoryMapper,
  callId: (id: string) => string = (id) => id,
): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  if (instructions) out.push({ role: 'system', content: instructions });
  // Consecutive assistant text and function calls form one assistant message, as Chat models produce them.
  let assistant: { content: string | null; tool_calls: ChatCompletionMessageToolCall[] } | null = null;
  const flush = () => {
    if (!assistant) return;
    out.push({
      role: 'assistant',
      content: assistant.content,
      ...(assistant.tool_calls.length ? { tool_calls: assistant.tool_calls } : {}),
    });
    assistant = null;
  };
  for (const original of input) {
    const item: FunctionHistoryItem | null = history.map(original);
    if (!item) continue; // items of tools OpenAI hosts have no Chat form
    if (item.type === 'message' && item.role === 'assistant') {
      if (assistant?.tool_calls.length) flush();
      assistant ??= { content: null, tool_calls: [] };
      assistant.content = (assistant.content ?? '') + contentText(item.content);
      continue;
    }
    if (item.type === 'function_call') {
      assistant ??= { content: null, tool_calls: [] };
      assistant.tool_calls.push({ id: callId(item.call_id), type: 'function', function: { name: item.name, arguments: item.arguments } });
      continue;
    }
    flush();
    if (item.type === 'message') {
      if (item.role === 'user') {
        const content =
          typeof item.content === 'string' ? item.content : item.content.map(inputPartToChat).filter((p): p is ChatCompletionContentPart => p !== null);
        out.push({ role: 'user', content });
      } else {
        out.push({ role: item.role, content: contentText(item.content) });
      }
    } else if (item.type === 'function_call_output') {
      const content = typeof item.output === 'string' ? item.output : item.output.map((p) => (p.type === 'input_text' ? p.text : '')).join('');
      out.push({ role: 'tool', tool_call_id: callId(item.call_id), content });
      // Chat tool messages carry text only; images in a tool result follow as a user message.
      if (Array.isArray(item.output)) {
        const images = item.output
          .filter((p) => p.type === 'input_image')
          .map(inputPartToChat)
          .filter((p) => p !== null);
        if (images.length) out.push({ role: 'user', content: images });
      }
    }
    // reasoning items have no Chat form: dropped
  }
  flush();
  return out;
}

function toolChoiceToChat(tc: ModelRequest['tool_choice'], names: ToolNames): ChatCompletionToolChoiceOption | undefined {
  if (tc == null) return undefined;
  if (typeof tc === 'string') return tc;
  if (tc.type === 'allowed_tools' && 'mode' in tc) return tc.mode === 'required' ? 'required' : 'auto';
  const name = names.forced(tc);
  return name ? { type: 'function', function: { name } } : undefined;
}

export interface ChatRequestOptions {
  /** `max_completion_tokens` for api.openai.com; most compatible servers only know `max_tokens`. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Who serves it (LiteLLM's prefix), for its QUIRKS. */
  owner?: string;
  /** false: the server rejects `stream_options` (older Azure API versions); its streams then carry no usage. */
  streamOptions?: boolean;
}

/**
 * What a server of the Chat API takes differently from OpenAI, from its own documentation (or a
 * rejection it is known for). A server that validates strictly answers 400/422 to a field it does not
 * list, so for those the fields it lists are the ones sent.
 */
interface ChatQuirks {
  /** The top-level fields it accepts; the others are left out (and listed as dropped). */
  fields?: ReadonlySet<string>;
  /** Fields it names otherwise. */
  rename?: Readonly<Record<string, string>>;
  /** tool_choice `auto` is left out (the default anyway): the server does not take the value. */
  noAutoToolChoice?: boolean;
  /** `reasoning_effort` values it takes; others are left out. */
  reasoningEfforts?: ReadonlySet<string>;
  /** The id a tool call is sent under when the server accepts only its own form (the same for call and output). */
  callId?: (id: string) => string;
  /** JSON Schema keywords its tool parameters must not carry at the top. */
  schemaKeywords?: readonly string[];
}

const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Mistral rejects any tool call id but nine letters and digits: another's id (a client's, another model's) maps to one, always the same. */
export function mistralCallId(id: string): string {
  if (MISTRAL_ID.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALNUM[digest[i]! % ALNUM.length];
  return out;
}

const QUIRKS: Record<string, ChatQuirks> = {
  // Mistral validates strictly ("extra_forbidden"): no stream_options (usage comes in the last chunk
  // anyway), no user, service_tier, logit_bias, store, verbosity, ...; `seed` is `random_seed`; tool call
  // ids are nine letters and digits; `$schema` in tool parameters fails its grammar compilation.
  mistral: {
    fields: new Set([
      'model',
      'messages',
      'stream',
      'temperature',
      'top_p',
      'max_tokens',
      'stop',
      'random_seed',
      'metadata',
      'response_format',
      'tools',
      'tool_choice',
      'presence_penalty',
      'frequency_penalty',
      'n',
      'prediction',
      'parallel_tool_calls',
      'reasoning_effort',
      'prompt_mode',
      'guardrails',
      'prompt_cache_key',
      'safe_prompt',
    ]),
    rename: { seed: 'random_seed' },
    callId: mistralCallId,
    schemaKeywords: ['$schema', '$id'],
  },
  // Cohere's Compatibility API lists the parameters it supports (store, metadata, logit_bias, n,
  // prediction, service_tier, parallel_tool_calls are named unsupported); reasoning_effort only
  // none|high; Cohere's tool choice has no AUTO (omitting it means auto).
  cohere: {
    fields: new Set([
      'model',
      'messages',
      'stream',
      'stream_options',
      'reasoning_effort',
      'response_format',
      'tools',
      'tool_choice',
      'temperature',
      'max_tokens',
      'max_completion_tokens',
      'stop',
      'seed',
      'top_p',
      'frequency_penalty',
      'presence_penalty',
      'user',
      'logprobs',
    ]),
    noAutoToolChoice: true,
    reasoningEfforts: new Set(['none', 'high']),
  },
};

/** Applies a server's quirks to a finished body; returns the labels of what it left out. */
function applyQuirks(fields: Record<string, unknown>, q: ChatQuirks): string[] {
  const dropped: string[] = [];
  if (q.rename)
    for (const [from, to] of Object.entries(q.rename))
      if (from in fields) {
        fields[to] = fields[from];
        delete fields[from];
      }
  if (q.noAutoToolChoice && fields.tool_choice === 'auto') delete fields.tool_choice;
  if (q.reasoningEfforts && fields.reasoning_effort != null && !q.reasoningEfforts.has(fields.reasoning_effort as string)) {
    delete fields.reasoning_effort;
    dropped.push('reasoning.effort');
  }
  if (q.schemaKeywords && Array.isArray(fields.tools))
    for (const t of fields.tools as ChatCompletionFunctionTool[]) {
      const params = t.function.parameters;
      if (params && q.schemaKeywords.some((k) => k in params))
        t.function.parameters = Object.fromEntries(Object.entries(params).filter(([k]) => !q.schemaKeywords!.includes(k)));
    }
  if (q.fields)
    for (const k of Object.keys(fields))
      if (!q.fields.has(k)) {
        delete fields[k];
        // stream_options is the gateway's own, not the client's
        if (k !== 'stream_options') dropped.push(k);
      }
  return dropped;
}

/** Fields a Chat server takes as they are. */
const CHAT_FIELDS = [
  'metadata',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'service_tier',
  'moderation',
] as const;
const CHAT_EXTRAS = ['stop', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'prediction', 'web_search_options', 'store'] as const;

/** The Chat request for a provider; `dropped` names what Chat cannot carry. */
export function modelRequestToChat(req: ModelRequest, opts: ChatRequestOptions): ConvertedRequest<ChatCompletionCreateParamsStreaming> {
  const { functions, names } = providerTools(req.tools);
  const quirks = opts.owner ? QUIRKS[opts.owner] : undefined;
  const fmt = req.text?.format;
  const body: ChatCompletionCreateParamsStreaming = {
    model: req.model,
    messages: itemsToChatMessages(req.instructions, req.input, names.history(), quirks?.callId),
    stream: true,
    ...(opts.streamOptions === false ? {} : { stream_options: { include_usage: true } }),
  };
  if (functions.length) {
    body.tools = functions.map(
      (f): ChatCompletionTool => ({
        type: 'function',
        function: {
          name: f.name,
          ...(f.description ? { description: f.description } : {}),
          parameters: f.parameters,
          ...(f.strict != null ? { strict: f.strict } : {}),
        },
      }),
    );
    const tc = toolChoiceToChat(req.tool_choice, names);
    if (tc) body.tool_choice = tc;
    if (req.parallel_tool_calls != null) body.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.max_output_tokens != null) body[opts.maxTokensField] = req.max_output_tokens;
  if (req.temperature != null) body.temperature = req.temperature;
  if (req.top_p != null) body.top_p = req.top_p;
  if (fmt?.type === 'json_schema')
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: fmt.name,
        schema: fmt.schema,
        ...(fmt.strict != null ? { strict: fmt.strict } : {}),
        ...(fmt.description ? { description: fmt.description } : {}),
      },
    };
  else if (fmt?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (req.text?.verbosity) body.verbosity = req.text.verbosity;
  if (req.reasoning?.effort) body.reasoning_effort = req.reasoning.effort as ChatCompletionCreateParamsStreaming['reasoning_effort'];
  const fields = body as unknown as Record<string, unknown>;
  for (const k of CHAT_FIELDS) if (req[k] != null) fields[k] = req[k];
  const x = req.extras;
  if (x) for (const k of CHAT_EXTRAS) if (x[k] != null) fields[k] = x[k];
  // Fields a Chat client sent that the gateway does not know; never over what the gateway set.
  const p = req.passthrough;
  if (p?.api === 'openai-chat') for (const k in p.fields) if (!(k in fields)) fields[k] = p.fields[k];
  const dropped = droppedParams(req, 'openai-chat').map(droppedLabel);
  if (quirks) dropped.push(...applyQuirks(fields, quirks));
  return { body, dropped, calls: names.calls() };
}
