/**
 * Chat Completions messages as canonical input items: the one conversion both edges that take Chat
 * messages use (`/v1/chat/completions`, and the `/mcp` gateway's `chat` tool).
 */
import type { ChatContentPart, ChatMessage } from './chat.ts';
import { newCallId } from './ids.ts';
import type { ContentPart, InputItem } from './responses.ts';

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
        items.push({
          type: customCalls.has(m.tool_call_id) ? 'custom_tool_call_output' : 'function_call_output',
          call_id: m.tool_call_id,
          output: textOf(m.content),
        });
        break;
      case 'function':
        items.push({ type: 'function_call_output', call_id: legacyCalls.get(m.name) ?? newCallId(), output: m.content ?? '' });
        break;
    }
  }
  return items;
}
