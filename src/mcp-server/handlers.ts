/**
 * What the gateway's MCP servers do, apart from the protocol generation that asks: each server (the
 * aggregated `/mcp`, one upstream passed through) is a table of handlers from a method's params to its
 * result. The table is bound once per generation: to an SDK 1.x `Server` for a 2025-era session
 * (legacy-server.ts), and to an SDK 2.x `Server` for a 2026-07-28 request (modern-server.ts). A handler
 * sees the request through `McpCall`, which both bindings fill in.
 */
import type {
  CallToolRequest,
  CallToolResult,
  ClientCapabilities,
  CompleteRequest,
  CompleteResult,
  GetPromptRequest,
  GetPromptResult,
  Implementation,
  ListPromptsRequest,
  ListPromptsResult,
  ListResourcesRequest,
  ListResourcesResult,
  ListResourceTemplatesRequest,
  ListResourceTemplatesResult,
  ListToolsRequest,
  ListToolsResult,
  ReadResourceRequest,
  ReadResourceResult,
  ServerCapabilities,
  SetLevelRequest,
  SubscribeRequest,
  UnsubscribeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpRequestScope } from './request-scope.ts';

/** Each method a gateway server may answer: its params and its result. */
export interface McpMethods {
  'tools/list': [ListToolsRequest['params'], ListToolsResult];
  'tools/call': [CallToolRequest['params'], CallToolResult];
  'prompts/list': [ListPromptsRequest['params'], ListPromptsResult];
  'prompts/get': [GetPromptRequest['params'], GetPromptResult];
  'resources/list': [ListResourcesRequest['params'], ListResourcesResult];
  'resources/templates/list': [ListResourceTemplatesRequest['params'], ListResourceTemplatesResult];
  'resources/read': [ReadResourceRequest['params'], ReadResourceResult];
  'resources/subscribe': [SubscribeRequest['params'], Record<string, never>];
  'resources/unsubscribe': [UnsubscribeRequest['params'], Record<string, never>];
  'completion/complete': [CompleteRequest['params'], CompleteResult];
  'logging/setLevel': [SetLevelRequest['params'], Record<string, never>];
}

export type McpMethod = keyof McpMethods;

/** One request as a handler sees it, whichever generation sent it. */
export interface McpCall {
  /** Who asks (their grant binds what they see), and the request's meter and audit. */
  scope: McpRequestScope;
  signal: AbortSignal;
  requestId: string | number;
  /** The 2025-era session (none for a 2026-07-28 request). */
  sessionId?: string | undefined;
  /** The protocol version the request was made under. */
  protocolVersion?: string | undefined;
  /** This request's HTTP headers, when they may differ from those the server was built with (none over stdio). */
  headers?: Record<string, string | string[] | undefined> | undefined;
  /** The request's `_meta`: its progress token, its trace context. */
  meta?: ({ progressToken?: string | number } & Record<string, unknown>) | undefined;
  /** A notification on the request's own stream (progress, logging). */
  notify(notification: { method: string; params?: Record<string, unknown> }): Promise<void>;
  /** 2026-07-28: who the client is and what it can be asked, as its request's `_meta` says. */
  client?: { info?: Implementation | undefined; capabilities?: ClientCapabilities | undefined } | undefined;
  /** 2026-07-28: the answers a retried request carries, by the keys of the questions it was asked. */
  inputResponses?: Record<string, unknown> | undefined;
  /** 2026-07-28: the state a retried request echoes. */
  requestState?: string | undefined;
}

export type McpHandler<M extends McpMethod> = (params: NonNullable<McpMethods[M][0]>, call: McpCall) => Promise<McpMethods[M][1]>;

export type McpHandlers = { [M in McpMethod]?: McpHandler<M> };

/** A gateway server, as both generations serve it. */
export interface McpSurface {
  info: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string | undefined;
  handlers: McpHandlers;
}

/** The methods a surface answers, in the order the bindings register them. */
export function methodsOf(handlers: McpHandlers): McpMethod[] {
  return Object.keys(handlers) as McpMethod[];
}
