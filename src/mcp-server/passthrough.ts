/**
 * `/mcp/<server>`: one upstream exactly as it is. Each downstream session gets its own upstream session,
 * opened with the downstream client's identity and capabilities, so that everything passes through in
 * both directions: requests (with progress and cancellation), notifications on the stream of the request
 * they belong to, and the upstream's own requests (sampling, elicitation, roots) relayed to the client.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AnySchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CallToolResultSchema,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  EmptyResultSchema,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListRootsRequestSchema,
  ListRootsResultSchema,
  ListToolsResultSchema,
  McpError,
  ErrorCode,
  ReadResourceResultSchema,
  type ClientCapabilities,
  type InitializeRequest,
  type Notification,
  type RequestId,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { McpServerEntry, McpSettings } from '../config/schema.ts';
import { Upstream } from '../mcp-client/upstream.ts';
import { relayProgress, toRpcError } from './rpc.ts';
import type { McpCall, McpHandler, McpHandlers, McpMethod } from './handlers.ts';
import { legacyServer } from './legacy-server.ts';
import { failureOutcome, toUpstreamError } from '../mcp-client/errors.ts';
import type { Metrics, ToolCallOutcome } from '../telemetry/metrics.ts';
import { toolCallEnded } from '../access/audit.ts';
import { allowsTool } from '../access/grants.ts';

/** Each method a server may offer, the capability it needs, and its result schema. */
const FORWARDED: { method: McpMethod; result: AnySchema; capability: 'tools' | 'prompts' | 'resources' | 'completions' | 'logging' }[] = [
  { method: 'tools/list', result: ListToolsResultSchema, capability: 'tools' },
  { method: 'tools/call', result: CallToolResultSchema, capability: 'tools' },
  { method: 'prompts/list', result: ListPromptsResultSchema, capability: 'prompts' },
  { method: 'prompts/get', result: GetPromptResultSchema, capability: 'prompts' },
  { method: 'resources/list', result: ListResourcesResultSchema, capability: 'resources' },
  { method: 'resources/templates/list', result: ListResourceTemplatesResultSchema, capability: 'resources' },
  { method: 'resources/read', result: ReadResourceResultSchema, capability: 'resources' },
  { method: 'resources/subscribe', result: EmptyResultSchema, capability: 'resources' },
  { method: 'resources/unsubscribe', result: EmptyResultSchema, capability: 'resources' },
  { method: 'completion/complete', result: CompleteResultSchema, capability: 'completions' },
  { method: 'logging/setLevel', result: EmptyResultSchema, capability: 'logging' },
];

/** What the downstream client may be asked, relayed from the upstream. */
const RELAYED = [
  { request: CreateMessageRequestSchema, result: CreateMessageResultSchema, capability: 'sampling' },
  { request: ElicitRequestSchema, result: ElicitResultSchema, capability: 'elicitation' },
  { request: ListRootsRequestSchema, result: ListRootsResultSchema, capability: 'roots' },
] as const;

export interface PassthroughDeps {
  settings: McpSettings;
  log: Logger;
  metrics?: Pick<Metrics, 'toolCall'> | undefined;
}

/** A downstream request in flight, and how to notify its client on its stream. */
interface Inflight {
  id: RequestId;
  notify: (n: Notification) => Promise<void>;
}

export interface PassthroughSession {
  server: Server;
  close(): Promise<void>;
}

/**
 * Opens the upstream session for one downstream session (from its `initialize` request) and builds the
 * downstream server that mirrors it. Rejects when the upstream cannot be reached.
 */
