/**
 * What a virtual key may use: models, MCP servers and their tools, as LiteLLM's `models` and
 * `object_permission` say them, intersected with its team's. Pure functions: the edges ask them what to
 * list and what to refuse (as if it did not exist), the store keeps the raw fields.
 */
import { globToRegExp } from '../protocol/glob.ts';

/** LiteLLM's `object_permission` (the MCP part the gateway serves). */
export interface ObjectPermission {
  /** Servers granted with every tool. */
  mcp_servers?: string[] | null;
  /** Servers granted with only the tools listed (whether or not the server is also in `mcp_servers`). */
  mcp_tool_permissions?: Record<string, string[]> | null;
}

/** One side of a grant: a key's or a team's own fields. */
export interface GrantFields {
  /** Model names or `*` patterns; empty or absent: every model. `all-team-models` (a key's) defers to its team. */
  models?: string[] | null;
  object_permission?: ObjectPermission | null;
}

/** The tools of one server a grant allows: every tool, or only those named. */
type ServerGrant = { all: true } | { all: false; tools: ReadonlySet<string> };

/** A key's effective grant (its own ∩ its team's). `null` fields mean "no restriction". */
export interface Grant {
  /** Lists of model patterns: a name must match a pattern of every list (the key's, the team's). */
  models: RegExp[][];
  servers: ReadonlyMap<string, ServerGrant> | null;
}

export const UNRESTRICTED: Grant = { models: [], servers: null };

function modelPatterns(models: string[] | null | undefined): RegExp[] | null {
  const named = (models ?? []).filter((m) => m !== 'all-team-models');
  return named.length ? named.map(globToRegExp) : null;
}

function serverGrants(p: ObjectPermission | null | undefined): Map<string, ServerGrant> | null {
  const servers = p?.mcp_servers ?? [];
  const tools = Object.entries(p?.mcp_tool_permissions ?? {});
  if (!servers.length && !tools.length) return null;
  const out = new Map<string, ServerGrant>();
  for (const s of servers) out.set(s, { all: true });
  // A tool list narrows a server that is also granted whole.
  for (const [s, names] of tools) out.set(s, { all: false, tools: new Set(names) });
  return out;
}

function intersectServers(a: ReadonlyMap<string, ServerGrant> | null, b: ReadonlyMap<string, ServerGrant> | null): ReadonlyMap<string, ServerGrant> | null {
  if (!a) return b;
  if (!b) return a;
  const out = new Map<string, ServerGrant>();
  for (const [server, ga] of a) {
    const gb = b.get(server);
    if (!gb) continue;
    if (ga.all) out.set(server, gb);
    else if (gb.all) out.set(server, ga);
    else out.set(server, { all: false, tools: new Set([...ga.tools].filter((t) => gb.tools.has(t))) });
  }
  return out;
}

/** The key's grant within its team's (a key without a team: its own). */
export function effectiveGrant(key: GrantFields, team?: GrantFields | null): Grant {
  const models = [modelPatterns(key.models), team ? modelPatterns(team.models) : null].filter((l): l is RegExp[] => l !== null);
  return {
    models,
    servers: intersectServers(serverGrants(key.object_permission), team ? serverGrants(team.object_permission) : null),
  };
}

export function allowsModel(g: Grant, model: string): boolean {
  return g.models.every((list) => list.some((p) => p.test(model)));
}

export function allowsServer(g: Grant, server: string): boolean {
  return !g.servers || g.servers.has(server);
}

export function allowsTool(g: Grant, server: string, tool: string): boolean {
  if (!g.servers) return true;
  const s = g.servers.get(server);
  return !!s && (s.all || s.tools.has(tool));
}
