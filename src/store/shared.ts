/** What both stores share: input item paging and how an interrupted response ends. */
import type { InputItem } from '../protocol/responses.ts';
import type { ItemPage, ItemPageQuery } from './types.ts';

/** How a response cut off by a stop ends. */
export const INTERRUPTED = { code: 'server_error', message: 'The gateway stopped while this response was in progress.' } as const;

/** One page of items, as OpenAI's `/input_items` pages them: `after` is exclusive, in the given order. */
export function pageOf(items: (InputItem & { id: string })[], opts: ItemPageQuery): ItemPage {
  const ordered = opts.order === 'asc' ? items : [...items].reverse();
  let start = 0;
  if (opts.after) {
    const i = ordered.findIndex((it) => it.id === opts.after);
    start = i < 0 ? ordered.length : i + 1;
  }
  const data = ordered.slice(start, start + opts.limit);
  return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + opts.limit < ordered.length };
}
