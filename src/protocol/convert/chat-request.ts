/**
 * Chat Completions request <-> canonical Responses request.
 * Inbound (`chatToResponses`): what a client sent to /v1/chat/completions.
 * Outbound (`modelRequestToChat`): what the gateway sends an OpenAI-compatible Chat server.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { ChatContentPart, ChatMessage, ChatRequest } from '../chat.ts';
import { providerTools, type ClientToolCalls, type FunctionHistoryItem, type HistoryMapper, type ToolNames } from '../client-tools.ts';
import { droppedLabel, droppedParams } from '../dropped-params.ts';
import { newCallId } from '../ids.ts';
import { contentText, type ModelRequest } from '../model-request.ts';
import type { ContentPart, InputItem, ResponsesRequest, Tool, ToolChoice } from '../responses.ts';

/** What a converter could not send, for the provider's log (the same labels as `x-toolgate-dropped-params`). */
export type DroppedFeature = string;

/** A provider request, what it leaves out, and how to map the model's calls back (null: nothing to map). */
export interface ConvertedRequest<B> {
  body: B;
  dropped: DroppedFeature[];
  calls: ClientToolCalls | null;
}

// ---- inbound ------------------------------------------------------------------

function chatPartToInput(p: ChatContentPart): ContentPart {
  switch (p.type) {
    case 'text':
      return { type: 'input_text', text: p.text };
    case 'image_url':
      return { type: 'input_image', image_url: p.image_url.url, detail: p.image_url.detail ?? 'auto' };
    case 'file':
      return { type: 'input_file', file_data: p.file.file_data, file_id: p.file.file_id, filename: p.file.filename };
    case 'input_audio':
      return { type: 'input_audio', input_audio: p.input_audio };
    case 'refusal':
      return { type: 'refusal', refusal: p.refusal };
  }
}

function textOf(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

export function chatMessagesToItems(messages: ChatMessage[]): InputItem[] {
  const items: InputItem[] = [];
  // Tool results answer a custom tool's call with custom_tool_call_output; a deprecated `function`
  // message answers the last deprecated `function_call` of its name.
  const customCalls = new Set<string>();
  const legacyCalls = new Map<string, string>();
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        items.push({ type: 'message', role: m.role, content: textOf(m.content) });
        break;
      case 'user':
        items.push({
          type: 'message',
          role: 'user',
          content: typeof m.content === 'string' ? m.content : m.content.map(chatPartToInput),
        });
        break;
      case 'assistant': {
        const parts: ContentPart[] = [];
        if (typeof m.content === 'string' && m.content !== '') parts.push({ type: 'output_text', text: m.content, annotations: [] });
        if (Array.isArray(m.content))
          for (const p of m.content)
            parts.push(p.type === 'text' ? { type: 'output_text', text: p.text, annotations: [] } : { type: 'refusal', refusal: p.refusal });
        if (m.refusal) parts.push({ type: 'refusal', refusal: m.refusal });
        if (parts.length) items.push({ type: 'message', role: 'assistant', content: parts });
        for (const tc of m.tool_calls ?? []) {
          if (tc.type === 'custom') {
            customCalls.add(tc.id);
            items.push({ type: 'custom_tool_call', call_id: tc.id, name: tc.custom.name, input: tc.custom.input });
          } else items.push({ type: 'function_call', call_id: tc.id, name: tc.function.name, arguments: tc.function.arguments });
        }
        if (m.function_call) {
          const call_id = newCallId();
          legacyCalls.set(m.function_call.name, call_id);
          items.push({ type: 'function_call', call_id, name: m.function_call.name, arguments: m.function_call.arguments });
        }
        break;
      }
      case 'tool':
        items.push({ type: customCalls.has(m.tool_call_id) ? 'custom_tool_call_output' : 'function_call_output', call_id: m.tool_call_id, output: textOf(m.content) });
        break;
      case 'function':
        items.push({ type: 'function_call_output', call_id: legacyCalls.get(m.name) ?? newCallId(), output: m.content ?? '' });
        break;
    }
  }
  return items;
}

type ChatTool = NonNullable<ChatRequest['tools']>[number];

function chatToolToTool(t: ChatTool): Tool {
  switch (t.type) {
    case 'mcp':
      return t;
    case 'function':
      return { type: 'function', name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: t.function.strict };
    case 'custom': {
      const f = t.custom.format;
      return {
        type: 'custom',
        name: t.custom.name,
        description: t.custom.description,
        format: f?.type === 'grammar' ? { type: 'grammar', syntax: f.grammar.syntax, definition: f.grammar.definition } : f,
      };
    }
  }
}

/** A Chat tool reference (`{type:"function",function:{name}}`, `{type:"custom",custom:{name}}`) in the Responses form. */
function chatToolRef(t: Record<string, unknown>): Record<string, unknown> {
  const inner = t[t.type as string] as { name?: unknown } | undefined;
  return inner && typeof inner.name === 'string' ? { type: t.type, name: inner.name } : t;
}

