/**
 * `/mcp/<server>`: one upstream exactly as it is. Each downstream session gets its own upstream session,
 * opened with the downstream client's identity and capabilities, so that everything passes through in
 * both directions: requests (with progress and cancellation), notifications on the stream of the request
 * they belong to, and the upstream's own requests (sampling, elicitation, roots) relayed to the client.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AnySchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CompleteRequestSchema,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  EmptyResultSchema,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListPromptsResultSchema,
  ListResourcesRequestSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesRequestSchema,
  ListResourceTemplatesResultSchema,
  ListRootsRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
  ErrorCode,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ClientCapabilities,
  type InitializeRequest,
  type Notification,
  type RequestId,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Logger } from 'pino';
import type { McpServerEntry, McpSettings } from '../config/schema.ts';
import { Upstream } from '../mcp-client/upstream.ts';
import { relayProgress, toRpcError } from './rpc.ts';
import { setToolCallHandler, type ToolCallHandler } from './tool-call-handler.ts';
import { scopeOf } from './request-scope.ts';
import { failureOutcome, toUpstreamError } from '../mcp-client/errors.ts';
import type { Metrics, ToolCallOutcome } from '../telemetry/metrics.ts';
import { toolCallEnded } from '../access/audit.ts';
import { allowsTool } from '../access/grants.ts';

type RequestSchema = typeof ListToolsRequestSchema;

/** Each method a server may offer, the capability it needs, and its result schema. */
const FORWARDED: { method: string; request: RequestSchema; result: AnySchema; capability: 'tools' | 'prompts' | 'resources' | 'completions' | 'logging' }[] = [
  { method: 'tools/list', request: ListToolsRequestSchema, result: ListToolsResultSchema, capability: 'tools' },
  { method: 'tools/call', request: CallToolRequestSchema as unknown as RequestSchema, result: CallToolResultSchema, capability: 'tools' },
  { method: 'prompts/list', request: ListPromptsRequestSchema as unknown as RequestSchema, result: ListPromptsResultSchema, capability: 'prompts' },
  { method: 'prompts/get', request: GetPromptRequestSchema as unknown as RequestSchema, result: GetPromptResultSchema, capability: 'prompts' },
  { method: 'resources/list', request: ListResourcesRequestSchema as unknown as RequestSchema, result: ListResourcesResultSchema, capability: 'resources' },
  {
    method: 'resources/templates/list',
    request: ListResourceTemplatesRequestSchema as unknown as RequestSchema,
    result: ListResourceTemplatesResultSchema,
    capability: 'resources',
  },
  { method: 'resources/read', request: ReadResourceRequestSchema as unknown as RequestSchema, result: ReadResourceResultSchema, capability: 'resources' },
  { method: 'resources/subscribe', request: SubscribeRequestSchema as unknown as RequestSchema, result: EmptyResultSchema, capability: 'resources' },
  { method: 'resources/unsubscribe', request: UnsubscribeRequestSchema as unknown as RequestSchema, result: EmptyResultSchema, capability: 'resources' },
  { method: 'completion/complete', request: CompleteRequestSchema as unknown as RequestSchema, result: CompleteResultSchema, capability: 'completions' },
  { method: 'logging/setLevel', request: SetLevelRequestSchema as unknown as RequestSchema, result: EmptyResultSchema, capability: 'logging' },
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
  const inflight: { id: RequestId; notify: (n: Notification) => Promise<void> }[] = [];

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
  server = new Server(info, { capabilities: offered, instructions: client.getInstructions() });

  for (const f of FORWARDED) {
    if (!offered[f.capability]) continue;
    const forward = async (req: { params?: object }, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
      const scope = scopeOf(extra);
      const { grant } = scope.caller;
      // A tool outside the caller's grant is not listed, and calling it gets the answer an unknown tool gets.
      if (grant && f.method === 'tools/call' && !allowsTool(grant, name, (req.params as { name: string }).name))
        throw new McpError(ErrorCode.InvalidParams, `Tool ${(req.params as { name: string }).name} not found`);
      const entry = { id: extra.requestId, notify: (n: Notification) => extra.sendNotification(n as never) };
      inflight.push(entry);
      // A tool call is audited like any the gateway makes (its arguments by size and hash only).
      const call = f.method === 'tools/call' ? (req.params as { name: string; arguments?: unknown }) : undefined;
      const started = performance.now();
      const audit = (outcome: ToolCallOutcome) =>
        call &&
        toolCallEnded(
          { metrics: deps.metrics, audit: scope.audit },
          { server: name, tool: call.name, arguments: JSON.stringify(call.arguments ?? {}), outcome, durationMs: performance.now() - started },
        );
      try {
        const { _meta, ...params } = (req.params ?? {}) as { _meta?: { progressToken?: string | number } & Record<string, unknown> };
        const { progressToken, ...meta } = _meta ?? {};
        const result = await upstream.request({ method: f.method, params: { ...params, ...(Object.keys(meta).length ? { _meta: meta } : {}) } }, f.result, {
          signal: extra.signal,
          onprogress: relayProgress(progressToken, extra.sendNotification),
        });
        if (grant && f.method === 'tools/list') {
          const listed = result as { tools: { name: string }[] };
          return { ...listed, tools: listed.tools.filter((t) => allowsTool(grant, name, t.name)) } as never;
        }
        audit((result as { isError?: boolean }).isError ? 'tool_error' : 'ok');
        return result as never;
      } catch (e) {
        if (call && !extra.signal.aborted) audit(failureOutcome(toUpstreamError(e, name)));
        throw toRpcError(e, name);
      } finally {
        inflight.splice(inflight.indexOf(entry), 1);
      }
    };
    if (f.method === 'tools/call') setToolCallHandler(server, forward as ToolCallHandler);
    else server.setRequestHandler(f.request, forward);
  }
  return { server, close: () => upstream.close() };
}
