/**
 * A request checked and resolved before anything is sent: its model route, the refusals that can be
 * made up front, its MCP bindings, the history it continues, its input items (each given an id,
 * references resolved), the approvals it answers, and the parameters its providers will not receive.
 */
import type { RunContext, AgentDeps } from './context.ts';
import { ApiError, modelNotFound } from '../protocol/errors.ts';
import { newId } from '../protocol/ids.ts';
import { droppedForApis, droppedLabel, unsupportedParamError } from '../protocol/dropped-params.ts';
import { modelParams, type ModelRequest, type ModelTool } from '../protocol/model-request.ts';
import type { InputItem, McpTool, ResponsesRequest, ToolSearchTool } from '../protocol/responses.ts';
import { allowsModel } from '../access/grants.ts';
import type { Route } from '../providers/router.ts';
import { matchApprovals, type PendingApproval } from './conversation.ts';
import type { Histories, History } from './history.ts';
import { resolveBindings, type McpBinding } from './mcp-bindings.ts';
import { type DeferredClientTool, splitDeferred } from './tool-search.ts';

export type RunRequest = ResponsesRequest & { extras?: ModelRequest['extras'] };

/** A request that passed every check that can be made before anything is sent. */
export interface PreparedRun {
  route: Route;
  request: RunRequest;
  base: Omit<ModelRequest, 'model' | 'input' | 'tools'>;
  /** The client's tools offered from the first model call (deferred ones left out). */
  clientTools: ModelTool[];
  /** The client's tools that wait for a tool search. */
  deferredTools: DeferredClientTool[];
  /** The request's `tool_search` tool. */
  searchTool: ToolSearchTool | undefined;
  bindings: McpBinding[];
  history: History;
  /** This request's input, each item with an id. */
  input: (InputItem & { id: string })[];
  approvals: PendingApproval[];
  store: boolean;
  /** Parameters, tool types and `include` values the route's providers will not receive (`x-toolgate-dropped-params`). */
  dropped: string[];
}

const ITEM_PREFIX = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
  mcp_approval_response: 'mcpa',
  tool_search_call: 'tsc',
  tool_search_output: 'tso',
} as const;

function withId(item: InputItem): InputItem & { id: string } {
  if ('id' in item && item.id) return item as InputItem & { id: string };
  const prefix = ITEM_PREFIX[item.type as keyof typeof ITEM_PREFIX] ?? 'item';
  const normalized =
    item.type === 'message' && typeof item.content === 'string'
      ? {
          ...item,
          content: [
            item.role === 'assistant'
              ? { type: 'output_text' as const, text: item.content, annotations: [] }
              : { type: 'input_text' as const, text: item.content },
          ],
        }
      : item;
  return { ...normalized, id: newId(prefix) } as InputItem & { id: string };
}

export async function prepareRun(
  deps: AgentDeps,
  histories: Histories,
  req: RunRequest,
  ctx: RunContext,
  opts: { approvals?: boolean } = {},
): Promise<PreparedRun> {
  const route = ctx.grant && !allowsModel(ctx.grant, req.model) ? null : deps.router.resolve(req.model);
  if (!route) throw modelNotFound(req.model);
  if (req.background) throw new ApiError(400, 'background responses are not supported by this gateway.', { param: 'background', code: 'unsupported_value' });
  if (req.conversation)
    throw new ApiError(400, 'conversation is not supported by this gateway; use previous_response_id.', { param: 'conversation', code: 'unsupported_value' });
  const tools = req.tools ?? [];
  if (opts.approvals === false)
    tools.forEach((t, i) => {
      if (t.type === 'mcp' && (t as { require_approval?: unknown }).require_approval !== 'never')
        throw new ApiError(
          400,
          `Chat Completions cannot ask for approval: MCP tools here must set require_approval: "never". Use /v1/responses for approvals.`,
          { param: `tools[${i}].require_approval`, code: 'invalid_value' },
        );
    });
  const bindings = await resolveBindings(tools, {
    pool: deps.pool,
    settings: deps.settings,
    requestHeaders: ctx.requestHeaders ?? {},
    gatewayKey: deps.masterKey,
    grant: ctx.grant,
  });
  if (ctx.upstreamHeaders) for (const b of bindings) for (const h of b.headers.values()) Object.assign(h, ctx.upstreamHeaders);
  const history = await histories.load(req.previous_response_id);
  const raw: InputItem[] = req.input === undefined ? [] : typeof req.input === 'string' ? [{ type: 'message', role: 'user', content: req.input }] : req.input;
  const known = new Map(history.items.filter((i) => 'id' in i && i.id).map((i) => [(i as { id: string }).id, i]));
  const input = raw.map((item, i) => {
    if (item.type !== 'item_reference') {
      const own = withId(item);
      known.set(own.id, own); // a reference may also name an item sent earlier in this input
      return own;
    }
    const found = known.get(item.id);
    if (!found) throw new ApiError(400, `Item with id '${item.id}' not found.`, { param: `input[${i}].id`, code: 'invalid_value' });
    return withId(found);
  });
  const approvals = matchApprovals(history.items, input);
  if (!input.length && !history.items.length)
    throw new ApiError(400, "Missing required parameter: 'input'.", { param: 'input', code: 'missing_required_parameter' });
  const base = { instructions: req.instructions ?? null, ...modelParams(req), extras: req.extras, passthrough: req.passthrough };
  const searches = tools.flatMap((t, i) => (t.type === 'tool_search' ? [i] : []));
  if (searches.length > 1) throw new ApiError(400, 'Only one tool_search tool may be given.', { param: `tools[${searches[1]}]`, code: 'invalid_value' });
  const searchTool = searches.length ? (tools[searches[0]!] as ToolSearchTool) : undefined;
  const { offered: clientTools, deferred: deferredTools } = splitDeferred(tools.filter((t) => t.type !== 'mcp' && t.type !== 'tool_search') as ModelTool[]);
  if (!searchTool) {
    const i = tools.findIndex((t) => (t.type === 'mcp' && (t as McpTool).defer_loading) || deferredTools.some((d) => d.tool === t || d.namespace === t));
    if (i >= 0)
      throw new ApiError(400, 'Deferred tools (defer_loading: true) need a tool_search tool in tools: add {"type": "tool_search"}.', {
        param: `tools[${i}].defer_loading`,
        code: 'invalid_value',
      });
  }
  const dropped = droppedForApis(
    { ...base, tools: clientTools },
    route.candidates.map((c) => c.deployment.provider.api),
  );
  if (dropped.length) {
    if (deps.dropParams === false) throw unsupportedParamError(dropped[0]!, req.model);
    ctx.log.debug({ dropped: dropped.map(droppedLabel) }, 'request params the provider cannot take are dropped');
  }
  return {
    route,
    request: req,
    base,
    clientTools,
    deferredTools,
    searchTool,
    bindings,
    history,
    input,
    approvals,
    store: req.store ?? true,
    dropped: dropped.map(droppedLabel),
  };
}
