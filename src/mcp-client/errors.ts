/** An upstream MCP server's failures, from the MCP SDK's error classes to the gateway's `McpUpstreamError`. */
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { McpUpstreamError, RpcCode } from '../protocol/errors.ts';
import type { ToolCallOutcome } from '../telemetry/metrics.ts';

/** The MCP SDK's `ErrorCode.RequestTimeout`. */
const REQUEST_TIMEOUT = -32001;

/** How a failed call ended, for `toolgate_mcp_tool_calls_total{outcome}`. */
export function failureOutcome(err: McpUpstreamError): ToolCallOutcome {
  if (err.kind === 'http_error') return 'http_error';
  return err.code === REQUEST_TIMEOUT ? 'timeout' : 'protocol_error';
}

/** Any error met talking to `server`, named: an HTTP status, the server's JSON-RPC error, or an unreachable server. */
export function toUpstreamError(e: unknown, server: string): McpUpstreamError {
  if (e instanceof McpUpstreamError) return e;
  if (e instanceof StreamableHTTPError) return new McpUpstreamError('http_error', e.code ?? 0, `${server}: HTTP ${e.code ?? '?'}: ${e.message}`);
  if (e instanceof McpError) return new McpUpstreamError('mcp_protocol_error', e.code, `${server}: ${e.message}`);
  const err = e as Error & { code?: unknown; cause?: { code?: string; message?: string } };
  const why = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return new McpUpstreamError('mcp_protocol_error', RpcCode.ConnectionClosed, `${server}: cannot reach the server (${why})`);
}
