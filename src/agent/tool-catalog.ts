/**
 * The MCP tools one response may use: each binding's tools, listed (as `mcp_list_tools` items, all
 * servers in parallel) or taken from a listing already in the conversation, filtered by the request,
 * and named for the model. A deferred tool is listed and may be called, but is offered to the model
 * only once a tool search has loaded it.
 */
import type { Logger } from 'pino';
import { functionName, ToolNameMap } from '../mcp-client/naming.ts';
import { toUpstreamError } from '../mcp-client/errors.ts';
import type { Tool, Upstream } from '../mcp-client/upstream.ts';
import { newId } from '../protocol/ids.ts';
import type { FunctionTool, InputItem, McpListToolsItem } from '../protocol/responses.ts';
import { listingIndex } from '../search/tool-index.ts';
import type { ResponseEmitter } from './emitter.ts';
import { offers, type McpBinding } from './mcp-bindings.ts';

/** One MCP tool a binding offers, under the function name the model knows it by. */
export interface OfferedTool {
  binding: McpBinding;
  server: Upstream;
  tool: Tool;
  fn: string;
  /** Offered to the model only once a tool search loads it. */
  deferred: boolean;
}

const keyOf = (server: string, tool: string) => `${server}\u0000${tool}`;

/** Whether a label's tool goes by `name`: its MCP name, or `<server>-<name>` (a label may span servers). */
function named(o: OfferedTool, name: string): boolean {
  return o.tool.name === name || (name.length === o.server.name.length + 1 + o.tool.name.length && name === `${o.server.name}-${o.tool.name}`);
}

type Listed = { server: Upstream; tool: Tool };

/** A tool as an `mcp_list_tools` item shows it (OpenAI projects annotations to `read_only`). */
function describe(t: Tool): McpListToolsItem['tools'][number] {
  return { name: t.name, description: t.description ?? null, input_schema: t.inputSchema, annotations: { read_only: t.annotations?.readOnlyHint === true } };
}

function fromListing(t: McpListToolsItem['tools'][number]): Tool {
  return {
    name: t.name,
    description: t.description ?? undefined,
    inputSchema: t.input_schema as Tool['inputSchema'],
    annotations: { readOnlyHint: (t.annotations as { read_only?: boolean } | null)?.read_only === true },
  };
}

export class ToolCatalog {
  private readonly names = new ToolNameMap();
  private readonly offered = new Map<string, OfferedTool>();
  /** Function names of deferred tools a tool search has loaded. */
  private readonly loaded = new Set<string>();
  /** The listing each server's tools came from (what the search index is built over). */
  private readonly listings = new Map<string, readonly Tool[]>();
  /** Deferred tools by server and MCP name (several when two labels name one server), made with the first search. */
  private deferredByKey: Map<string, OfferedTool[]> | undefined;
  private readonly log: Logger;
  /** `mcp_settings.defer_loading_over`. */
  private readonly deferOver: number | undefined;
  /** Whether some tools are deferred by the gateway's settings rather than by the request. */
  deferredBySettings = false;

  constructor(log: Logger, deferOver?: number) {
    this.log = log;
    this.deferOver = deferOver;
  }

  has(fn: string): boolean {
    return this.offered.has(fn);
  }

  get(fn: string): OfferedTool | undefined {
    return this.offered.get(fn);
  }

  get size(): number {
    return this.offered.size;
  }

  all(): OfferedTool[] {
    return [...this.offered.values()];
  }

  /** The tool a label and name stand for (on `server`, when known: one label may span servers). */
  find(label: string, tool: string, server?: string): OfferedTool | undefined {
    for (const o of this.offered.values()) if (o.binding.label === label && named(o, tool) && (!server || o.server.name === server)) return o;
    return undefined;
  }

  /**
   * The name a `tool_search_output` gives a loaded tool in its label's `allowed_tools`: its MCP name, or,
   * when the label spans servers (where two servers may have a tool of one name), `<server>-<name>`.
   */
  loadName(o: OfferedTool): string {
    return o.binding.servers.length > 1 ? `${o.server.name}-${o.tool.name}` : o.tool.name;
  }

  functionNameOf(label: string, tool: string): string {
    return this.find(label, tool)?.fn ?? functionName(label, tool);
  }

  /** Whether some tools wait for a tool search. */
  get hasDeferred(): boolean {
    for (const o of this.offered.values()) if (o.deferred) return true;
    return false;
  }

  /**
   * Loads a label's deferred tools (those named, or all of them when `names` is null). Returns the
   * tools it names that the label offers, loaded now or before.
   */
  load(label: string, names: readonly string[] | null): OfferedTool[] {
    const out: OfferedTool[] = [];
    for (const o of this.offered.values()) {
      if (o.binding.label !== label || (names && !names.some((n) => named(o, n)))) continue;
      if (o.deferred) this.loaded.add(o.fn);
      out.push(o);
    }
    return out;
  }

  /** The deferred tools that best match `query`, best first (loaded ones included: a search finds what exists). */
  search(query: string, limit: number): { offered: OfferedTool; score: number }[] {
    if (!this.deferredByKey) {
      this.deferredByKey = new Map();
      for (const o of this.offered.values()) {
        if (!o.deferred) continue;
        const k = keyOf(o.server.name, o.tool.name);
        const same = this.deferredByKey.get(k);
        if (same) same.push(o);
        else this.deferredByKey.set(k, [o]);
      }
    }
    const byKey = this.deferredByKey;
    if (!byKey.size) return [];
    const servers = [...new Set([...byKey.values()].map((os) => os[0]!.server.name))].sort();
    const index = listingIndex(servers.map((server) => ({ server, tools: this.listings.get(server) ?? [] })));
    const out: { offered: OfferedTool; score: number }[] = [];
    for (const hit of index.search(query, limit, (e) => byKey.has(keyOf(e.server, e.tool.name))))
      for (const offered of byKey.get(keyOf(hit.server, hit.tool.name))!) out.push({ offered, score: hit.score });
    return out.slice(0, limit);
  }

