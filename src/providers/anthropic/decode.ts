/**
 * An Anthropic Messages answer (docs.anthropic.com, Messages API and its streaming events) in canonical form: a stream of events becomes item
 * events, a whole message becomes output items.
 */
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import { ItemCollector, OutputComposer } from '../../protocol/compose.ts';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { ModelEnd, ModelEvent, ModelOutput } from '../../protocol/events.ts';
import { usageOf, type Usage } from '../../protocol/responses.ts';
import type { SseMessage, StreamDecoder } from '../../protocol/stream-decoder.ts';

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Anthropic counts cached tokens apart from input tokens; OpenAI counts them inside. */
export function anthropicUsageToUsage(u: AnthropicUsage): Usage {
  const cached = u.cache_read_input_tokens ?? 0;
  const input = (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0);
  return usageOf(input, u.output_tokens ?? 0, cached);
}

function modelEnd(stop: string | null, usage: AnthropicUsage): ModelEnd {
  const incomplete = stop === 'max_tokens' || stop === 'refusal' || stop === 'model_context_window_exceeded';
  const end: ModelEnd = { type: 'model.end', status: incomplete ? 'incomplete' : 'completed', usage: anthropicUsageToUsage(usage) };
  if (incomplete) end.incomplete_reason = stop === 'refusal' ? 'content_filter' : 'max_output_tokens';
  return end;
}

export class AnthropicStreamDecoder implements StreamDecoder {
  private readonly composer = new OutputComposer();
  private usage: AnthropicUsage = {};
  private stop: string | null = null;
  private stopped = false;
  private readonly toolBlocks = new Set<number>();

  event(msg: SseMessage, out: ModelEvent[]): void {
    const ev = JSON.parse(msg.data) as RawMessageStreamEvent | { type: 'error'; error: { type?: string; message?: string } } | { type: 'ping' };
    const composer = this.composer;
    switch (ev.type) {
      case 'message_start':
        this.usage = { ...ev.message.usage };
        break;
      case 'content_block_start': {
        const b = ev.content_block;
        if (b.type === 'tool_use') {
          this.toolBlocks.add(ev.index);
          composer.callStart(ev.index, b.id, b.name, out);
        } else if (b.type === 'text' && b.text) composer.text(b.text, out);
        break;
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta') composer.text(d.text, out);
        else if (d.type === 'input_json_delta') composer.callArgs(ev.index, d.partial_json, out);
        else if (d.type === 'thinking_delta') composer.reasoning(d.thinking, out);
        break;
      }
      case 'content_block_stop':
        // Text blocks stay open so adjacent text blocks form one message; a tool call closes here.
        if (this.toolBlocks.has(ev.index)) composer.close(out);
        break;
      case 'message_delta':
        if (ev.delta.stop_reason) this.stop = ev.delta.stop_reason;
        // message_delta usage is cumulative
        if (ev.usage) for (const [k, v] of Object.entries(ev.usage)) if (v != null) (this.usage as Record<string, unknown>)[k] = v;
        break;
      case 'message_stop':
        this.stopped = true;
        break;
      case 'error':
        throw new UpstreamStreamError(
          ev.error?.type === 'rate_limit_error' ? 'rate_limit_exceeded' : 'upstream_error',
          `the upstream stream reported an error: ${ev.error?.message ?? ev.error?.type}`,
        );
    }
  }

  end(out: ModelEvent[]): void {
    if (!this.stopped) throw new UpstreamStreamError('upstream_error', 'The upstream stream ended before message_stop');
    const end = modelEnd(this.stop, this.usage);
    this.composer.close(out, end.status);
    out.push(end);
  }
}

export function anthropicMessageToOutput(body: Message): ModelOutput {
  const end = modelEnd(body.stop_reason, body.usage ?? {});
  const items = new ItemCollector(end.status);
  for (const b of body.content ?? []) {
    if (b.type === 'text') items.text(b.text);
    else if (b.type === 'tool_use') items.call(b.id, b.name, JSON.stringify(b.input ?? {}));
    else if (b.type === 'thinking') items.reasoning(b.thinking);
  }
  return { items: items.done(), end };
}
