/**
 * Tool search on `/mcp`, for clients that choke on long tool lists: instead of every upstream tool,
 * `tools/list` offers LiteLLM's two virtual tools, `mcp_tool_search` (a ranked search over the tools the
 * caller may use) and `mcp_tool_call` (calls one of them by the name the search gave). A session gets it
 * with `x-toolgate-tool-search: on`, `/mcp?tool_search=on`, or a key (or its team) whose
 * `object_permission.mcp_tool_search_enabled` is true.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Caller } from '../access/caller.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, type SearchHit } from '../search/tool-index.ts';

export const SEARCH_TOOL = 'mcp_tool_search';
export const CALL_TOOL = 'mcp_tool_call';

const SearchIn = z.object({
  query: z.string().min(1).describe('What the tool should do, in a few words (task, object, service).'),
  limit: z.int().min(1).max(MAX_LIMIT).optional().describe(`How many tools to return at most (default ${DEFAULT_LIMIT}).`),
});
const SearchOut = z.object({
  tools: z.array(z.object({ name: z.string(), description: z.string(), inputSchema: z.record(z.string(), z.unknown()) })),
});
const CallIn = z.object({
  name: z.string().min(1).describe(`A tool's name, as ${SEARCH_TOOL} gave it.`),
  arguments: z.record(z.string(), z.unknown()).optional().describe("The tool's arguments, as its inputSchema describes them."),
});

type Schema = Tool['inputSchema'];

export const SEARCH_TOOLS: Tool[] = [
  {
    name: SEARCH_TOOL,
    title: 'Search tools',
    description:
      `Finds the tools of this gateway's MCP servers for a task: describe what you need in a few words, naming the service when you know it ` +
      `("create GitHub issue", "list Kubernetes pods"). Returns the best matches with their input schemas; call one with ${CALL_TOOL}.`,
    inputSchema: z.toJSONSchema(SearchIn, { io: 'input' }) as Schema,
    outputSchema: z.toJSONSchema(SearchOut) as Schema,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  {
    name: CALL_TOOL,
    title: 'Call a tool',
    description: `Calls a tool that ${SEARCH_TOOL} found, by its name, with its arguments; returns the tool's own result.`,
    inputSchema: z.toJSONSchema(CallIn, { io: 'input' }) as Schema,
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  },
];

/** Whether a request asks for tool search: its header, its URL's query, or its key's (or team's) permission. */
export function wantsToolSearch(headers: Record<string, string | string[] | undefined>, query: Record<string, unknown>, caller: Caller): boolean {
  const on = (v: unknown) => typeof v === 'string' && ['on', 'true', '1'].includes(v.toLowerCase());
  if (on(headers['x-toolgate-tool-search']) || on(query.tool_search)) return true;
  const enabled = (p: unknown) => (p as { mcp_tool_search_enabled?: unknown } | null | undefined)?.mcp_tool_search_enabled === true;
  return enabled(caller.key?.object_permission) || enabled(caller.team?.object_permission);
}

function invalid(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Reads `mcp_tool_search`'s arguments, or the tool error a bad one gets. */
export function searchArguments(args: unknown): { query: string; limit: number } | CallToolResult {
  const parsed = SearchIn.safeParse(args ?? {});
  if (!parsed.success) return invalid(`Invalid arguments for ${SEARCH_TOOL}: ${z.prettifyError(parsed.error)}`);
  return { query: parsed.data.query, limit: parsed.data.limit ?? DEFAULT_LIMIT };
}

/** Reads `mcp_tool_call`'s arguments, or the tool error a bad one gets. */
export function callArguments(args: unknown): { name: string; arguments: Record<string, unknown> } | CallToolResult {
  const parsed = CallIn.safeParse(args ?? {});
  if (!parsed.success) return invalid(`Invalid arguments for ${CALL_TOOL}: ${z.prettifyError(parsed.error)}`);
  return { name: parsed.data.name, arguments: parsed.data.arguments ?? {} };
}

/** What `mcp_tool_search` answers: each tool by the name `mcp_tool_call` takes, as text and as structured content. */
export function searchResult(hits: SearchHit<Tool>[], nameOf: (server: string, tool: string) => string): CallToolResult {
  const tools = hits.map((h) => ({
    name: nameOf(h.server, h.tool.name),
    description: h.tool.description ?? h.tool.title ?? h.tool.name,
    inputSchema: h.tool.inputSchema as Record<string, unknown>,
  }));
  return { content: [{ type: 'text', text: JSON.stringify({ tools }) }], structuredContent: { tools } };
}
