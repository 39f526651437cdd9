/**
 * An upstream OpenAI Responses answer in canonical form. The gateway owns ids and state: upstream item
 * ids are replaced with the gateway's own, and upstream lifecycle events are consumed here. Upstream
 * events are already in wire form, so they are passed on as parsed, with their ids rewritten in place.
 */
import type { Response as UpstreamResponse } from 'openai/resources/responses/responses';
import { UpstreamStreamError } from '../../protocol/errors.ts';
import type { ItemEvent, ModelEnd, ModelEvent, ModelOutput } from '../../protocol/events.ts';
import { newId } from '../../protocol/ids.ts';
import { emptyUsage, type OutputItem, type Usage } from '../../protocol/responses.ts';
import type { SseMessage, StreamDecoder } from '../../protocol/stream-decoder.ts';

const ID_PREFIX: Record<string, Parameters<typeof newId>[0]> = {
  message: 'msg',
  function_call: 'fc',
  reasoning: 'rs',
};

type UpstreamUsage = {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
};

function toUsage(u: UpstreamUsage | null | undefined): Usage {
  if (!u) return emptyUsage();
  const input = u.input_tokens ?? 0;
  const output = u.output_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.input_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u.output_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: input + output,
  };
}

function modelEnd(r: Pick<UpstreamResponse, 'status' | 'usage' | 'incomplete_details'>): ModelEnd {
  const end: ModelEnd = { type: 'model.end', status: r.status === 'incomplete' ? 'incomplete' : 'completed', usage: toUsage(r.usage) };
  if (end.status === 'incomplete') end.incomplete_reason = r.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'max_output_tokens';
  return end;
}

function failure(r: { error?: { code?: string | null; message?: string } | null }): UpstreamStreamError {
  return new UpstreamStreamError(r.error?.code ?? 'upstream_error', r.error?.message ?? 'The upstream response failed');
}

export class ResponsesStreamDecoder implements StreamDecoder {
  /** Upstream item id -> the gateway's. */
  private readonly ids = new Map<string, string>();
  private ended = false;

  private mapId(upstream: string | undefined, type: string): string {
    let id = upstream ? this.ids.get(upstream) : undefined;
    if (!id) {
      id = newId(ID_PREFIX[type] ?? 'item');
      if (upstream) this.ids.set(upstream, id);
    }
    return id;
  }

  event(msg: SseMessage, out: ModelEvent[]): void {
    const ev = JSON.parse(msg.data) as Record<string, unknown> & { type: string };
    switch (ev.type) {
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        return;
      case 'response.completed':
      case 'response.incomplete':
        this.ended = true;
        out.push(modelEnd(ev.response as UpstreamResponse));
        return;
      case 'response.failed':
        throw failure(ev.response as UpstreamResponse);
      case 'error':
        throw new UpstreamStreamError(String(ev.code ?? 'upstream_error'), String(ev.message ?? 'The upstream stream reported an error'));
    }
    const item = ev.item as { id?: string; type: string } | undefined;
    if (item && typeof item === 'object') item.id = this.mapId(item.id, item.type);
    else if (typeof ev.item_id === 'string') ev.item_id = this.ids.get(ev.item_id) ?? ev.item_id;
    else return; // events that name no item (none are documented besides lifecycle ones) are dropped
    out.push(ev as unknown as ItemEvent);
  }

  end(): void {
    if (!this.ended) throw new UpstreamStreamError('upstream_error', 'The upstream stream ended before the response completed');
  }
}

export function responseToOutput(body: UpstreamResponse): ModelOutput {
  if (body.status === 'failed') throw failure(body);
  const items = (body.output ?? []) as unknown as (OutputItem & { id?: string })[];
  for (const item of items) item.id = newId(ID_PREFIX[item.type] ?? 'item');
  return { items, end: modelEnd(body) };
}
