/**
 * Chat Completions messages as canonical input items: the one conversion both edges that take Chat
 * messages use (`/v1/chat/completions`, and the `/mcp` gateway's `chat` tool).
 */
import type { ChatCacheControl, ChatContentPart, ChatMessage } from './chat.ts';
import { newCallId } from './ids.ts';
import type { ContentPart, InputItem } from './responses.ts';

type InputTextPart = Extract<ContentPart, { type: 'input_text' }>;
type Breakpoint = NonNullable<InputTextPart['prompt_cache_breakpoint']>;
/** The parts that carry a breakpoint in the canonical form. */
type Markable = Extract<ContentPart, { type: 'input_text' | 'input_image' | 'input_file' }>;

/**
 * A client's Anthropic-style `cache_control` as OpenAI's `prompt_cache_breakpoint` (openai-node's
 * `ResponseInputText.PromptCacheBreakpoint`: mode `explicit`, ttl `30m` or `12h`). Anthropic's `1h` is
 * OpenAI's extended tier `12h`, which the Anthropic builder sends back as `1h`; `5m` or none is left to
 * the default (the request's own ttl, else five minutes).
 */
function breakpointOf(cc: ChatCacheControl): Breakpoint | undefined {
  if (!cc) return undefined;
  return cc.ttl === '1h' ? { mode: 'explicit', ttl: '12h' } : { mode: 'explicit' };
}

function marked<P extends Markable>(part: P, cc: ChatCacheControl): P {
  const bp = breakpointOf(cc);
  return bp ? { ...part, prompt_cache_breakpoint: bp } : part;
}

function chatPartToInput(p: ChatContentPart): ContentPart {
  switch (p.type) {
    case 'text':
      return marked({ type: 'input_text', text: p.text }, p.cache_control);
    case 'image_url':
      return marked({ type: 'input_image', image_url: p.image_url.url, detail: p.image_url.detail ?? 'auto' }, p.cache_control);
    case 'file':
      return marked({ type: 'input_file', file_data: p.file.file_data, file_id: p.file.file_id, filename: p.file.filename }, p.cache_control);
    case 'input_audio':
      return { type: 'input_audio', input_audio: p.input_audio };
    case 'refusal':
      return { type: 'refusal', refusal: p.refusal };
  }
}

const isMarkable = (p: ContentPart): p is Markable => p.type === 'input_text' || p.type === 'input_image' || p.type === 'input_file';

/** A message's own marker on its last part that can carry one, unless that part has its own. */
function markLast<P extends ContentPart>(parts: P[], cc: ChatCacheControl): P[] {
  if (!cc) return parts;
  const i = parts.findLastIndex(isMarkable);
  const last = parts[i];
  if (last && isMarkable(last) && !last.prompt_cache_breakpoint) parts[i] = marked(last, cc);
  return parts;
}

type TextContent = string | { text: string; cache_control?: ChatCacheControl }[];

function textOf(content: TextContent): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

/** Text-only content (system, developer, tool): one string as before, or input_text parts when a breakpoint is set. */
function textInput(content: TextContent, cc: ChatCacheControl): string | InputTextPart[] {
  if (typeof content === 'string') return cc ? [marked({ type: 'input_text', text: content }, cc)] : content;
  if (!cc && !content.some((p) => p.cache_control)) return textOf(content);
  return markLast(
    content.map((p) => marked<InputTextPart>({ type: 'input_text', text: p.text }, p.cache_control)),
    cc,
  );
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
        items.push({ type: 'message', role: m.role, content: textInput(m.content, m.cache_control) });
        break;
      case 'user':
        items.push({
          type: 'message',
          role: 'user',
          content: typeof m.content === 'string' ? textInput(m.content, m.cache_control) : markLast(m.content.map(chatPartToInput), m.cache_control),
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
        items.push({
          type: customCalls.has(m.tool_call_id) ? 'custom_tool_call_output' : 'function_call_output',
          call_id: m.tool_call_id,
          output: textInput(m.content, m.cache_control),
        });
        break;
      case 'function':
        items.push({ type: 'function_call_output', call_id: legacyCalls.get(m.name) ?? newCallId(), output: m.content ?? '' });
        break;
    }
  }
  return items;
}
