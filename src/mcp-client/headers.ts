/**
 * The headers an upstream MCP server receives: the ones configured for it (static headers and its
 * credential), and one caller's `x-mcp-<server>-*` headers on that caller's calls. The session is
 * shared, so per-request headers ride along through AsyncLocalStorage into the transport's `fetch`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { McpServerEntry } from '../config/schema.ts';
import { outboundFetch } from '../net/http-client.ts';

/** Headers for the calls made inside `withRequestHeaders`. */
const requestHeaders = new AsyncLocalStorage<Record<string, string>>();

export function withRequestHeaders<T>(headers: Record<string, string> | undefined, fn: () => Promise<T>): Promise<T> {
  return headers && Object.keys(headers).length ? requestHeaders.run(headers, fn) : fn();
}

export const fetchWithRequestHeaders: typeof fetch = (input, init) => {
  const extra = requestHeaders.getStore();
  if (!extra) return outboundFetch(input, init);
  const headers = new Headers(init?.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return outboundFetch(input, { ...init, headers });
};

/** The headers configured for a server: static headers plus its credential. */
export function configuredHeaders(c: McpServerEntry): Record<string, string> {
  const h: Record<string, string> = { ...c.static_headers };
  const token = c.authentication_token ?? c.auth_value;
  if (token) {
    switch (c.auth_type ?? 'bearer_token') {
      case 'bearer_token':
        h.authorization = `Bearer ${token}`;
        break;
      case 'api_key':
        h['x-api-key'] = token;
        break;
      case 'basic':
        h.authorization = `Basic ${token.includes(':') ? Buffer.from(token).toString('base64') : token}`;
        break;
      case 'authorization':
        h.authorization = token;
        break;
      case 'token':
        h.authorization = `token ${token}`;
        break;
      case 'none':
        break;
    }
  }
  return h;
}

/** Headers a client sent that are meant for `server`: `x-mcp-<server>-<name>`, plus its `extra_headers`. */
/** The key a request presents to the gateway: `Authorization: Bearer`, `x-api-key` or `x-litellm-api-key`. */
export function gatewayKeyIn(headers: Record<string, string | string[] | undefined>): string | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const bearer = /^Bearer\s+(.+)$/i.exec(one(headers.authorization) ?? '')?.[1]?.trim();
  return bearer || one(headers['x-api-key']) || one(headers['x-litellm-api-key']) || undefined;
}

export function forwardedHeaders(
  server: string,
  extraHeaderNames: readonly string[] | undefined,
  request: Record<string, string | string[] | undefined>,
  gatewayKey: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = `x-mcp-${server.toLowerCase()}-`;
  for (const [k, v] of Object.entries(request)) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v.join(', ') : v;
    if (k.startsWith(prefix) && k.length > prefix.length) out[k.slice(prefix.length)] = value;
  }
  for (const name of extraHeaderNames ?? []) {
    const v = request[name.toLowerCase()];
    if (v !== undefined) out[name.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  // The caller's gateway key (the master key or a virtual key) authenticates the caller to the gateway, never
  // to an upstream. With no gateway key configured, a client's Authorization may be meant for the upstream.
  if (gatewayKey) {
    const presented = gatewayKeyIn(request);
    for (const [k, v] of Object.entries(out)) if (v.includes(gatewayKey) || (presented && v.includes(presented))) delete out[k];
  }
  return out;
}
