/** An upstream MCP server's failures, from the MCP SDK's error classes (both generations') to the gateway's `McpUpstreamError`. */
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { McpUpstreamError, RpcCode } from '../protocol/errors.ts';
import type { ToolCallOutcome } from '../telemetry/metrics.ts';

/** The JSON-RPC code SDK 1.x gave a request that timed out (`ErrorCode.RequestTimeout`); SDK 2.x's `SdkError` is named by it here. */
const REQUEST_TIMEOUT = -32001;

/** How a failed call ended, for `toolgate_mcp_tool_calls_total{outcome}`. */
export function failureOutcome(err: McpUpstreamError): ToolCallOutcome {
  if (err.kind === 'http_error') return 'http_error';
  return err.code === REQUEST_TIMEOUT ? 'timeout' : 'protocol_error';
}

/** Any error met talking to `server`, named: an HTTP status, the server's JSON-RPC error, or an unreachable server. */
export function toUpstreamError(e: unknown, server: string): McpUpstreamError {
  if (e instanceof McpUpstreamError) return e;
  if (e instanceof SdkHttpError) return new McpUpstreamError('http_error', e.status, `${server}: HTTP ${e.status}: ${e.message}`);
  if (e instanceof ProtocolError || e instanceof McpError) return new McpUpstreamError('mcp_protocol_error', e.code, `${server}: ${e.message}`);
  if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout)
    return new McpUpstreamError('mcp_protocol_error', REQUEST_TIMEOUT, `${server}: ${e.message}`);
  // A method one generation has and the other does not (resources/subscribe or logging/setLevel toward 2026-07-28).
  if (e instanceof SdkError && e.code === SdkErrorCode.MethodNotSupportedByProtocolVersion) {
    const { method, era } = (e.data ?? {}) as { method?: string; era?: string };
    return new McpUpstreamError(
      'mcp_protocol_error',
      RpcCode.MethodNotFound,
      `${server}: ${method ?? 'this method'} does not exist in the MCP generation the server speaks (${era ?? 'the other one'})`,
    );
  }
  const err = e as Error & { code?: unknown; cause?: { code?: string; message?: string } };
  const why = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
  return new McpUpstreamError('mcp_protocol_error', RpcCode.ConnectionClosed, `${server}: cannot reach the server (${why})`);
}
