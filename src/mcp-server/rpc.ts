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

/**
 * Relays an upstream's progress to a downstream request, under the downstream's own token (none: no
 * relay). `sent` settles once every notification relayed is out: the result waits for it, since a
 * 2026-07-28 answer's stream ends with its result and a notification after it would be lost.
 */
export function relayProgress(
  token: string | number | undefined,
  send: (n: { method: 'notifications/progress'; params: Progress & { progressToken: string | number } }) => Promise<void>,
): { onprogress: (p: Progress) => void; sent(): Promise<void> } | undefined {
  if (token === undefined) return undefined;
  let last = Promise.resolve();
  return {
    onprogress: (p) => {
      last = last.then(() => send({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => {}));
    },
    sent: () => last,
  };
}
