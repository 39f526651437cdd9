/**
 * A ranked full-text index over tools (MiniSearch's BM25+): their name, title, description, parameter
 * names and descriptions, and the server they come from. Names are split as people write them
 * (`create_issue`, `getJiraIssue`, `search-docs` all read as words) and every word is stemmed (Porter),
 * so "opening tickets" finds `create_ticket`-like tools described with "open" and "ticket".
 *
 *   const index = new ToolIndex([{ server: 'github', tool }, ...]);
 *   index.search('open a github issue', 5, (entry) => allowed(entry));   // best first
 *
 * `listingIndex` keeps one index per set of server listings, rebuilt only when a listing changes.
 */
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';

/** A tool as MCP lists it (only the fields the index reads). */
export interface SearchableTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema?: unknown;
  annotations?: { title?: string | undefined } | undefined;
}

/** One indexed tool: where it comes from (a server's name, or a group such as a namespace), and the tool. */
export interface IndexEntry<T extends SearchableTool = SearchableTool> {
  server: string;
  tool: T;
}

export interface SearchHit<T extends SearchableTool = SearchableTool> extends IndexEntry<T> {
  score: number;
}

/** How many tools a search returns unless asked for another number, and at most. */
export const DEFAULT_LIMIT = 5;
export const MAX_LIMIT = 20;

/** Words that say nothing about which tool is meant. */
const STOP = new Set(
  (
    'a an and any are as at be by can could do does for from how i in into is it its me my of on or our please ' +
    'should so some that the their them then there these this those to us we when where will with would you your'
  ).split(' '),
);

/** Splits identifiers and prose into words: `getJiraIssue` → get Jira Issue, `list_pull-requests` → list pull requests. */
function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u);
}

/**
 * The words people ask with, next to the words tools are named and described with: a query's word also
 * searches for these (a query only; the index holds the tools' own words). Verbs of the usual tool
 * actions first, then objects that go by several names.
 */
const ASKED_AS: Record<string, string[]> = {
  open: ['create'],
  file: ['create'],
  add: ['create'],
  new: ['create'],
  make: ['create'],
  schedule: ['create'],
  book: ['create'],
  raise: ['create'],
  submit: ['create'],
  what: ['list'],
  show: ['list', 'get'],
  which: ['list'],
  who: ['list', 'member'],
  change: ['update'],
  edit: ['update'],
  modify: ['update'],
  move: ['update'],
  switch: ['update'],
  bump: ['update'],
  rename: ['update', 'move'],
  remove: ['delete'],
  drop: ['delete'],
  erase: ['delete'],
  find: ['search'],
  look: ['search'],
  locate: ['search'],
  fetch: ['get'],
  read: ['get'],
  approve: ['review'],
  ticket: ['issue'],
  tickets: ['issue'],
  bug: ['issue'],
  pr: ['pull', 'request'],
  mr: ['merge', 'request'],
  docs: ['documentation'],
  unzip: ['extract', 'archive'],
  zip: ['compress', 'archive'],
  executable: ['permission'],
  allowed: ['permission', 'auth'],
  access: ['share', 'permission'],
  spend: ['cost'],
  spent: ['cost'],
  calendar: ['event'],
  appointment: ['event'],
  meeting: ['event'],
  call: ['event'],
};

const stem = (t: string) => (t.length > 3 ? stemmer(t) : t);

function processTerm(term: string): string | null {
  const t = term.toLowerCase();
  if (!t || STOP.has(t)) return null;
  return stem(t);
}

/** A query's word as the index's, and the words the index may hold it as (ASKED_AS). */
function processQueryTerm(term: string): string | string[] | null {
  const stemmed = processTerm(term);
  const also = stemmed === null ? undefined : ASKED_AS[term.toLowerCase()];
  return also ? [stemmed!, ...also.map(stem)] : stemmed;
}

/** Parameter names and descriptions, one level of nesting deep. */
function parameterText(schema: unknown, depth = 0): string {
  const props = (schema as { properties?: unknown } | null)?.properties;
  if (!props || typeof props !== 'object' || depth > 1) return '';
  const parts: string[] = [];
  for (const [name, p] of Object.entries(props as Record<string, unknown>)) {
    parts.push(name);
    const d = (p as { description?: unknown } | null)?.description;
    if (typeof d === 'string') parts.push(d);
    parts.push(parameterText(p, depth + 1));
  }
  return parts.join(' ');
}

/**
 * Field weights, tuned on the fixture catalog's queries: a tool's description (which says what it does in
 * the words people use) and the server (which names the service) weigh most, a parameter's least.
 */
const BOOST = { name: 1, title: 1, server: 1.5, description: 1.5, parameters: 0.5 };

export class ToolIndex<T extends SearchableTool = SearchableTool> {
  private readonly entries: readonly IndexEntry<T>[];
  private readonly mini: MiniSearch;

  constructor(entries: readonly IndexEntry<T>[]) {
    this.entries = entries;
    this.mini = new MiniSearch({
      fields: ['name', 'title', 'server', 'description', 'parameters'],
      tokenize,
      processTerm,
      searchOptions: { boost: BOOST, combineWith: 'OR', processTerm: processQueryTerm },
    });
    this.mini.addAll(
      entries.map((e, id) => ({
        id,
        name: e.tool.name,
        title: e.tool.title ?? e.tool.annotations?.title ?? '',
        server: e.server,
        description: e.tool.description ?? '',
        parameters: parameterText(e.tool.inputSchema),
      })),
    );
  }

  get size(): number {
    return this.entries.length;
  }

  /** The best `limit` entries for `query` that `accept` allows, best first. */
  search(query: string, limit: number, accept?: (entry: IndexEntry<T>) => boolean): SearchHit<T>[] {
    const out: SearchHit<T>[] = [];
    const filter = accept && ((r: { id: number }) => accept(this.entries[r.id]!));
    for (const r of this.mini.search(query, filter ? { filter } : undefined)) {
      const e = this.entries[r.id as number]!;
      out.push({ server: e.server, tool: e.tool, score: r.score });
      if (out.length === limit) break;
    }
    return out;
  }
}

/** Indexes of server listings, by the servers they cover; one is rebuilt when any of its listings is a new one. */
const byServers = new Map<string, { listings: readonly (readonly SearchableTool[])[]; index: ToolIndex }>();
const MAX_CACHED = 64;

/**
 * The index over these servers' listings. An upstream's listing is one array until its tools change
 * (list_changed, or the cache's TTL), so the index is built once per listing.
 */
export function listingIndex<T extends SearchableTool>(listings: readonly { server: string; tools: readonly T[] }[]): ToolIndex<T> {
  const key = listings.map((l) => l.server).join('\u0000');
  const hit = byServers.get(key);
  if (hit && hit.listings.length === listings.length && hit.listings.every((l, i) => l === listings[i]!.tools)) {
    byServers.delete(key);
    byServers.set(key, hit); // most recently used last
    return hit.index as unknown as ToolIndex<T>;
  }
  const index = new ToolIndex(listings.flatMap((l) => l.tools.map((tool) => ({ server: l.server, tool }))));
  byServers.delete(key);
  byServers.set(key, { listings: listings.map((l) => l.tools), index: index as unknown as ToolIndex });
  if (byServers.size > MAX_CACHED) byServers.delete(byServers.keys().next().value!);
  return index;
}
