/**
 * Resolves a request's `{"type":"mcp"}` tools into bindings: which upstream servers a label stands for,
 * which of their tools it may use, which need approval, and which headers go with the calls.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { McpSettings } from '../config/schema.ts';
import type { McpPool } from '../mcp-client/pool.ts';
import { forwardedHeaders } from '../mcp-client/headers.ts';
import type { Tool, Upstream } from '../mcp-client/upstream.ts';
import { ApiError } from '../protocol/errors.ts';
import type { McpTool, McpToolFilter } from '../protocol/responses.ts';
import { allowsServer, allowsTool, type Grant } from '../access/grants.ts';

export interface McpBinding {
  label: string;
  entry: McpTool;
  servers: Upstream[];
  /** A remote server named by URL (pooled per label, URL and headers; its session closes when idle). */
  ephemeral: boolean;
  /** Headers to send with this binding's calls to one server. */
  headers: Map<string, Record<string, string>>;
  /** A virtual key's grant: the tools of the gateway's servers outside it are not offered. */
  grant?: Grant | undefined;
}

/** The gateway's own upstreams: `litellm_proxy`, or `litellm_proxy/mcp/<name>[,<name>]`. */
const PROXY = /^litellm_proxy(?:\/mcp(?:\/(.*))?)?\/?$/;

function filterMatches(f: McpToolFilter | undefined, tool: Tool): boolean {
  if (!f) return false;
  if (f.tool_names?.includes(tool.name)) return true;
  return f.read_only === true && tool.annotations?.readOnlyHint === true;
}

/** `allowed_tools`: a list of names or `{tool_names, read_only}`; absent means every tool. */
export function isAllowed(entry: McpTool, tool: Tool): boolean {
  const a = entry.allowed_tools;
  if (a == null) return true;
  if (Array.isArray(a)) return a.includes(tool.name);
  if (a.tool_names === undefined && a.read_only === undefined) return true;
  const byName = a.tool_names === undefined || a.tool_names.includes(tool.name);
  const byRo = a.read_only === undefined || (tool.annotations?.readOnlyHint === true) === a.read_only;
  return byName && byRo;
}

/** Whether a binding offers a server's tool: the request's `allowed_tools` within the caller's grant. */
export function offers(b: McpBinding, server: Upstream, tool: Tool): boolean {
  return isAllowed(b.entry, tool) && (!b.grant || allowsTool(b.grant, server.name, tool.name));
}

/** `require_approval`: "always" (the default), "never", or filters; a tool matched by neither needs approval. */
export function needsApproval(entry: McpTool, tool: Tool): boolean {
  const r = entry.require_approval ?? 'always';
  if (r === 'always') return true;
  if (r === 'never') return false;
  if (filterMatches(r.always, tool)) return true;
  return !filterMatches(r.never, tool);
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['100.64.0.0', 10],
  ['0.0.0.0', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::', 128],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

function isPrivate(address: string): boolean {
  const v = isIP(address);
  if (v === 6 && address.toLowerCase().startsWith('::ffff:')) return PRIVATE.check(address.slice(7), 'ipv4');
  return v !== 0 && PRIVATE.check(address, v === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A remote server is allowed only when its host is listed in `mcp_settings.allowed_remote_hosts`
 * (`*.example.com` matches subdomains). A host that is, or resolves to, a private or loopback address
 * must be listed by its exact name, not through a wildcard.
 */
export async function checkRemoteHost(url: URL, settings: McpSettings): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const list = settings.allowed_remote_hosts.map((h) => h.toLowerCase());
  const exact = list.includes(host);
  const wildcard = list.some((h) => h.startsWith('*.') && host.endsWith(h.slice(1)));
  const refuse = (why: string) => {
    throw new ApiError(400, `MCP server host '${host}' is not allowed: ${why}`, { param: 'tools', code: 'mcp_host_not_allowed' });
  };
  if (!exact && !wildcard) refuse('add it to mcp_settings.allowed_remote_hosts to use it');
  if (exact) return;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    refuse('it does not resolve');
    return;
  }
  if (addresses.some(isPrivate)) refuse('it resolves to a private or loopback address; list it by its exact name to allow that');
}

export interface BindingContext {
  pool: McpPool;
  settings: McpSettings;
  requestHeaders: Record<string, string | string[] | undefined>;
  gatewayKey: string | undefined;
  /** A virtual key's grant: servers outside it are answered as if they did not exist. */
  grant?: Grant | undefined;
}

export async function resolveBindings(tools: readonly { type: string }[], ctx: BindingContext): Promise<McpBinding[]> {
  const bindings: McpBinding[] = [];
  const labels = new Set<string>();
  for (const [index, t] of tools.entries()) {
    if (t.type !== 'mcp') continue;
    const entry = t as McpTool;
    const param = `tools[${index}]`;
    if (labels.has(entry.server_label))
      throw new ApiError(400, `Duplicate server_label '${entry.server_label}': each MCP tool needs its own label.`, {
        param: `${param}.server_label`,
        code: 'invalid_value',
      });
    labels.add(entry.server_label);
    if (entry.connector_id)
      throw new ApiError(400, 'connector_id is not supported by this gateway; use server_url.', { param: `${param}.connector_id`, code: 'unsupported_value' });
    const url = entry.server_url;
    if (!url)
      throw new ApiError(400, `Missing required parameter: '${param}.server_url'.`, { param: `${param}.server_url`, code: 'missing_required_parameter' });
    // The tool's own headers and authorization go to the servers it names.
    const own: Record<string, string> = { ...entry.headers };
    if (entry.authorization) own.authorization = /^(bearer|basic|token)\s/i.test(entry.authorization) ? entry.authorization : `Bearer ${entry.authorization}`;
    const proxy = PROXY.exec(url);
    const { grant } = ctx;
    if (proxy) {
      const visible = grant ? ctx.pool.names.filter((n) => allowsServer(grant, n)) : ctx.pool.names;
      const names = proxy[1]
        ? proxy[1]
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : visible;
      const servers: Upstream[] = [];
      for (const name of names) {
        const u = visible.includes(name) ? ctx.pool.get(name) : undefined;
        if (!u)
          throw new ApiError(400, `Unknown MCP server '${name}' in server_url; registered: ${visible.join(', ') || 'none'}.`, {
            param: `${param}.server_url`,
            code: 'invalid_value',
          });
        servers.push(u);
      }
      const headers = new Map(
        servers.map((u) => [u.name, { ...forwardedHeaders(u.name, u.config.extra_headers, ctx.requestHeaders, ctx.gatewayKey), ...own }]),
      );
      bindings.push({ label: entry.server_label, entry, servers, ephemeral: false, headers, grant });
      continue;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      parsed = new URL('invalid:');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new ApiError(400, `server_url must be "litellm_proxy", "litellm_proxy/mcp/<server>" or an http(s) URL; got '${url}'.`, {
        param: `${param}.server_url`,
        code: 'invalid_value',
      });
    if (grant?.servers)
      throw new ApiError(400, `MCP server host '${parsed.hostname}' is not allowed: this key may use only the gateway's MCP servers it was granted.`, {
        param: `${param}.server_url`,
        code: 'mcp_host_not_allowed',
      });
    await checkRemoteHost(parsed, ctx.settings);
    const upstream = ctx.pool.remote(entry.server_label, url, own);
    bindings.push({ label: entry.server_label, entry, servers: [upstream], ephemeral: true, headers: new Map([[upstream.name, {}]]) });
  }
  return bindings;
}
