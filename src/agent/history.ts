/**
 * The conversation a response continues, reached through `previous_response_id`. Each stored response
 * that finished is kept as a link (its own input and output, and its parent link), so continuing a
 * conversation reads one status from the store rather than every response up the chain: the cost of a
 * turn follows the turn, not the conversation. The links are bounded (least recently used go first);
 * after a restart or an eviction, the chain is read from the store once and linked again.
 */
import { ApiError } from '../protocol/errors.ts';
import type { InputItem } from '../protocol/responses.ts';
import type { Store, StoredResponse } from '../store/types.ts';

const MAX_CHAIN = 10_000;

interface Link {
  readonly parent: Link | null;
  /** The response's input items, then its output items. */
  readonly items: readonly InputItem[];
  readonly approvals: StoredResponse['approvals'];
}

export interface History {
  items: InputItem[];
  approvals: StoredResponse['approvals'];
  /** Where a response continuing this history hangs. */
  readonly link: Link | null;
}

const EMPTY: History = { items: [], approvals: {}, link: null };

function linkOf(r: StoredResponse, parent: Link | null): Link {
  return { parent, items: [...r.inputItems, ...(r.response.output as InputItem[])], approvals: r.approvals };
}

export class Histories {
  private readonly store: Store;
  private readonly max: number;
  /** Response id -> its link; a Map keeps insertion order, which makes it an LRU. */
  private readonly links = new Map<string, Link>();

  constructor(store: Store, max = 2_000) {
    this.store = store;
    this.max = max;
  }

  /**
   * Items of every response up the chain, oldest first: each one's input, then its output. The status
   * is always read from the store (the response may have been deleted, or be another replica's).
   */
  async load(previousId: string | null | undefined): Promise<History> {
    if (!previousId) return EMPTY;
    const status = await this.store.responseStatus(previousId);
    if (status === null)
      throw new ApiError(400, `Previous response with id '${previousId}' not found.`, { param: 'previous_response_id', code: 'previous_response_not_found' });
    if (status === 'in_progress' || status === 'queued')
      throw new ApiError(400, `Previous response with id '${previousId}' is still in progress.`, {
        param: 'previous_response_id',
        code: 'previous_response_in_progress',
      });
    const link = this.links.get(previousId) ?? (await this.readChain(previousId));
    this.touch(previousId, link);
    return flatten(link);
  }

  /** A finished response that was stored: its continuation will find it here. */
  remember(r: StoredResponse, parent: Link | null): void {
    this.touch(r.response.id, linkOf(r, parent));
  }

  private touch(id: string, link: Link): void {
    this.links.delete(id);
    this.links.set(id, link);
    if (this.links.size > this.max) this.links.delete(this.links.keys().next().value!);
  }

  /** Reads the chain from the store up to the first response already linked (or a deleted one). */
  private async readChain(id: string): Promise<Link> {
    const chain: StoredResponse[] = [];
    let parent: Link | null = null;
    let next: string | null = id;
    while (next && chain.length < MAX_CHAIN) {
      const known = this.links.get(next);
      if (known) {
        parent = known;
        break;
      }
      const r = await this.store.getResponse(next);
      if (!r) break; // an older link was deleted: the conversation starts after it
      chain.push(r);
      next = r.response.previous_response_id;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      parent = linkOf(chain[i]!, parent);
      if (i > 0) this.touch(chain[i]!.response.id, parent);
    }
    return parent!;
  }
}

function flatten(last: Link): History {
  const links: Link[] = [];
  for (let l: Link | null = last; l; l = l.parent) links.push(l);
  const items: InputItem[] = [];
  const approvals: StoredResponse['approvals'] = {};
  for (let i = links.length - 1; i >= 0; i--) {
    for (const item of links[i]!.items) items.push(item);
    Object.assign(approvals, links[i]!.approvals);
  }
  return { items, approvals, link: last };
}
