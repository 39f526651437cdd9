/**
 * Chat Completions streams <-> canonical Responses events.
 * `chatChunksToEvents`: a provider's chunks become item events (openai-wire.md §5.3 → §3).
 * `ChatChunkEncoder`: the gateway's events become chunks for a /v1/chat/completions client.
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatUsage, FinishReason } from '../chat.ts';
import { OutputComposer } from '../compose.ts';
import { UpstreamStreamError, type ModelEnd, type ModelEvent, type ResponseObject, type StreamEvent } from '../events.ts';
import { newCallId } from '../ids.ts';
import { emptyUsage, usageOf, type Usage } from '../responses.ts';

export function chatUsageToUsage(u: ChatCompletion['usage'] | null | undefined): Usage {
  if (!u) return emptyUsage();
  return usageOf(
    u.prompt_tokens ?? 0,
    u.completion_tokens ?? 0,
    u.prompt_tokens_details?.cached_tokens ?? 0,
    u.completion_tokens_details?.reasoning_tokens ?? 0,
  );
}

export async function* chatChunksToEvents(chunks: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ModelEvent> {
  const composer = new OutputComposer();
  let finish: string | null = null;
  let usage: Usage = emptyUsage();
  for await (const chunk of chunks) {
    if (chunk.usage) usage = chatUsageToUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const d = choice.delta ?? {};
    // Some servers (vLLM, DeepSeek) stream reasoning in a non-standard field.
    const reasoning = (d as { reasoning_content?: string | null; reasoning?: string | null }).reasoning_content ?? (d as { reasoning?: string | null }).reasoning;
    if (reasoning) yield* composer.reasoning(reasoning);
    if (d.content) yield* composer.text(d.content);
    if (d.refusal) yield* composer.refusal(d.refusal);
    for (const tc of d.tool_calls ?? []) {
      const key = tc.index ?? 0;
      if (!composer.isCallOpen(key)) {
        yield* composer.callStart(key, tc.id || newCallId(), tc.function?.name ?? '');
      }
      if (tc.function?.arguments) yield* composer.callArgs(key, tc.function.arguments);
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  if (finish === null) throw new UpstreamStreamError('server_error', 'The upstream stream ended before a finish_reason');
  const incomplete = finish === 'length' || finish === 'content_filter';
  yield* composer.close(incomplete ? 'incomplete' : 'completed');
  const end: ModelEnd = { type: 'model.end', status: incomplete ? 'incomplete' : 'completed', usage };
  if (finish === 'length') end.incomplete_reason = 'max_output_tokens';
  if (finish === 'content_filter') end.incomplete_reason = 'content_filter';
  yield end;
}

// ---- gateway output ---------------------------------------------------------------

export function usageToChat(u: Usage): ChatUsage {
  return {
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: u.total_tokens,
    prompt_tokens_details: { cached_tokens: u.input_tokens_details.cached_tokens },
    completion_tokens_details: { reasoning_tokens: u.output_tokens_details.reasoning_tokens },
  };
}

export function finishReasonOf(r: ResponseObject): FinishReason {
  if (r.status === 'incomplete')
    return r.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  // A client-side function call ends the turn; MCP calls the gateway ran itself do not.
  return r.output.some((i) => i.type === 'function_call') ? 'tool_calls' : 'stop';
}

function chatIdOf(responseId: string): string {
  return `chatcmpl-${responseId.replace(/^resp_/, '')}`;
}

export function responseToChatCompletion(r: ResponseObject): ChatCompletion {
  let text = '';
  let refusal: string | null = null;
  const toolCalls: NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']> = [];
  for (const item of r.output) {
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const p of item.content) {
        if (p.type === 'output_text') text += p.text;
        else if (p.type === 'refusal') refusal = (refusal ?? '') + p.refusal;
      }
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  return {
    id: chatIdOf(r.id),
    object: 'chat.completion',
    created: r.created_at,
    model: r.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && (toolCalls.length || refusal) ? null : text,
          refusal,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
          annotations: [],
        },
        finish_reason: finishReasonOf(r),
        logprobs: null,
      },
    ],
    usage: r.usage ? usageToChat(r.usage) : undefined,
    service_tier: 'default',
  } as ChatCompletion;
}

/**
 * Turns the gateway's Responses events into Chat chunks, one response at a time.
 * Returns the chunks each event produces (often none); the terminal event yields the finish chunk
 * and, when asked for, the usage chunk.
 */
export class ChatChunkEncoder {
  private id = '';
  private created = 0;
  private model = '';
  private toolIndex = new Map<string, number>();
  private started = false;
  private readonly includeUsage: boolean;
  constructor(includeUsage: boolean) {
    this.includeUsage = includeUsage;
  }

  encode(ev: StreamEvent): ChatCompletionChunk[] {
    switch (ev.type) {
      case 'response.created':
        this.id = chatIdOf(ev.response.id);
        this.created = ev.response.created_at;
        this.model = ev.response.model;
        return [];
      case 'response.output_text.delta':
        return [this.chunk({ content: ev.delta })];
      case 'response.refusal.delta':
        return [this.chunk({ refusal: ev.delta })];
      case 'response.output_item.added':
        if (ev.item.type !== 'function_call') return [];
        {
          const index = this.toolIndex.size;
          this.toolIndex.set(ev.item.id ?? ev.item.call_id, index);
          return [
            this.chunk({
              tool_calls: [{ index, id: ev.item.call_id, type: 'function', function: { name: ev.item.name, arguments: '' } }],
            }),
          ];
        }
      case 'response.function_call_arguments.delta': {
        const index = this.toolIndex.get(ev.item_id);
        if (index === undefined) return [];
        return [this.chunk({ tool_calls: [{ index, function: { arguments: ev.delta } }] })];
      }
      case 'response.completed':
      case 'response.incomplete': {
        const out = [this.chunk({}, finishReasonOf(ev.response))];
        if (this.includeUsage)
          out.push({ ...this.base(), choices: [], usage: usageToChat(ev.response.usage ?? emptyUsage()) } as ChatCompletionChunk);
        return out;
      }
      default:
        return [];
    }
  }

  private base() {
    return { id: this.id, object: 'chat.completion.chunk' as const, created: this.created, model: this.model, service_tier: 'default' as const };
  }

  private chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null = null): ChatCompletionChunk {
    if (!this.started) {
      // The first chunk carries the role, as OpenAI's do.
      this.started = true;
      delta = { role: 'assistant', content: delta.content ?? (delta.tool_calls || delta.refusal ? null : ''), ...delta };
    }
    const c: ChatCompletionChunk = {
      ...this.base(),
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
    if (this.includeUsage) c.usage = null;
    return c;
  }
}
