/**
 * An upstream OpenAI Responses stream -> canonical events. Upstream item ids are replaced with the
 * gateway's own, and upstream lifecycle events are consumed here.
 */
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { UpstreamStreamError, type ItemEvent, type ModelEnd, type ModelEvent } from '../events.ts';
import { newId } from '../ids.ts';
import { emptyUsage, type Usage } from '../responses.ts';

const ID_PREFIX: Record<string, Parameters<typeof newId>[0]> = {
  message: 'msg',
  function_call: 'fc',
  reasoning: 'rs',
};

function toUsage(u: { input_tokens?: number; output_tokens?: number; input_tokens_details?: { cached_tokens?: number } | null; output_tokens_details?: { reasoning_tokens?: number } | null } | null | undefined): Usage {
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

export async function* responsesEventsToEvents(events: AsyncIterable<ResponseStreamEvent>): AsyncGenerator<ModelEvent> {
  const ids = new Map<string, string>();
  const mapId = (upstream: string | undefined, type: string): string => {
    const key = upstream ?? '';
    let id = ids.get(key);
    if (!id) {
      id = newId(ID_PREFIX[type] ?? 'item');
      if (upstream) ids.set(key, id);
    }
    return id;
  };
  let ended = false;
  for await (const raw of events) {
    const ev = raw as ResponseStreamEvent & Record<string, unknown>;
    switch (ev.type) {
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        continue;
      case 'response.completed':
      case 'response.incomplete': {
        const r = ev.response;
        const end: ModelEnd = { type: 'model.end', status: ev.type === 'response.completed' ? 'completed' : 'incomplete', usage: toUsage(r.usage) };
        const reason = r.incomplete_details?.reason;
        if (end.status === 'incomplete') end.incomplete_reason = reason === 'content_filter' ? 'content_filter' : 'max_output_tokens';
        ended = true;
        yield end;
        continue;
      }
      case 'response.failed':
        throw new UpstreamStreamError(ev.response.error?.code ?? 'server_error', ev.response.error?.message ?? 'The upstream response failed');
      case 'error':
        throw new UpstreamStreamError(String(ev.code ?? 'server_error'), String(ev.message ?? 'The upstream stream reported an error'));
    }
    const { sequence_number: _seq, ...rest } = ev;
    if ('item' in rest && rest.item && typeof rest.item === 'object') {
      const item = rest.item as { id?: string; type: string };
      yield { ...rest, item: { ...item, id: mapId(item.id, item.type) } } as unknown as ItemEvent;
    } else if (typeof rest.item_id === 'string') {
      const id = ids.get(rest.item_id) ?? rest.item_id;
      yield { ...rest, item_id: id } as unknown as ItemEvent;
    }
    // events that name no item (none are documented besides lifecycle ones) are dropped
  }
  if (!ended) throw new UpstreamStreamError('server_error', 'The upstream stream ended before the response completed');
}
