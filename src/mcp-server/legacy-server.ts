/**
 * A gateway server for one 2025-era session (2025-11-25 and before, `initialize` first): an SDK 1.x
 * `Server` answering with the surface's handlers. The SDK 1.x line keeps serving this generation: it is
 * what the conformance suite (0.1.16) was run against, and sessions, resumable streams and the legacy
 * HTTP+SSE transport all sit on it.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { type McpCall, type McpHandler, type McpMethod, type McpSurface, methodsOf } from './handlers.ts';
import { scopeOf } from './request-scope.ts';
import { setToolCallHandler, type ToolCallHandler } from './tool-call-handler.ts';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Each method's request schema (tools/call is registered without one: see tool-call-handler.ts). */
const SCHEMAS = {
  'tools/list': ListToolsRequestSchema,
  'prompts/list': ListPromptsRequestSchema,
  'prompts/get': GetPromptRequestSchema,
  'resources/list': ListResourcesRequestSchema,
  'resources/templates/list': ListResourceTemplatesRequestSchema,
  'resources/read': ReadResourceRequestSchema,
  'resources/subscribe': SubscribeRequestSchema,
  'resources/unsubscribe': UnsubscribeRequestSchema,
  'completion/complete': CompleteRequestSchema,
  'logging/setLevel': SetLevelRequestSchema,
} as const;

function legacyCall(extra: Extra, meta: McpCall['meta']): McpCall {
  const version = extra.requestInfo?.headers?.['mcp-protocol-version'];
  return {
    scope: scopeOf(extra),
    signal: extra.signal,
    requestId: extra.requestId,
    sessionId: extra.sessionId,
    protocolVersion: typeof version === 'string' ? version : undefined,
    headers: extra.requestInfo?.headers,
    meta,
    notify: (n) => extra.sendNotification(n as ServerNotification),
  };
}

/** The surface as an SDK 1.x `Server` (for one session). */
export function legacyServer(surface: McpSurface): Server {
  const server = new Server(surface.info, { capabilities: surface.capabilities, instructions: surface.instructions });
  for (const method of methodsOf(surface.handlers)) {
    const handler = surface.handlers[method] as McpHandler<McpMethod>;
    const serve = (req: { params?: object }, extra: Extra) => {
      const params = (req.params ?? {}) as never;
      return handler(params, legacyCall(extra, (req.params as { _meta?: McpCall['meta'] } | undefined)?._meta)) as never;
    };
    if (method === 'tools/call') setToolCallHandler(server, serve as ToolCallHandler);
    else server.setRequestHandler(SCHEMAS[method] as typeof ListToolsRequestSchema, serve);
  }
  return server;
}