  /** The function definitions the model is given: every tool not deferred, and the deferred ones loaded. */
  functionDefs(): FunctionTool[] {
    return this.all()
      .filter((o) => !o.deferred || this.loaded.has(o.fn))
      .map((o) => ({
        type: 'function',
        name: o.fn,
        description: [o.tool.description, o.binding.entry.server_description].filter(Boolean).join('\n\n') || o.tool.name,
        parameters:
          o.tool.inputSchema && typeof o.tool.inputSchema === 'object' ? (o.tool.inputSchema as Record<string, unknown>) : { type: 'object', properties: {} },
        strict: false,
      }));
  }

  /**
   * Lists every binding's tools into the response, or reuses a listing already in `prior`. Every new
   * item is added before any listing is awaited, so the servers are listed in parallel.
   * `taken` are the client's own function names, which MCP tools must not shadow.
   */
  async build(bindings: McpBinding[], prior: InputItem[], taken: ReadonlySet<string>, emitter: ResponseEmitter): Promise<void> {
    const plans = bindings.map((b) => ({
      b,
      reused: prior.find((i): i is McpListToolsItem => i.type === 'mcp_list_tools' && i.server_label === b.label && !i.error),
    }));
    const started = new Map<McpBinding, { index: number; id: string }>();
    for (const { b, reused } of plans) {
      if (reused) continue;
      const id = newId('mcpl');
      const index = emitter.nextIndex;
      emitter.item({
        type: 'response.output_item.added',
        sequence_number: 0,
        output_index: index,
        item: { id, type: 'mcp_list_tools', server_label: b.label, tools: [] },
      });
      emitter.item({ type: 'response.mcp_list_tools.in_progress', sequence_number: 0, output_index: index, item_id: id });
      started.set(b, { index, id });
    }
    // A reused listing of a single server is taken as it is; a label spanning servers is looked up in the pool's cache.
    const results = await Promise.all(plans.map(({ b, reused }) => (reused && b.servers.length === 1 ? this.reuse(b, reused) : this.list(b))));
    const undecided: OfferedTool[] = [];
    for (const [i, { b }] of plans.entries()) {
      for (const t of results[i]!.tools) {
        const fn = this.names.add(t.server.name, t.tool.name, taken, `${b.ephemeral ? 'remote' : 'gateway'}:${b.label}`);
        // The request's defer_loading, else the server's, else (below) the settings' threshold.
        const deferred = b.entry.defer_loading ?? t.server.config.defer_loading;
        const o: OfferedTool = { binding: b, server: t.server, tool: t.tool, fn, deferred: deferred ?? false };
        this.offered.set(fn, o);
        if (deferred === undefined) undecided.push(o);
        else if (deferred && b.entry.defer_loading === undefined) this.deferredBySettings = true;
      }
    }
    if (this.deferOver !== undefined && this.offered.size > this.deferOver && undecided.length) {
      for (const o of undecided) o.deferred = true;
      this.deferredBySettings = true;
    }
    for (const [i, { b }] of plans.entries()) {
      const { tools, errors } = results[i]!;
      const s = started.get(b);
      if (!s) continue;
      let error: string | null = errors.length ? errors.join('; ') : null;
      if (!tools.length && !error)
        error = b.servers.length
          ? `No tools available: allowed_tools matched none of the tools of ${b.servers.map((u) => `'${u.name}'`).join(', ')}.`
          : 'No MCP servers are registered in the gateway.';
      const item: McpListToolsItem = { id: s.id, type: 'mcp_list_tools', server_label: b.label, tools: tools.map((t) => describe(t.tool)), error };
      emitter.item({
        type: tools.length ? 'response.mcp_list_tools.completed' : 'response.mcp_list_tools.failed',
        sequence_number: 0,
        output_index: s.index,
        item_id: s.id,
      });
      emitter.item({ type: 'response.output_item.done', sequence_number: 0, output_index: s.index, item });
    }
  }

  private async reuse(b: McpBinding, listing: McpListToolsItem): Promise<{ tools: Listed[]; errors: string[] }> {
    const server = b.servers[0]!;
    const all = listing.tools.map(fromListing);
    this.listings.set(server.name, all);
    return { tools: all.filter((t) => offers(b, server, t)).map((tool) => ({ server, tool })), errors: [] };
  }

  private async list(b: McpBinding): Promise<{ tools: Listed[]; errors: string[] }> {
    const errors: string[] = [];
    const lists = await Promise.all(
      b.servers.map(async (server) => {
        try {
          const all = await server.listTools();
          this.listings.set(server.name, all);
          return all.filter((t) => offers(b, server, t)).map((tool) => ({ server, tool }));
        } catch (e) {
          const err = toUpstreamError(e, server.name);
          errors.push(`MCP server '${server.name}' is unavailable: ${err.message}`);
          this.log.warn({ mcp_server: server.name, err: err.message }, 'tool listing failed');
          return [];
        }
      }),
    );
    return { tools: lists.flat(), errors };
  }
}
