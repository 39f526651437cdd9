/**
 * The aggregated `/mcp` server: the gateway's own tools plus every upstream's tools and prompts,
 * namespaced `<server>-<name>` as the bridge names them, and their resources and templates under their
 * own URIs (reads are routed by URI). Upstream calls go through the shared pool, one live session per
 * upstream; listings come from each upstream's cache. One surface (handlers.ts) serves both generations:
 * a 2025-era session's server is built from it, and so is each 2026-07-28 request's.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ErrorCode,
  McpError,
  type GetPromptResult,
  type ReadResourceResult,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { forwardedHeaders } from '../mcp-client/headers.ts';
import { functionName } from '../mcp-client/naming.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import { failureOutcome, toUpstreamError } from '../mcp-client/errors.ts';
import type { Metrics, ToolCallOutcome } from '../telemetry/metrics.ts';
import { toolCallEnded } from '../access/audit.ts';
import type { Upstream } from '../mcp-client/upstream.ts';
import { RpcCode } from '../protocol/errors.ts';
import { relayProgress, toRpcError } from './rpc.ts';
import { callGatewayTool, GATEWAY_TOOLS, isGatewayTool, type GatewayToolDeps } from './gateway-tools.ts';
import type { McpHandler, McpSurface } from './handlers.ts';
import { legacyServer } from './legacy-server.ts';
import { endSpan, incomingContext, startSpan, withSpan } from '../telemetry/spans.ts';
import { allowsServer, allowsTool, type Grant } from '../access/grants.ts';
import { listingIndex } from '../search/tool-index.ts';
import { CALL_TOOL, callArguments, SEARCH_TOOL, SEARCH_TOOLS, searchArguments, searchResult } from './tool-search.ts';

export interface AggregateDeps extends GatewayToolDeps {
  pool: McpPool;
  masterKey: string | undefined;
  log: Logger;
  version: string;
  metrics?: Pick<Metrics, 'toolCall'> | undefined;
}

const PAGE_SIZE = 50;
/** The listing of an upstream that could not be listed (one array, so the search index over the others is kept). */
const UNLISTED: Tool[] = [];

type UpstreamTool = { u: Upstream; item: Tool };

function pageOf<T>(items: T[], cursor: string | undefined): { page: T[]; nextCursor?: string } {
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
  const end = start + PAGE_SIZE;
  return { page: items.slice(start, end), ...(end < items.length ? { nextCursor: Buffer.from(String(end)).toString('base64url') } : {}) };
}

/** RFC 6570 level-1 templates (`{var}`) as a matcher. */
function templateMatcher(uriTemplate: string): RegExp {
  const parts = uriTemplate.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]*')}$`);
}

export interface AggregateScope {
  servers?: string[];
  /** The headers of the request that opened the session (or of the one request, for 2026-07-28). */
  headers: Record<string, string | string[] | undefined>;
  /** `tools/list` offers `mcp_tool_search` and `mcp_tool_call` instead of the upstream tools. */
  toolSearch?: boolean;
}

/** The aggregated server for a 2025-era session, told of its upstreams' list changes while it lives. */
export function buildAggregateServer(deps: AggregateDeps, scope: AggregateScope): { server: Server; close(): void } {
  const server = legacyServer(aggregateSurface(deps, scope));
  return { server, close: tellListChanges(deps.pool, server, scope.servers ?? deps.pool.names) };
}

/** A server of either SDK generation, as far as telling its client of list changes goes. */
interface ListChangeSink {
  sendToolListChanged(): Promise<void>;
  sendPromptListChanged(): Promise<void>;
  sendResourceListChanged(): Promise<void>;
}

/** Sends a 2025-era server's client the list changes of the upstreams named, until the returned function is called. */
export function tellListChanges(pool: McpPool, server: ListChangeSink, names: readonly string[]): () => void {
  const send = (sent: Promise<void>) => void sent.catch(() => {});
  const onTools = (name: string) => {
    if (names.includes(name)) send(server.sendToolListChanged());
  };
  const onList = (name: string, kind: 'prompts' | 'resources') => {
    if (names.includes(name)) send(kind === 'prompts' ? server.sendPromptListChanged() : server.sendResourceListChanged());
  };
  pool.on('tools_changed', onTools);
  pool.on('list_changed', onList);
  return () => {
    pool.off('tools_changed', onTools);
    pool.off('list_changed', onList);
  };
}