function chatToolChoice(req: ChatRequest): ToolChoice | null | undefined {
  const tc = req.tool_choice;
  if (tc == null) {
    const legacy = req.function_call;
    return legacy == null || typeof legacy === 'string' ? legacy : { type: 'function', name: legacy.name };
  }
  if (typeof tc === 'string') return tc;
  switch (tc.type) {
    case 'function':
      return { type: 'function', name: tc.function.name };
    case 'custom':
      return { type: 'custom', name: tc.custom.name };
    case 'allowed_tools':
      return { type: 'allowed_tools', mode: tc.allowed_tools.mode, tools: tc.allowed_tools.tools.map(chatToolRef) };
  }
}

/** A Chat request in canonical form, plus the Chat-only knobs that have no Responses field. */
export function chatToResponses(req: ChatRequest): ResponsesRequest & { extras: ModelRequest['extras'] } {
  const rf = req.response_format;
  const tools = [...(req.tools ?? []).map(chatToolToTool), ...(req.functions ?? []).map((f): Tool => ({ type: 'function', name: f.name, description: f.description, parameters: f.parameters }))];
  return {
    model: req.model,
    input: chatMessagesToItems(req.messages),
    tools: req.tools || req.functions ? tools : undefined,
    tool_choice: chatToolChoice(req),
    parallel_tool_calls: req.parallel_tool_calls,
    stream: req.stream,
    max_output_tokens: req.max_completion_tokens ?? req.max_tokens,
    temperature: req.temperature,
    top_p: req.top_p,
    top_logprobs: req.logprobs ? req.top_logprobs : undefined,
    include: req.logprobs ? ['message.output_text.logprobs'] : undefined,
    text:
      rf || req.verbosity
        ? {
            format:
              rf?.type === 'json_schema'
                ? { type: 'json_schema', name: rf.json_schema.name, schema: rf.json_schema.schema ?? {}, strict: rf.json_schema.strict, description: rf.json_schema.description }
                : rf,
            verbosity: req.verbosity,
          }
        : undefined,
    reasoning: req.reasoning_effort ? { effort: req.reasoning_effort } : undefined,
    metadata: req.metadata,
    user: req.user,
    safety_identifier: req.safety_identifier,
    prompt_cache_key: req.prompt_cache_key,
    prompt_cache_retention: req.prompt_cache_retention,
    prompt_cache_options: req.prompt_cache_options,
    service_tier: req.service_tier,
    moderation: req.moderation,
    store: false,
    extras: {
      stop: req.stop,
      seed: req.seed,
      presence_penalty: req.presence_penalty,
      frequency_penalty: req.frequency_penalty,
      logit_bias: req.logit_bias,
      prediction: req.prediction,
      web_search_options: req.web_search_options,
      store: req.store,
      n: req.n,
      audio: req.audio,
      modalities: req.modalities,
    },
    passthrough: req.passthrough,
  };
}

// ---- outbound -----------------------------------------------------------------

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

export function itemsToChatMessages(instructions: string | null, input: ModelRequest['input'], history: HistoryMapper): ChatCompletionMessageParam[] {
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
      assistant.tool_calls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
      continue;
    }
    flush();
    if (item.type === 'message') {
      if (item.role === 'user') {
        const content =
          typeof item.content === 'string'
            ? item.content
            : item.content.map(inputPartToChat).filter((p): p is ChatCompletionContentPart => p !== null);
        out.push({ role: 'user', content });
      } else {
        out.push({ role: item.role, content: contentText(item.content) });
      }
    } else if (item.type === 'function_call_output') {
      const content =
        typeof item.output === 'string'
          ? item.output
          : item.output.map((p) => (p.type === 'input_text' ? p.text : '')).join('');
      out.push({ role: 'tool', tool_call_id: item.call_id, content });
      // Chat tool messages carry text only; images in a tool result follow as a user message.
      if (Array.isArray(item.output)) {
        const images = item.output.filter((p) => p.type === 'input_image').map(inputPartToChat).filter((p) => p !== null);
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
}

/** Fields a Chat server takes as they are. */
const CHAT_FIELDS = ['metadata', 'user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'prompt_cache_options', 'service_tier', 'moderation'] as const;
const CHAT_EXTRAS = ['stop', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'prediction', 'web_search_options', 'store'] as const;

/** The Chat request for a provider; `dropped` names what Chat cannot carry. */
export function modelRequestToChat(req: ModelRequest, opts: ChatRequestOptions): ConvertedRequest<ChatCompletionCreateParamsStreaming> {
  const { functions, names } = providerTools(req.tools);
  const fmt = req.text?.format;
  const body: ChatCompletionCreateParamsStreaming = {
    model: req.model,
    messages: itemsToChatMessages(req.instructions, req.input, names.history()),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (functions.length) {
    body.tools = functions.map(
      (f): ChatCompletionTool => ({ type: 'function', function: { name: f.name, ...(f.description ? { description: f.description } : {}), parameters: f.parameters, ...(f.strict != null ? { strict: f.strict } : {}) } }),
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
      json_schema: { name: fmt.name, schema: fmt.schema, ...(fmt.strict != null ? { strict: fmt.strict } : {}), ...(fmt.description ? { description: fmt.description } : {}) },
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
  return { body, dropped: droppedParams(req, 'openai-chat').map(droppedLabel), calls: names.calls() };
}
