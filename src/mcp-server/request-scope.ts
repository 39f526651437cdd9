/**
 * Who makes each MCP request, handed to the SDK's request handlers the way the SDK carries a request's
 * authentication (`authInfo`, which handlers read from `extra.authInfo`): the caller, with its grant and
 * limits, and the request's meter. A request without one (stdio, the gateway's own CLI) is the master's.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { type Caller, MASTER } from '../access/caller.ts';
import type { UsageMeter } from '../access/meter.ts';
import type { ToolAudit } from '../access/audit.ts';

export interface McpRequestScope {
  caller: Caller;
  meter?: UsageMeter | undefined;
  audit?: ToolAudit | undefined;
}

const OWN = { caller: MASTER } satisfies McpRequestScope;

export function authInfoOf(scope: McpRequestScope): AuthInfo {
  return { token: '', clientId: scope.caller.id, scopes: [], extra: { scope } };
}

export function scopeOf(extra: { authInfo?: AuthInfo | undefined }): McpRequestScope {
  return (extra.authInfo?.extra?.scope as McpRequestScope | undefined) ?? OWN;
}
