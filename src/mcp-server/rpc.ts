/** What the `/mcp` server relays between an upstream and its downstream client: errors and progress. */
import { McpError, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { toUpstreamError } from '../mcp-client/errors.ts';
import { describeFailure, jsonRpcErrorOf } from '../protocol/errors.ts';

/** An upstream failure as a JSON-RPC error for the downstream client; the upstream's own error codes survive. */
export function toRpcError(e: unknown, server: string): McpError {
  if (e instanceof McpError) return e;
  const { code, message } = jsonRpcErrorOf(describeFailure(toUpstreamError(e, server)));
  return new McpError(code, message);
}

/** Relays an upstream's progress to a downstream request, under the downstream's own token (none: no relay). */
export function relayProgress(
  token: string | number | undefined,
  send: (n: { method: 'notifications/progress'; params: Progress & { progressToken: string | number } }) => Promise<void>,
): ((p: Progress) => void) | undefined {
  return token === undefined ? undefined : (p) => void send({ method: 'notifications/progress', params: { ...p, progressToken: token } });
}
