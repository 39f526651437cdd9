/**
 * A response's tool search (OpenAI's `tool_search` tool and `defer_loading`, for every model): the
 * function the model searches with, what it searches (the catalog's deferred MCP tools and the request's
 * deferred functions), and what has been loaded, which every later model call of the response, and of its
 * continuations, is offered. What is loaded is always read from `tool_search_output` items, those of the
 * conversation and those the gateway adds, so a continuation (stored or replayed) keeps its tools without
 * searching again.
 */
import { newId } from '../protocol/ids.ts';
import type { ModelTool } from '../protocol/model-request.ts';
import type { CustomTool, FunctionTool, NamespaceTool, Tool, ToolSearchCallItem, ToolSearchOutputItem, ToolSearchTool } from '../protocol/responses.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, type SearchableTool, ToolIndex } from '../search/tool-index.ts';
import type { ToolCatalog } from './tool-catalog.ts';

type NamespaceMember = NamespaceTool['tools'][number];

/** A client tool that waits for a search: a function, a custom tool, or a member of a namespace. */
export interface DeferredClientTool {
  tool: FunctionTool | CustomTool | NamespaceMember;
  namespace?: NamespaceTool | undefined;
}

/** The request's own tools split: those offered from the first model call, and those a search must load. */
export function splitDeferred(tools: readonly ModelTool[]): { offered: ModelTool[]; deferred: DeferredClientTool[] } {
  const offered: ModelTool[] = [];
  const deferred: DeferredClientTool[] = [];
  for (const t of tools) {
    if ((t.type === 'function' || t.type === 'custom') && (t as FunctionTool | CustomTool).defer_loading) {
      deferred.push({ tool: t as FunctionTool | CustomTool });
    } else if (t.type === 'namespace') {
      const ns = t as NamespaceTool;
      const now = ns.tools.filter((f) => !f.defer_loading);
      for (const f of ns.tools) if (f.defer_loading) deferred.push({ tool: f, namespace: ns });
      if (now.length === ns.tools.length) offered.push(t);
      else if (now.length) offered.push({ ...ns, tools: now });
    } else offered.push(t);
  }
  return { offered, deferred };
}

const DESCRIPTION =
  'Finds tools for a task. Most tools are not loaded until you search for them. Describe what you need in a few ' +
  'words, naming the service when you know it (for example "create GitHub issue", "list Kubernetes pods", ' +
  '"send Slack message"); the best matching tools are loaded and you can call them in your next step. If nothing ' +
  'fits, search again with other words.';

const PARAMETERS = {
  type: 'object',
  properties: {
    query: { type: 'string', description: 'What the tool should do, in a few words (task, object, service).' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `How many tools to load at most (default ${DEFAULT_LIMIT}).` },
  },
  required: ['query'],
  additionalProperties: false,
};

/** A loaded client tool as the model is offered it. */
function offerable<T extends { defer_loading?: boolean | null | undefined }>(t: T): T {
  if (t.defer_loading == null) return t;
  const { defer_loading: _, ...rest } = t;
  return rest as T;
}

interface ClientDoc extends SearchableTool {
  deferred: DeferredClientTool;
}

export class ToolSearch {
  /** The function the model searches with. */
  readonly fn: string;
  readonly execution: 'server' | 'client';
  private readonly spec: ToolSearchTool | undefined;
  private readonly catalog: ToolCatalog;
  private readonly deferredClient: readonly DeferredClientTool[];
  private clientIndex: ToolIndex<ClientDoc> | undefined;
  /** Client tools offered from the start, then with what searches loaded merged in. */
  private client: ModelTool[];

  /** `spec` absent: the gateway's settings deferred tools and added the search. */
  constructor(fn: string, spec: ToolSearchTool | undefined, catalog: ToolCatalog, offered: ModelTool[], deferredClient: readonly DeferredClientTool[]) {
    this.fn = fn;
    this.spec = spec;
    this.execution = spec?.execution ?? 'server';
    this.catalog = catalog;
    this.client = offered;
    this.deferredClient = deferredClient;
  }

  /** The search as the model is offered it. */
  definition(): FunctionTool {
    if (this.execution === 'client')
      return {
        type: 'function',
        name: this.fn,
        description: this.spec?.description ?? DESCRIPTION,
        parameters: this.spec?.parameters ?? PARAMETERS,
        strict: false,
      };
    return { type: 'function', name: this.fn, description: `${DESCRIPTION}${this.groups()}`, parameters: PARAMETERS, strict: false };
  }

  /** What can be found: each server of a deferred tool, and each namespace, with its description. */
  private groups(): string {
    const seen = new Map<string, string>();
    for (const o of this.catalog.all())
      if (o.deferred && !seen.has(o.server.name)) seen.set(o.server.name, o.server.config.description ?? o.binding.entry.server_description ?? '');
    for (const d of this.deferredClient) if (d.namespace && !seen.has(d.namespace.name)) seen.set(d.namespace.name, d.namespace.description ?? '');
    if (!seen.size) return '';
    const list = [...seen].slice(0, 40).map(([name, about]) => (about ? `${name} (${about})` : name));
    return `\n\nTools can be found for: ${list.join('; ')}.`;
  }

  /** The client's tools for the next model call: those offered from the start and those loaded. */
  clientTools(): ModelTool[] {
    return this.client;
  }

