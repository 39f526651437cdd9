/**
 * The MCP tools one response may use: each binding's tools, listed (as `mcp_list_tools` items, all
 * servers in parallel) or taken from a listing already in the conversation, filtered by the request,
 * and named for the model.
 */
import type { Logger } from 'pino';
import { functionName, ToolNameMap } from '../mcp-client/naming.ts';
import { toUpstreamError } from '../mcp-client/errors.ts';
import type { Tool, Upstream } from '../mcp-client/upstream.ts';
import { newId } from '../protocol/ids.ts';
import type { FunctionTool, InputItem, McpListToolsItem } from '../protocol/responses.ts';
import type { ResponseEmitter } from './emitter.ts';
import { offers, type McpBinding } from './mcp-bindings.ts';

/** One MCP tool a binding offers, under the function name the model knows it by. */
export interface OfferedTool {
  binding: McpBinding;
  server: Upstream;
  tool: Tool;
  fn: string;
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
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  has(fn: string): boolean {
    return this.offered.has(fn);
  }

  get(fn: string): OfferedTool | undefined {
    return this.offered.get(fn);
  }

  all(): OfferedTool[] {
    return [...this.offered.values()];
  }

  /** The tool a label and MCP name stand for (on `server`, when known: one label may span servers). */
  find(label: string, tool: string, server?: string): OfferedTool | undefined {
    for (const o of this.offered.values()) if (o.binding.label === label && o.tool.name === tool && (!server || o.server.name === server)) return o;
    return undefined;
  }

  functionNameOf(label: string, tool: string): string {
    return this.find(label, tool)?.fn ?? functionName(label, tool);
  }

  /** The function definitions the model is given. */
  functionDefs(): FunctionTool[] {
    return this.all().map((o) => ({
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
    for (const [i, { b }] of plans.entries()) {
      const { tools, errors } = results[i]!;
      for (const t of tools) {
        const fn = this.names.add(t.server.name, t.tool.name, taken, `${b.ephemeral ? 'remote' : 'gateway'}:${b.label}`);
        this.offered.set(fn, { binding: b, server: t.server, tool: t.tool, fn });
      }
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
    return {
      tools: listing.tools
        .map(fromListing)
        .filter((t) => offers(b, server, t))
        .map((tool) => ({ server, tool })),
      errors: [],
    };
  }

  private async list(b: McpBinding): Promise<{ tools: Listed[]; errors: string[] }> {
    const errors: string[] = [];
    const lists = await Promise.all(
      b.servers.map(async (server) => {
        try {
          return (await server.listTools()).filter((t) => offers(b, server, t)).map((tool) => ({ server, tool }));
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