export async function openPassthrough(
  name: string,
  config: McpServerEntry,
  init: InitializeRequest,
  headers: Record<string, string>,
  deps: PassthroughDeps,
): Promise<PassthroughSession> {
  const wanted = init.params.capabilities ?? {};
  const capabilities: ClientCapabilities = {};
  if (wanted.sampling) capabilities.sampling = wanted.sampling;
  if (wanted.elicitation) capabilities.elicitation = wanted.elicitation;
  if (wanted.roots) capabilities.roots = wanted.roots;

  let server: Server | null = null;
  /** Downstream requests in flight, newest last: upstream messages are sent on the newest one's stream. */
  const inflight: Inflight[] = [];

  const upstream = new Upstream({
    name,
    config: { ...config, static_headers: { ...config.static_headers, ...headers } },
    log: deps.log,
    toolTimeoutMs: deps.settings.tool_timeout_seconds * 1000,
    toolsCacheMs: 0,
    clientInfo: init.params.clientInfo,
    clientCapabilities: capabilities,
    configure: (client: Client) => {
      for (const r of RELAYED) {
        if (!capabilities[r.capability]) continue;
        client.setRequestHandler(r.request as typeof CreateMessageRequestSchema, async (req, extra) => {
          if (!server) throw new McpError(ErrorCode.InternalError, 'downstream session is not ready');
          const related = inflight.at(-1)?.id;
          return (await server.request({ method: req.method, params: req.params } as never, r.result as typeof CreateMessageResultSchema, {
            signal: extra.signal,
            ...(related !== undefined ? { relatedRequestId: related } : {}),
          })) as never;
        });
      }
      client.fallbackNotificationHandler = async (n) => {
        if (!server) return;
        const current = inflight.at(-1);
        if (current) await current.notify(n);
        else await server.notification(n as never).catch(() => {});
      };
    },
  });
  const client = await upstream.connect();
  const upstreamCaps = client.getServerCapabilities() ?? {};
  const { tasks: _tasks, ...offered } = upstreamCaps;
  const info = client.getServerVersion() ?? { name, version: '0.0.0' };
  server = legacyServer({
    info,
    capabilities: offered,
    instructions: client.getInstructions(),
    handlers: forwardedHandlers(name, upstream, offered, deps, { inflight }),
  });
  return { server, close: () => upstream.close() };
}

/**
 * The upstream's methods (those its capabilities offer), forwarded as they are: with the caller's grant
 * applied to tools, progress relayed, and tool calls audited. `inflight` (a 2025-era session's own
 * upstream session) records the requests in flight, so that the upstream's requests and notifications
 * reach the client on the stream of the newest; `headersOf` gives each request's headers upstream (a
 * shared upstream session, whose headers are each request's own).
 */
export function forwardedHandlers(
  name: string,
  upstream: Upstream,
  offered: ServerCapabilities,
  deps: PassthroughDeps,
  opts: { inflight?: Inflight[]; headersOf?: (call: McpCall) => Record<string, string> },
): McpHandlers {
  const handlers: McpHandlers = {};
  for (const f of FORWARDED) {
    if (!offered[f.capability]) continue;
    const forward = async (req: Record<string, unknown>, call: McpCall) => {
      const { grant } = call.scope.caller;
      // A tool outside the caller's grant is not listed, and calling it gets the answer an unknown tool gets.
      if (grant && f.method === 'tools/call' && !allowsTool(grant, name, (req as { name: string }).name))
        throw new McpError(ErrorCode.InvalidParams, `Tool ${(req as { name: string }).name} not found`);
      const entry = { id: call.requestId, notify: (n: Notification) => call.notify(n) };
      opts.inflight?.push(entry);
      // A tool call is audited like any the gateway makes (its arguments by size and hash only).
      const toolCall = f.method === 'tools/call' ? (req as { name: string; arguments?: unknown }) : undefined;
      const started = performance.now();
      const audit = (outcome: ToolCallOutcome) =>
        toolCall &&
        toolCallEnded(
          { metrics: deps.metrics, audit: call.scope.audit },
          { server: name, tool: toolCall.name, arguments: JSON.stringify(toolCall.arguments ?? {}), outcome, durationMs: performance.now() - started },
        );
      try {
        const { _meta, ...params } = req as { _meta?: { progressToken?: string | number } & Record<string, unknown> };
        const { progressToken, ...meta } = _meta ?? {};
        const result = await upstream.request({ method: f.method, params: { ...params, ...(Object.keys(meta).length ? { _meta: meta } : {}) } }, f.result, {
          signal: call.signal,
          headers: opts.headersOf?.(call),
          onprogress: relayProgress(progressToken, call.notify),
        });
        if (grant && f.method === 'tools/list') {
          const listed = result as { tools: { name: string }[] };
          return { ...listed, tools: listed.tools.filter((t) => allowsTool(grant, name, t.name)) };
        }
        audit((result as { isError?: boolean }).isError ? 'tool_error' : 'ok');
        return result as Record<string, unknown>;
      } catch (e) {
        if (toolCall && !call.signal.aborted) audit(failureOutcome(toUpstreamError(e, name)));
        throw toRpcError(e, name);
      } finally {
        if (opts.inflight) opts.inflight.splice(opts.inflight.indexOf(entry), 1);
      }
    };
    (handlers as Record<McpMethod, McpHandler<McpMethod>>)[f.method] = forward as McpHandler<McpMethod>;
  }
  return handlers;
}