  /** Runs the model's search (server execution): the call and output items it adds to the response. */
  run(callId: string, args: string): [ToolSearchCallItem, ToolSearchOutputItem] {
    const parsed = parseArgs(args);
    const call: ToolSearchCallItem = {
      id: newId('tsc'),
      type: 'tool_search_call',
      call_id: callId,
      arguments: parsed,
      execution: 'server',
      status: 'completed',
    };
    const query = typeof parsed.query === 'string' ? parsed.query.trim() : '';
    const limit = typeof parsed.limit === 'number' && Number.isInteger(parsed.limit) ? Math.min(Math.max(parsed.limit, 1), MAX_LIMIT) : DEFAULT_LIMIT;
    const output: ToolSearchOutputItem = {
      id: newId('tso'),
      type: 'tool_search_output',
      call_id: callId,
      execution: 'server',
      status: 'completed',
      tools: query ? this.find(query, limit) : [],
    };
    this.load(output);
    return [call, output];
  }

  /** The best tools for the query, as a `tool_search_output` holds them: an `mcp` entry per label, client tools whole. */
  private find(query: string, limit: number): Tool[] {
    const hits: { score: number; mcp?: { label: string; name: string; entry: () => Tool }; client?: DeferredClientTool }[] = [];
    for (const h of this.catalog.search(query, limit)) {
      const b = h.offered.binding;
      const entry = (): Tool => {
        const t: Record<string, unknown> = { type: 'mcp', server_label: b.label, allowed_tools: [] };
        if (b.entry.server_url) t.server_url = b.entry.server_url;
        if (b.entry.require_approval != null) t.require_approval = b.entry.require_approval;
        return t as Tool;
      };
      hits.push({ score: h.score, mcp: { label: b.label, name: this.catalog.loadName(h.offered), entry } });
    }
    if (this.deferredClient.length) {
      this.clientIndex ??= new ToolIndex(
        this.deferredClient.map((d) => ({
          server: d.namespace?.name ?? '',
          tool: {
            name: d.tool.name,
            description: d.tool.description ?? undefined,
            inputSchema: d.tool.type === 'function' ? d.tool.parameters : undefined,
            deferred: d,
          },
        })),
      );
      for (const h of this.clientIndex.search(query, limit)) hits.push({ score: h.score, client: h.tool.deferred });
    }
    hits.sort((a, b) => b.score - a.score);
    const tools: Tool[] = [];
    const byLabel = new Map<string, string[]>();
    const byNamespace = new Map<string, NamespaceMember[]>();
    for (const h of hits.slice(0, limit)) {
      if (h.mcp) {
        let names = byLabel.get(h.mcp.label);
        if (!names) {
          const entry = h.mcp.entry();
          names = entry.allowed_tools as string[];
          byLabel.set(h.mcp.label, names);
          tools.push(entry);
        }
        names.push(h.mcp.name);
      } else if (h.client?.namespace) {
        const ns = h.client.namespace;
        let members = byNamespace.get(ns.name);
        if (!members) {
          members = [];
          byNamespace.set(ns.name, members);
          tools.push({ type: 'namespace', name: ns.name, description: ns.description ?? '', tools: members } as Tool);
        }
        members.push(h.client.tool);
      } else if (h.client) tools.push(h.client.tool as Tool);
    }
    return tools;
  }

  /** Loads the tools a `tool_search_output` holds (the gateway's, or the client's own for a client search). */
  load(item: ToolSearchOutputItem): void {
    for (const t of item.tools) {
      switch (t.type) {
        case 'mcp': {
          const a = t.allowed_tools;
          this.catalog.load(t.server_label, a == null ? null : Array.isArray(a) ? a : (a.tool_names ?? null));
          break;
        }
        case 'function':
        case 'custom':
          if (!this.client.some((c) => c.type === t.type && (c as { name: string }).name === t.name)) this.client = [...this.client, offerable(t)];
          break;
        case 'namespace': {
          const i = this.client.findIndex((c) => c.type === 'namespace' && c.name === t.name);
          const have = i < 0 ? [] : (this.client[i] as NamespaceTool).tools;
          const added = t.tools.filter((f) => !have.some((h) => h.name === f.name)).map(offerable);
          if (!added.length) break;
          const merged = { ...t, ...(i < 0 ? {} : this.client[i]), tools: [...have, ...added] } as ModelTool;
          this.client = i < 0 ? [...this.client, merged] : this.client.map((c, j) => (j === i ? merged : c));
          break;
        }
      }
    }
  }
}

function parseArgs(args: string): Record<string, unknown> {
  try {
    const v = JSON.parse(args || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : { query: String(v) };
  } catch {
    return { query: args };
  }
}

/** What a model reads of a `tool_search_output`: the tools now loaded, by the names it calls them. */
export function searchOutputText(item: ToolSearchOutputItem, mcpName: (label: string, tool: string) => string): string {
  const names: string[] = [];
  for (const t of item.tools) {
    if (t.type === 'mcp') {
      const a = t.allowed_tools;
      const listed = a == null ? [] : Array.isArray(a) ? a : (a.tool_names ?? []);
      for (const n of listed) names.push(mcpName(t.server_label, n));
    } else if (t.type === 'namespace') for (const f of (t as NamespaceTool).tools) names.push(`${(t as NamespaceTool).name}.${f.name}`);
    else if (t.type === 'function' || t.type === 'custom') names.push((t as FunctionTool | CustomTool).name);
  }
  return names.length
    ? `Loaded ${names.length} tool${names.length === 1 ? '' : 's'}, which you can call now: ${names.join(', ')}.`
    : 'No tools matched. Search again with other words, or answer without them.';
}
