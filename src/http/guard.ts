/**
 * Browser guard. A keyless gateway on localhost runs tools for whoever reaches it, so a web page must
 * not be able to: bodies must be JSON (no CORS-simple form posts), and without a key a request whose
 * Origin or Host is not local is refused (cross-site requests, DNS rebinding).
 */
import { isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { ApiError } from '../protocol/errors.ts';

function isLocalHostname(host: string, extra: ReadonlySet<string>): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || extra.has(h)) return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return i > 0 ? hostHeader.slice(0, i) : hostHeader;
}

export function browserGuard(opts: { keyRequired: boolean; bindHost: string; isMcpPath: (path: string) => boolean }) {
  const extra = new Set([opts.bindHost.toLowerCase()].filter((h) => h !== '0.0.0.0' && h !== '::'));
  return async (ctx: Context, next: Next) => {
    // MCP servers must check Origin on every connection, key or not (MCP 2025-11-25, Streamable HTTP).
    if (opts.keyRequired && opts.isMcpPath(ctx.path)) {
      const origin = ctx.get('origin');
      let ok = !origin;
      try {
        ok ||= isLocalHostname(new URL(origin).hostname, extra);
      } catch {}
      if (!ok) throw new ApiError(403, `Requests from origin '${origin}' are refused.`, { type: 'permission_error', code: 'origin_not_allowed' });
    }
    if (!opts.keyRequired) {
      const host = ctx.get('host');
      if (host && !isLocalHostname(hostnameOf(host), extra))
        throw new ApiError(
          403,
          `Requests for host '${host}' are refused: this gateway has no key and only serves local clients. Set general_settings.master_key to serve others.`,
          { type: 'permission_error', code: 'host_not_allowed' },
        );
      const origin = ctx.get('origin');
      if (origin) {
        let ok = false;
        try {
          ok = isLocalHostname(new URL(origin).hostname, extra);
        } catch {}
        if (!ok)
          throw new ApiError(403, `Requests from origin '${origin}' are refused: this gateway has no key and only serves local clients.`, {
            type: 'permission_error',
            code: 'origin_not_allowed',
          });
      }
    }
    if (ctx.method === 'POST' && !ctx.is('application/json', '+json'))
      throw new ApiError(415, `Request bodies must be JSON (Content-Type: application/json); got '${ctx.get('content-type') || 'none'}'.`, {
        code: 'unsupported_media_type',
      });
    // Bodies are decoded as UTF-8, JSON's only interchange encoding (RFC 8259 §8.1): another charset would be misread.
    if (ctx.method === 'POST' && ctx.request.charset && !/^utf-?8$/i.test(ctx.request.charset))
      throw new ApiError(415, `Request bodies must be UTF-8; got charset '${ctx.request.charset}'.`, { code: 'unsupported_media_type' });
    await next();
  };
}
