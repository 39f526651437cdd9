/**
 * A Gemini answer in canonical form (ai.google.dev, API reference: `GenerateContentResponse`;
 * `streamGenerateContent?alt=sse` sends one per SSE event, the usage in each cumulative). Text parts become
 * a message, thought parts (`thought: true`) reasoning text, and each `functionCall` part (always whole) a
 * function call. A thought signature becomes a reasoning item's `encrypted_content`: the reasoning item open
 * when it arrives, or one of its own, placed before the call it came on (after the message, for text).
 */
import { OutputComposer } from '../../protocol/compose.ts';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { ModelEnd, ModelEvent, ModelOutput } from '../../protocol/events.ts';
import { newCallId } from '../../protocol/ids.ts';
import { usageOf, type OutputItem, type Usage } from '../../protocol/responses.ts';
import type { SseMessage, StreamDecoder } from '../../protocol/stream-decoder.ts';
import {
  geminiIdToCallId,
  signatureToEncrypted,
  type GeminiFunctionCall,
  type GeminiPart,
  type GeminiStreamError,
  type GeminiUsageMetadata,
  type GenerateContentResponse,
} from './wire.ts';

/** Finish reasons of output withheld by a filter. */
const CONTENT_FILTER = new Set([
  'SAFETY',
  'RECITATION',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Thoughts are output tokens Gemini counts apart from the candidates'; a tool's prompt (Google Search results)
 * is input counted apart from the prompt's; cached tokens are counted inside the prompt's.
 */
export function geminiUsageToUsage(u: GeminiUsageMetadata | undefined): Usage {
  const thoughts = u?.thoughtsTokenCount ?? 0;
  const input = (u?.promptTokenCount ?? 0) + (u?.toolUsePromptTokenCount ?? 0);
  return usageOf(input, (u?.candidatesTokenCount ?? 0) + thoughts, u?.cachedContentTokenCount ?? 0, thoughts);
}

function modelEnd(finish: string | undefined, blocked: boolean, usage: GeminiUsageMetadata | undefined): ModelEnd {
  const filtered = blocked || (finish !== undefined && CONTENT_FILTER.has(finish));
  const end: ModelEnd = { type: 'model.end', status: 'completed', usage: geminiUsageToUsage(usage) };
  if (filtered || finish === 'MAX_TOKENS') {
    end.status = 'incomplete';
    end.incomplete_reason = filtered ? 'content_filter' : 'max_output_tokens';
  }
  return end;
}

export class GeminiStreamDecoder implements StreamDecoder {
  private readonly composer = new OutputComposer();
  private usage: GeminiUsageMetadata | undefined;
  private finish: string | undefined;
  private blocked = false;
  private calls = 0;
  private messageOpen = false;
  /** The signature on a text part of the open message: its own reasoning item once the message closes. */
  private textSignature: string | null = null;

  event(msg: SseMessage, out: ModelEvent[]): void {
    this.chunk(JSON.parse(msg.data) as GenerateContentResponse | GeminiStreamError, out);
  }

  /** One `GenerateContentResponse` (a stream's chunk, or a whole answer). */
  chunk(res: GenerateContentResponse | GeminiStreamError, out: ModelEvent[]): void {
    if ('error' in res) {
      const e = res.error;
      throw new UpstreamStreamError(
        e?.status === 'RESOURCE_EXHAUSTED' ? 'rate_limit_exceeded' : 'upstream_error',
        `the upstream stream reported an error: ${e?.message ?? e?.status}`,
      );
    }
    if (res.usageMetadata) this.usage = res.usageMetadata;
    if (res.promptFeedback?.blockReason) this.blocked = true;
    const candidate = res.candidates?.[0];
    if (!candidate) return;
    for (const part of candidate.content?.parts ?? []) this.part(part, out);
    if (candidate.finishReason) this.finish = candidate.finishReason;
  }

  end(out: ModelEvent[]): void {
    if (this.finish === undefined && !this.blocked) throw new UpstreamStreamError('upstream_error', 'the upstream stream ended without a finishReason');
    const end = modelEnd(this.finish, this.blocked, this.usage);
    this.closeMessage(out, end.status);
    this.closeReasoning(out, end.status);
    out.push(end);
  }

  private part(p: GeminiPart, out: ModelEvent[]): void {
    if (p.functionCall) this.call(p.functionCall, p.thoughtSignature, out);
    else if (typeof p.text !== 'string')
      return; // other output (inline images, executable code) has no canonical form here
    else if (p.thought) {
      this.closeMessage(out);
      if (p.text !== '') this.composer.reasoning(p.text, out);
      if (p.thoughtSignature) this.composer.reasoningState(signatureToEncrypted(p.thoughtSignature), out);
    } else {
      this.closeReasoning(out);
      if (p.text !== '') {
        this.composer.text(p.text, out);
        this.messageOpen = true;
      }
      // Gemini 3 signs a text answer on its last part (often an empty one).
      if (p.thoughtSignature) {
        if (this.messageOpen) this.textSignature = p.thoughtSignature;
        else this.signatureItem(p.thoughtSignature, out);
      }
    }
  }

  private call(fc: GeminiFunctionCall, signature: string | undefined, out: ModelEvent[]): void {
    this.closeMessage(out);
    if (signature) this.composer.reasoningState(signatureToEncrypted(signature), out);
    this.closeReasoning(out);
    const key = this.calls++;
    this.composer.callStart(key, fc.id ? geminiIdToCallId(fc.id) : newCallId(), fc.name, out);
    this.composer.callArgs(key, JSON.stringify(fc.args ?? {}), out);
    this.composer.close(out);
  }

  private signatureItem(signature: string, out: ModelEvent[], status: ModelEnd['status'] = 'completed'): void {
    this.composer.reasoningState(signatureToEncrypted(signature), out);
    this.closeReasoning(out, status);
  }

  private closeMessage(out: ModelEvent[], status: ModelEnd['status'] = 'completed'): void {
    if (!this.messageOpen) return;
    this.messageOpen = false;
    this.composer.close(out, status);
    const signature = this.textSignature;
    this.textSignature = null;
    if (signature) this.signatureItem(signature, out, status);
  }

  private closeReasoning(out: ModelEvent[], status: ModelEnd['status'] = 'completed'): void {
    if (this.composer.isReasoningOpen()) this.composer.close(out, status);
  }
}

/** A whole `generateContent` answer: decoded as a stream of one chunk, so both read Gemini the same way. */
export function geminiResponseToOutput(body: GenerateContentResponse): ModelOutput {
  const decoder = new GeminiStreamDecoder();
  const out: ModelEvent[] = [];
  decoder.chunk(body, out);
  decoder.end(out);
  const items: OutputItem[] = [];
  for (const ev of out) if (ev.type === 'response.output_item.done') items.push(ev.item);
  return { items, end: out.at(-1) as ModelEnd };
}
