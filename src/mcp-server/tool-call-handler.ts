/**
 * Registers a server's tools/call handler without the wrapper the SDK's `Server` puts around it, which
 * parses the request a second time (the protocol layer has parsed it already) and validates the result.
 * The gateway's results need neither: upstream results were validated when they arrived (the client
 * side parses every tools/call result), and the gateway's own tools build theirs to the schema. On a
 * proxied call that is the same zod work done twice, for nothing.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

export type ToolCallHandler = (request: CallToolRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Promise<CallToolResult>;

export function setToolCallHandler(server: Server, handler: ToolCallHandler): void {
  // Protocol's own registration: the schema parse, the capability check, no second pass.
  (Protocol.prototype.setRequestHandler as Server['setRequestHandler']).call(server, CallToolRequestSchema, handler);
}
