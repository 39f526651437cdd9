/**
 * An Amazon Bedrock Converse answer in canonical form (Amazon Bedrock API Reference: ConverseStream's
 * ConverseStreamOutput events, and Converse's response): a stream of events becomes item events, a
 * whole answer becomes output items.
 */
import { ItemCollector, OutputComposer } from '../../protocol/compose.ts';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { ModelEnd, ModelEvent, ModelOutput } from '../../protocol/events.ts';
import { usageOf, type Usage } from '../../protocol/responses.ts';
import type { SseMessage, StreamDecoder } from '../../protocol/stream-decoder.ts';
import type { ConverseResponse, StreamPayloads, TokenUsage } from './wire.ts';

/** Bedrock counts cache reads and writes apart from input tokens; OpenAI counts them inside. */
export function bedrockUsageToUsage(u: TokenUsage): Usage {
  const cached = u.cacheReadInputTokens ?? 0;
  const input = (u.inputTokens ?? 0) + cached + (u.cacheWriteInputTokens ?? 0);
  return usageOf(input, u.outputTokens ?? 0, cached);
}

function modelEnd(stop: string | undefined, usage: TokenUsage): ModelEnd {
  const end: ModelEnd = { type: 'model.end', status: 'completed', usage: bedrockUsageToUsage(usage) };
  if (stop === 'max_tokens' || stop === 'model_context_window_exceeded') {
    end.status = 'incomplete';
    end.incomplete_reason = 'max_output_tokens';
  } else if (stop === 'guardrail_intervened' || stop === 'content_filtered') {
    end.status = 'incomplete';
    end.incomplete_reason = 'content_filter';
  }
  return end;
}

export class BedrockStreamDecoder implements StreamDecoder {
  private readonly composer = new OutputComposer();
  private usage: TokenUsage = {};
  private stop: string | undefined;
  private stopped = false;

  event(msg: SseMessage, out: ModelEvent[]): void {
    const payload: unknown = JSON.parse(msg.data);
    const composer = this.composer;
    switch (msg.event) {
      case 'contentBlockStart': {
        const ev = payload as StreamPayloads['contentBlockStart'];
        const tool = ev.start?.toolUse;
        if (tool) composer.callStart(ev.contentBlockIndex, tool.toolUseId, tool.name, out);
        break;
      }
      case 'contentBlockDelta': {
        const ev = payload as StreamPayloads['contentBlockDelta'];
        const d = ev.delta;
        if (d.text !== undefined) composer.text(d.text, out);
        else if (d.toolUse) composer.callArgs(ev.contentBlockIndex, d.toolUse.input, out);
        else if (d.reasoningContent?.text) composer.reasoning(d.reasoningContent.text, out);
        break;
      }
      case 'contentBlockStop': {
        // Text blocks stay open so adjacent text blocks form one message; a tool call closes here.
        const index = (payload as StreamPayloads['contentBlockStop']).contentBlockIndex;
        if (composer.isCallOpen(index)) composer.close(out);
        break;
      }
      case 'messageStop':
        this.stop = (payload as StreamPayloads['messageStop']).stopReason;
        this.stopped = true;
        break;
      case 'metadata': {
        const usage = (payload as StreamPayloads['metadata']).usage;
        if (usage) this.usage = usage;
        break;
      }
      // messageStart carries only the role
    }
  }

  end(out: ModelEvent[]): void {
    if (!this.stopped) throw new UpstreamStreamError('upstream_error', 'The upstream stream ended before messageStop');
    const end = modelEnd(this.stop, this.usage);
    this.composer.close(out, end.status);
    out.push(end);
  }
}

export function converseResponseToOutput(body: ConverseResponse): ModelOutput {
  const end = modelEnd(body.stopReason, body.usage ?? {});
  const items = new ItemCollector(end.status);
  for (const b of body.output?.message?.content ?? []) {
    if ('text' in b) items.text(b.text);
    else if ('toolUse' in b) items.call(b.toolUse.toolUseId, b.toolUse.name, JSON.stringify(b.toolUse.input ?? {}));
    else if ('reasoningContent' in b && b.reasoningContent.reasoningText) items.reasoning(b.reasoningContent.reasoningText.text);
  }
  return { items: items.done(), end };
}
