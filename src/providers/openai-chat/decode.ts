/**
 * A Chat Completions answer (OpenAI API reference, the chat completion object and its chunks; Mistral's
 * content chunks) in canonical form: a stream of chunks becomes
 * item events, a whole completion becomes output items.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { OutputComposer } from '../../protocol/compose.ts';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { ModelEnd, ModelEvent, ModelOutput } from '../../protocol/events.ts';
import { newCallId, newId } from '../../protocol/ids.ts';
import { emptyUsage, usageOf, type OutputItem, type Usage } from '../../protocol/responses.ts';
import type { SseMessage, StreamDecoder } from '../../protocol/stream-decoder.ts';

export function chatUsageToUsage(u: ChatCompletion['usage'] | null | undefined): Usage {
  if (!u) return emptyUsage();
  return usageOf(
    u.prompt_tokens ?? 0,
    u.completion_tokens ?? 0,
    u.prompt_tokens_details?.cached_tokens ?? 0,
    u.completion_tokens_details?.reasoning_tokens ?? 0,
  );
}

/** Some servers (vLLM, DeepSeek, Ollama) send reasoning in a field of their own. */
type WithReasoning = { reasoning_content?: string | null; reasoning?: string | null };

/** Mistral's reasoning models send content as chunks: `text`, and `thinking` holding text chunks (Mistral API reference). */
type ContentChunk = { type: string; text?: string; thinking?: { type: string; text?: string }[] };
type Content = string | ContentChunk[] | null | undefined;

/** The text of a `thinking` chunk. */
function thought(c: ContentChunk): string {
  let s = '';
  for (const t of c.thinking ?? []) if (t.text) s += t.text;
  return s;
}

function modelEnd(finish: string, usage: Usage): ModelEnd {
  const incomplete = finish === 'length' || finish === 'content_filter';
  const end: ModelEnd = { type: 'model.end', status: incomplete ? 'incomplete' : 'completed', usage };
  if (incomplete) end.incomplete_reason = finish === 'length' ? 'max_output_tokens' : 'content_filter';
  return end;
}

/** An error some servers send as a stream message instead of a chunk. */
function streamError(parsed: { error?: { message?: string; code?: unknown } }): UpstreamStreamError {
  const e = parsed.error ?? {};
  return new UpstreamStreamError('upstream_error', `the upstream stream reported an error: ${e.message ?? JSON.stringify(e)}`);
}

export class ChatStreamDecoder implements StreamDecoder {
  private readonly composer = new OutputComposer();
  private finish: string | null = null;
  private usage: Usage = emptyUsage();

  event(msg: SseMessage, out: ModelEvent[]): void {
    if (msg.data === '[DONE]') return;
    const chunk = JSON.parse(msg.data) as ChatCompletionChunk & { error?: { message?: string } };
    if (chunk.error) throw streamError(chunk);
    if (chunk.usage) this.usage = chatUsageToUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const d = choice.delta;
    const composer = this.composer;
    if (d) {
      const reasoning = (d as WithReasoning).reasoning_content ?? (d as WithReasoning).reasoning;
      if (reasoning) composer.reasoning(reasoning, out);
      const content = d.content as Content;
      if (typeof content === 'string') {
        if (content) composer.text(content, out);
      } else if (content)
        for (const c of content) {
          if (c.type === 'text' && c.text) composer.text(c.text, out);
          else if (c.type === 'thinking') {
            const r = thought(c);
            if (r) composer.reasoning(r, out);
          }
        }
      if (d.refusal) composer.refusal(d.refusal, out);
      if (d.tool_calls)
        for (const tc of d.tool_calls) {
          const key = tc.index ?? 0;
          if (!composer.isCallOpen(key)) composer.callStart(key, tc.id || newCallId(), tc.function?.name ?? '', out);
          if (tc.function?.arguments) composer.callArgs(key, tc.function.arguments, out);
        }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
  }

  end(out: ModelEvent[]): void {
    if (this.finish === null) throw new UpstreamStreamError('upstream_error', 'The upstream stream ended before a finish_reason');
    const end = modelEnd(this.finish, this.usage);
    this.composer.close(out, end.status);
    out.push(end);
  }
}

export function chatCompletionToOutput(body: ChatCompletion): ModelOutput {
  const choice = body.choices?.[0];
  if (!choice) throw new UpstreamStreamError('upstream_error', 'The upstream answered with no choices');
  const m = choice.message;
  const end = modelEnd(choice.finish_reason ?? 'stop', chatUsageToUsage(body.usage));
  const status = end.status;
  const items: OutputItem[] = [];
  let reasoning = (m as WithReasoning).reasoning_content ?? (m as WithReasoning).reasoning ?? '';
  const parts = m.content as Content;
  let text = typeof parts === 'string' ? parts : '';
  if (Array.isArray(parts))
    for (const c of parts) {
      if (c.type === 'text' && c.text) text += c.text;
      else if (c.type === 'thinking') reasoning += thought(c);
    }
  if (reasoning) items.push({ id: newId('rs'), type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: reasoning }], status });
  const content: ({ type: 'output_text'; text: string; annotations: unknown[]; logprobs: unknown[] } | { type: 'refusal'; refusal: string })[] = [];
  if (text) content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  if (m.refusal) content.push({ type: 'refusal', refusal: m.refusal });
  if (content.length) items.push({ id: newId('msg'), type: 'message', status, role: 'assistant', content });
  for (const tc of m.tool_calls ?? []) {
    // Mistral may leave `type` out of a function call
    if (tc.type && tc.type !== 'function') continue;
    items.push({
      id: newId('fc'),
      type: 'function_call',
      status,
      call_id: tc.id || newCallId(),
      name: tc.function.name,
      arguments: tc.function.arguments ?? '',
    });
  }
  return { items, end };
}
