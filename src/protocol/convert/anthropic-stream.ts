/** Anthropic Messages stream -> canonical Responses events (openai-wire.md §7.2). */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages/messages';
import { OutputComposer } from '../compose.ts';
import { UpstreamStreamError, type ModelEnd, type ModelEvent } from '../events.ts';
import { usageOf, type Usage } from '../responses.ts';

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

export async function* anthropicEventsToEvents(events: AsyncIterable<RawMessageStreamEvent>): AsyncGenerator<ModelEvent> {
  const composer = new OutputComposer();
  let usage: AnthropicUsage = {};
  let stop: string | null = null;
  let toolBlocks = new Set<number>();
  let stopped = false;
  for await (const ev of events) {
    switch (ev.type) {
      case 'message_start':
        usage = { ...ev.message.usage };
        toolBlocks = new Set();
        break;
      case 'content_block_start': {
        const b = ev.content_block;
        if (b.type === 'tool_use') {
          toolBlocks.add(ev.index);
          yield* composer.callStart(ev.index, b.id, b.name);
        } else if (b.type === 'text' && b.text) {
          yield* composer.text(b.text);
        }
        break;
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta') yield* composer.text(d.text);
        else if (d.type === 'input_json_delta') yield* composer.callArgs(ev.index, d.partial_json);
        else if (d.type === 'thinking_delta') yield* composer.reasoning(d.thinking);
        break;
      }
      case 'content_block_stop':
        // Text blocks stay open so adjacent text blocks form one message; a tool call closes here.
        if (toolBlocks.has(ev.index)) yield* composer.close();
        break;
      case 'message_delta':
        if (ev.delta.stop_reason) stop = ev.delta.stop_reason;
        // message_delta usage is cumulative
        usage = { ...usage, ...Object.fromEntries(Object.entries(ev.usage ?? {}).filter(([, v]) => v != null)) };
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  if (!stopped) throw new UpstreamStreamError('server_error', 'The upstream stream ended before message_stop');
  const incomplete = stop === 'max_tokens' || stop === 'refusal' || stop === 'model_context_window_exceeded';
  yield* composer.close(incomplete ? 'incomplete' : 'completed');
  const end: ModelEnd = { type: 'model.end', status: incomplete ? 'incomplete' : 'completed', usage: anthropicUsageToUsage(usage) };
  if (incomplete) end.incomplete_reason = stop === 'refusal' ? 'content_filter' : 'max_output_tokens';
  yield end;
}
