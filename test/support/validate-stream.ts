/**
 * A Responses event-stream validator: the framing of OpenAI's streams (`event:` equal to `type`,
 * `sequence_number` from 0) and the ordering rules openai-node's stream accumulator relies on
 * (`lib/responses/ResponseStream`: an item is added before any event names it, parts within items,
 * one terminal event last). Returns the list of violations; an empty list means the stream is well-formed.
 */
export interface Frame {
  event?: string;
  data: string;
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const FAMILY: Record<string, string> = {
  'response.output_text': 'message',
  'response.content_part': 'message',
  'response.refusal': 'message',
  'response.function_call_arguments': 'function_call',
  'response.mcp_call_arguments': 'mcp_call',
  'response.mcp_call': 'mcp_call',
  'response.mcp_list_tools': 'mcp_list_tools',
  'response.reasoning_text': 'reasoning',
  'response.reasoning_summary_text': 'reasoning',
  'response.reasoning_summary_part': 'reasoning',
};

function familyOf(type: string): string | undefined {
  const prefix = type.slice(0, type.lastIndexOf('.'));
  return FAMILY[prefix];
}

export function validateResponseStream(frames: Frame[]): { violations: string[]; events: any[] } {
  const v: string[] = [];
  const events: any[] = [];
  for (const f of frames) {
    if (f.data === '[DONE]') continue;
    let ev: any;
    try {
      ev = JSON.parse(f.data);
    } catch {
      v.push(`unparseable frame: ${f.data.slice(0, 80)}`);
      continue;
    }
    if (f.event !== ev.type) v.push(`event name '${f.event}' != type '${ev.type}'`);
    events.push(ev);
  }
  const items: { id: string; type: string; done: boolean; parts: Set<number> }[] = [];
  const ids = new Set<string>();
  let created = 0;
  let terminal = 0;
  for (const [i, ev] of events.entries()) {
    if (ev.sequence_number !== i) v.push(`event ${i} (${ev.type}) has sequence_number ${ev.sequence_number}`);
    if (terminal) v.push(`event ${i} (${ev.type}) after the terminal event`);
    if (i === 0 && ev.type !== 'response.created') v.push(`first event is ${ev.type}`);
    if (ev.type !== 'error' && ev.error) v.push(`event ${i} (${ev.type}) has a truthy top-level error`);
    if (ev.type === 'response.created') created++;
    if (TERMINAL.has(ev.type)) terminal++;
    if (ev.type === 'response.output_item.added') {
      if (ev.output_index !== items.length) v.push(`output_item.added at ${ev.output_index}, expected ${items.length}`);
      if (!ev.item?.id) v.push(`item at ${ev.output_index} has no id`);
      if (ids.has(ev.item?.id)) v.push(`duplicate item id ${ev.item?.id}`);
      ids.add(ev.item?.id);
      items.push({ id: ev.item?.id, type: ev.item?.type, done: false, parts: new Set() });
      continue;
    }
    if (typeof ev.output_index !== 'number') continue;
    const item = items[ev.output_index];
    if (!item) {
      v.push(`event ${i} (${ev.type}) names output_index ${ev.output_index} before it was added`);
      continue;
    }
    if (item.done) v.push(`event ${i} (${ev.type}) after output_item.done for index ${ev.output_index}`);
    if (ev.type === 'response.output_item.done') {
      item.done = true;
      if (ev.item?.id !== item.id || ev.item?.type !== item.type) v.push(`output_item.done at ${ev.output_index} changes id/type`);
      continue;
    }
    if (ev.item_id !== item.id) v.push(`event ${i} (${ev.type}) item_id ${ev.item_id} != ${item.id}`);
    const fam = familyOf(ev.type);
    if (fam && fam !== item.type) v.push(`event ${i} (${ev.type}) targets a ${item.type} item`);
    if (ev.type === 'response.content_part.added') item.parts.add(ev.content_index);
    else if (typeof ev.content_index === 'number' && item.type === 'message' && !item.parts.has(ev.content_index))
      v.push(`event ${i} (${ev.type}) before content_part.added for content_index ${ev.content_index}`);
  }
  if (created !== 1) v.push(`${created} response.created events`);
  if (terminal !== 1) v.push(`${terminal} terminal events`);
  const last = events.at(-1);
  if (last && TERMINAL.has(last.type)) {
    const out = last.response?.output ?? [];
    if (out.length !== items.length) v.push(`terminal output has ${out.length} items, stream added ${items.length}`);
    out.forEach((it: any, k: number) => {
      if (it.id !== items[k]?.id) v.push(`terminal output[${k}] id ${it.id} != streamed ${items[k]?.id}`);
    });
    if (!last.response?.usage) v.push('terminal event has no usage');
    items.forEach((it, k) => {
      if (!it.done) v.push(`item ${k} never got output_item.done`);
    });
  }
  return { violations: v, events };
}