export function aggregateSurface(deps: AggregateDeps, scope: AggregateScope): McpSurface {
  const upstreams: Upstream[] = (scope.servers ?? deps.pool.names).map((n) => deps.pool.get(n)).filter((u): u is Upstream => u !== undefined);
  const headersFor = (u: Upstream, requestHeaders?: Record<string, string | string[] | undefined>) =>
    forwardedHeaders(u.name, u.config.extra_headers, { ...scope.headers, ...requestHeaders }, deps.masterKey);

  /**
   * Runs `fn` on every upstream that has `capability` (and that the caller's grant names), in parallel; an
   * upstream that fails is left out. The session's upstreams were chosen by its caller's grant when it
   * opened; each request is checked again, since a key's grant may change while its session lives.
   */
  async function gather<T>(
    capability: 'tools' | 'prompts' | 'resources',
    fn: (u: Upstream) => Promise<T[]>,
    grant?: Grant,
  ): Promise<{ u: Upstream; item: T }[]> {
    const lists = await Promise.all(
      upstreams.map(async (u) => {
        if (grant && !allowsServer(grant, u.name)) return [];
        try {
          if (capability !== 'tools' && !(await u.capabilities())[capability]) return [];
          return (await fn(u)).map((item) => ({ u, item }));
        } catch (e) {
          deps.log.warn({ mcp_server: u.name, err: toUpstreamError(e, u.name).message }, `/mcp: listing ${capability} failed`);
          return [];
        }
      }),
    );
    return lists.flat();
  }

  const upstreamTools = () => gather('tools', (u) => u.listTools());
  const permitted = (grant: Grant | undefined, u: Upstream, tool: Tool) => !grant || allowsTool(grant, u.name, tool.name);
  /** Upstream tools by their name here, built once per set of listings (each upstream caches its own). */
  let toolIndex: { listings: Promise<Tool[]>[]; byName: Promise<Map<string, UpstreamTool>> } | undefined;
  const upstreamTool = async (name: string): Promise<UpstreamTool | undefined> => {
    const listings = upstreams.map((u) => u.listTools());
    if (!toolIndex || listings.some((l, i) => l !== toolIndex!.listings[i])) {
      const byName = upstreamTools().then((hits) => {
        const index = new Map<string, UpstreamTool>();
        for (const hit of hits) {
          const key = functionName(hit.u.name, hit.item.name);
          if (!index.has(key)) index.set(key, hit);
        }
        return index;
      });
      toolIndex = { listings, byName };
    }
    return (await toolIndex.byName).get(name);
  };
  // From each upstream's listing cache, which prompts/get and resources/read route by too.
  const upstreamPrompts = (grant?: Grant) => gather<Prompt>('prompts', (u) => u.listPrompts(), grant);
  const upstreamResources = (grant?: Grant) => gather<Resource>('resources', (u) => u.listResources(), grant);
  const upstreamTemplates = (grant?: Grant) => gather<ResourceTemplate>('resources', (u) => u.listResourceTemplates(), grant);

  /** The upstream tools the caller may use that best match `query`. */
  const searchUpstream = async (query: string, limit: number, grant: Grant | undefined) => {
    const visible = upstreams.filter((u) => !grant || allowsServer(grant, u.name));
    const listings = await Promise.all(
      visible.map(async (u) => ({
        server: u.name,
        tools: await u.listTools().catch((e: unknown): Tool[] => {
          deps.log.warn({ mcp_server: u.name, err: toUpstreamError(e, u.name).message }, `/mcp: listing tools failed`);
          return UNLISTED;
        }),
      })),
    );
    const byName = new Map(visible.map((u) => [u.name, u]));
    return listingIndex(listings).search(query, limit, (e) => permitted(grant, byName.get(e.server)!, e.tool));
  };

  const listTools: McpHandler<'tools/list'> = async (params, call) => {
    if (scope.toolSearch) return { tools: [...GATEWAY_TOOLS, ...SEARCH_TOOLS] };
    const { grant } = call.scope.caller;
    const namespaced: Tool[] = (await upstreamTools())
      .filter(({ u, item }) => permitted(grant, u, item))
      .map(({ u, item }) => {
        const { execution: _e, ...tool } = item;
        return { ...tool, name: functionName(u.name, item.name), description: item.description || `${item.name} (from ${u.name})` };
      });
    const { page, nextCursor } = pageOf([...GATEWAY_TOOLS, ...namespaced], params.cursor);
    return { tools: page, ...(nextCursor ? { nextCursor } : {}) };
  };

  const tracedCallTool: McpHandler<'tools/call'> = (params, call) => {
    // A server span per call, continuing the client's `_meta.traceparent` (else the HTTP request's).
    const span = startSpan(
      `tools/call ${params.name}`,
      'server',
      {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': params.name,
        'jsonrpc.request.id': String(call.requestId),
        ...(call.sessionId ? { 'mcp.session.id': call.sessionId } : {}),
        ...(call.protocolVersion ? { 'mcp.protocol.version': call.protocolVersion } : {}),
      },
      incomingContext(call.meta),
    );
    return withSpan(span, () => callTool(params, call)).then(
      (result) => {
        endSpan(span, undefined, (result as { isError?: boolean }).isError ? 'tool_error' : undefined);
        return result;
      },
      (e: unknown) => {
        endSpan(span, undefined, e);
        throw e;
      },
    );
  };

  const callTool: McpHandler<'tools/call'> = async (params, call) => {
    const name = params.name;
    const { caller, meter, audit } = call.scope;
    if (scope.toolSearch && name === SEARCH_TOOL) {
      const args = searchArguments(params.arguments);
      if ('content' in args) return args;
      return searchResult(await searchUpstream(args.query, args.limit, caller.grant), functionName);
    }
    if (scope.toolSearch && name === CALL_TOOL) {
      const args = callArguments(params.arguments);
      if ('content' in args) return args;
      if (args.name === SEARCH_TOOL || args.name === CALL_TOOL)
        return { content: [{ type: 'text', text: `${CALL_TOOL} cannot call ${args.name}.` }], isError: true };
      return callTool({ ...params, name: args.name, arguments: args.arguments }, call);
    }
    if (isGatewayTool(name)) {
      const ctx = { signal: call.signal, log: deps.log, headers: { ...scope.headers, ...call.headers }, grant: caller.grant, meter };
      const own = await callGatewayTool(deps, name, params.arguments, ctx);
      if (own) return own;
    }
    const hit = await upstreamTool(name);
    // A tool outside the caller's grant gets the answer a tool that does not exist gets.
    if (!hit || !permitted(caller.grant, hit.u, hit.item)) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    const started = performance.now();
    const ended = (outcome: ToolCallOutcome) =>
      toolCallEnded(
        { metrics: deps.metrics, audit },
        { server: hit.u.name, tool: hit.item.name, arguments: JSON.stringify(params.arguments ?? {}), outcome, durationMs: performance.now() - started },
      );
    meter?.toolCalled();
    try {
      const progress = relayProgress(call.meta?.progressToken, call.notify);
      const result = await hit.u.callTool(hit.item.name, params.arguments ?? {}, {
        signal: call.signal,
        headers: headersFor(hit.u, call.headers),
        onprogress: progress?.onprogress,
      });
      if (progress) await progress.sent();
      ended(result.isError ? 'tool_error' : 'ok');
      return result;
    } catch (e) {
      if (call.signal.aborted) throw toRpcError(e, hit.u.name);
      const err = toUpstreamError(e, hit.u.name);
      ended(failureOutcome(err));
      // A tool the model or user can see fail, like any tool error.
      return { content: [{ type: 'text', text: err.message }], isError: true };
    }
  };

  const listPrompts: McpHandler<'prompts/list'> = async (params, call) => {
    const prompts = (await upstreamPrompts(call.scope.caller.grant)).map(({ u, item }) => ({
      ...item,
      name: functionName(u.name, item.name),
      description: item.description || `${item.name} (from ${u.name})`,
    }));
    const { page, nextCursor } = pageOf(prompts, params.cursor);
    return { prompts: page, ...(nextCursor ? { nextCursor } : {}) };
  };

  const getPrompt: McpHandler<'prompts/get'> = async (params, call) => {
    const hit = (await upstreamPrompts(call.scope.caller.grant)).find(({ u, item }) => functionName(u.name, item.name) === params.name);
    if (!hit) throw new McpError(ErrorCode.InvalidParams, `Prompt ${params.name} not found`);
    try {
      return (await hit.u.request(
        { method: 'prompts/get', params: { ...params, name: hit.item.name } },
        { signal: call.signal, headers: headersFor(hit.u, call.headers) },
      )) as GetPromptResult;
    } catch (e) {
      throw toRpcError(e, hit.u.name);
    }
  };

  const listResources: McpHandler<'resources/list'> = async (params, call) => {
    const { page, nextCursor } = pageOf(
      (await upstreamResources(call.scope.caller.grant)).map(({ item }) => item),
      params.cursor,
    );
    return { resources: page, ...(nextCursor ? { nextCursor } : {}) };
  };

  const listTemplates: McpHandler<'resources/templates/list'> = async (params, call) => {
    const { page, nextCursor } = pageOf(
      (await upstreamTemplates(call.scope.caller.grant)).map(({ item }) => item),
      params.cursor,
    );
    return { resourceTemplates: page, ...(nextCursor ? { nextCursor } : {}) };
  };

  const readResource: McpHandler<'resources/read'> = async (params, call) => {
    const uri = params.uri;
    const { grant } = call.scope.caller;
    // Resources keep their URIs: the upstream that lists it, or whose template matches it, serves it.
    const owner =
      (await upstreamResources(grant)).find(({ item }) => item.uri === uri)?.u ??
      (await upstreamTemplates(grant)).find(({ item }) => templateMatcher(item.uriTemplate).test(uri))?.u;
    if (!owner) throw new McpError(RpcCode.ResourceNotFound, `Resource ${uri} not found`, { uri });
    try {
      return (await owner.request(
        { method: 'resources/read', params },
        { signal: call.signal, headers: headersFor(owner, call.headers) },
      )) as ReadResourceResult;
    } catch (e) {
      throw toRpcError(e, owner.name);
    }
  };

  return {
    info: { name: 'toolgate', title: 'toolgate', version: deps.version },
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true }, logging: {} },
    instructions:
      'toolgate: ask any configured model (chat, respond, embed, generate_image, list_models) and use the tools, prompts and resources of its upstream MCP servers, named <server>-<name>.',
    handlers: {
      'tools/list': listTools,
      'tools/call': tracedCallTool,
      'prompts/list': listPrompts,
      'prompts/get': getPrompt,
      'resources/list': listResources,
      'resources/templates/list': listTemplates,
      'resources/read': readResource,
    },
  };
}
