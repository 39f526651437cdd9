/**
 * The gateway's answer to a /v1/chat/completions client: a finished response as a chat completion, and
 * the response's events as chunks (OpenAI API reference: the chat completion object and its chunks).
 */
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ChatUsage, FinishReason } from '../../protocol/chat.ts';
import { isClientCall } from '../../protocol/client-tools.ts';
import type { ResponseObject, StreamEvent } from '../../protocol/events.ts';
import { emptyUsage, type Usage } from '../../protocol/responses.ts';

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
  if (r.status === 'incomplete') return r.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  // A call the client runs ends the turn; MCP calls the gateway ran itself do not.
  return r.output.some(isClientCall) ? 'tool_calls' : 'stop';
}

function chatIdOf(responseId: string): string {
  return `chatcmpl-${responseId.replace(/^resp_/, '')}`;
}

/** `{"id":...,"service_tier":"default",` : what every chunk of the response starts with. */
function chunkHead(r: ResponseObject): string {
  return `{"id":${JSON.stringify(chatIdOf(r.id))},"object":"chat.completion.chunk","created":${r.created_at},"model":${JSON.stringify(r.model)},"service_tier":"default",`;
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
    } else if (item.type === 'custom_tool_call') {
      toolCalls.push({ id: item.call_id, type: 'custom', custom: { name: item.name, input: item.input } });
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
 * Turns the gateway's Responses events into Chat chunks, one response at a time, as JSON text: the part
 * every chunk shares is serialised once per response, so each event costs one small serialisation.
 * Returns the chunks each event produces (often none); the terminal event yields the finish chunk
 * and, when asked for, the usage chunk.
 */
const NONE: readonly string[] = [];

type Delta = ChatCompletionChunk['choices'][number]['delta'];

export class ChatChunkEncoder {
  /** What every chunk of the response starts with (see chunkHead). */
  private head = '';
  private readonly tail: string;
  private readonly toolIndex = new Map<string, number>();
  private started = false;
  private readonly includeUsage: boolean;
  constructor(includeUsage: boolean) {
    this.includeUsage = includeUsage;
    this.tail = includeUsage ? ',"usage":null}' : '}';
  }

  encode(ev: StreamEvent): readonly string[] {
    switch (ev.type) {
      case 'response.created':
        this.head = chunkHead(ev.response);
        return NONE;
      case 'response.output_text.delta':
        return [this.chunk({ content: ev.delta })];
      case 'response.refusal.delta':
        return [this.chunk({ refusal: ev.delta })];
      case 'response.output_item.added': {
        const item = ev.item;
        if (item.type !== 'function_call' && item.type !== 'custom_tool_call') return NONE;
        const index = this.toolIndex.size;
        this.toolIndex.set(item.id ?? item.call_id, index);
        const call =
          item.type === 'function_call'
            ? { type: 'function', function: { name: item.name, arguments: '' } }
            : { type: 'custom', custom: { name: item.name, input: '' } };
        return [this.chunk({ tool_calls: [{ index, id: item.call_id, ...call }] } as Delta)];
      }
      case 'response.function_call_arguments.delta': {
        const index = this.toolIndex.get(ev.item_id);
        if (index === undefined) return NONE;
        return [this.chunk({ tool_calls: [{ index, function: { arguments: ev.delta } }] })];
      }
      case 'response.custom_tool_call_input.delta': {
        const index = this.toolIndex.get(ev.item_id);
        if (index === undefined) return NONE;
        return [this.chunk({ tool_calls: [{ index, custom: { input: ev.delta } }] } as Delta)];
      }
      case 'response.completed':
      case 'response.incomplete': {
        // The chunks so far name the model response.created named: the one that answered when it was
        // called before the stream began, else the requested one. A fallback that answered later is
        // named by the last chunks, which is what a client assembling the completion keeps.
        this.head = chunkHead(ev.response);
        const out = [this.chunk({}, finishReasonOf(ev.response))];
        if (this.includeUsage) out.push(`${this.head}"choices":[],"usage":${JSON.stringify(usageToChat(ev.response.usage ?? emptyUsage()))}}`);
        return out;
      }
      default:
        return NONE;
    }
  }

  private chunk(delta: Delta, finish: FinishReason | null = null): string {
    if (!this.started) {
      // The first chunk carries the role, as OpenAI's do.
      this.started = true;
      delta = { role: 'assistant', content: delta.content ?? (delta.tool_calls || delta.refusal ? null : ''), ...delta };
    }
    return `${this.head}"choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${finish ? `"${finish}"` : 'null'},"logprobs":null}]${this.tail}`;
  }
}
