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
import { contentText, type ModelInputItem, type ModelRequest } from '../model-request.ts';
import type { ContentPart, InputItem, ResponsesRequest } from '../responses.ts';

export type DroppedFeature = string;

// ---- inbound ------------------------------------------------------------------

function chatPartToInput(p: ChatContentPart): ContentPart {
  switch (p.type) {
    case 'text':
      return { type: 'input_text', text: p.text };
    case 'image_url':
      return { type: 'input_image', image_url: p.image_url.url, detail: p.image_url.detail ?? 'auto' };
    case 'file':
      return { type: 'input_file', file_data: p.file.file_data, file_id: p.file.file_id, filename: p.file.filename };
    case 'refusal':
      return { type: 'refusal', refusal: p.refusal };
  }
}

function textOf(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

export function chatMessagesToItems(messages: ChatMessage[]): InputItem[] {
  const items: InputItem[] = [];
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
        for (const tc of m.tool_calls ?? [])
          items.push({ type: 'function_call', call_id: tc.id, name: tc.function.name, arguments: tc.function.arguments });
        break;
      }
      case 'tool':
        items.push({ type: 'function_call_output', call_id: m.tool_call_id, output: textOf(m.content) });
        break;
    }
  }
  return items;
}

/** A Chat request in canonical form, plus the Chat-only knobs that have no Responses field. */
export function chatToResponses(req: ChatRequest): ResponsesRequest & { extras: ModelRequest['extras'] } {
  const rf = req.response_format;
  return {
    model: req.model,
    input: chatMessagesToItems(req.messages),
    tools: req.tools?.map((t) =>
      t.type === 'mcp'
        ? t
        : { type: 'function' as const, name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: t.function.strict },
    ),
    tool_choice:
      req.tool_choice == null || typeof req.tool_choice === 'string'
        ? req.tool_choice
        : { type: 'function', name: req.tool_choice.function.name },
    parallel_tool_calls: req.parallel_tool_calls,
    stream: req.stream,
    max_output_tokens: req.max_completion_tokens ?? req.max_tokens,
    temperature: req.temperature,
    top_p: req.top_p,
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
    service_tier: req.service_tier,
    store: false,
    extras: {
      stop: req.stop,
      seed: req.seed,
      presence_penalty: req.presence_penalty,
      frequency_penalty: req.frequency_penalty,
      logit_bias: req.logit_bias,
    },
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
    case 'refusal':
      return { type: 'text', text: p.refusal };
  }
}

export function itemsToChatMessages(instructions: string | null, input: ModelInputItem[]): ChatCompletionMessageParam[] {
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
  for (const item of input) {
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

function toolChoiceToChat(tc: ModelRequest['tool_choice']): ChatCompletionToolChoiceOption | undefined {
  if (tc == null) return undefined;
  if (typeof tc === 'string') return tc;
  if (tc.type === 'function' && 'name' in tc && typeof tc.name === 'string') return { type: 'function', function: { name: tc.name } };
  if (tc.type === 'allowed_tools' && 'mode' in tc) return tc.mode === 'required' ? 'required' : 'auto';
  return undefined;
}

export interface ChatRequestOptions {
  /** `max_completion_tokens` for api.openai.com; most compatible servers only know `max_tokens`. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

/** The Chat request for a provider; `dropped` names what Chat cannot carry. */
export function modelRequestToChat(
  req: ModelRequest,
  opts: ChatRequestOptions,
): { body: ChatCompletionCreateParamsStreaming; dropped: DroppedFeature[] } {
  const dropped: DroppedFeature[] = [];
  const tools: ChatCompletionTool[] = [];
  for (const t of req.tools) {
    if (t.type === 'function') {
      const f = t as Extract<ModelRequest['tools'][number], { type: 'function'; name: string }>;
      tools.push({
        type: 'function',
        function: {
          name: f.name,
          ...(f.description ? { description: f.description } : {}),
          parameters: f.parameters ?? { type: 'object', properties: {} },
          ...(f.strict != null ? { strict: f.strict } : {}),
        },
      });
    } else dropped.push(`tool type '${t.type}'`);
  }
  const fmt = req.text?.format;
  const body: ChatCompletionCreateParamsStreaming = {
    model: req.model,
    messages: itemsToChatMessages(req.instructions, req.input),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (tools.length) {
    body.tools = tools;
    const tc = toolChoiceToChat(req.tool_choice);
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
  if (req.metadata) body.metadata = req.metadata;
  if (req.user) body.user = req.user;
  if (req.safety_identifier) body.safety_identifier = req.safety_identifier;
  if (req.prompt_cache_key) body.prompt_cache_key = req.prompt_cache_key;
  const x = req.extras;
  if (x?.stop != null) body.stop = x.stop;
  if (x?.seed != null) body.seed = x.seed;
  if (x?.presence_penalty != null) body.presence_penalty = x.presence_penalty;
  if (x?.frequency_penalty != null) body.frequency_penalty = x.frequency_penalty;
  if (x?.logit_bias != null) body.logit_bias = x.logit_bias;
  if (req.include?.length) dropped.push('include');
  if (req.truncation === 'auto') dropped.push('truncation');
  return { body, dropped };
}
