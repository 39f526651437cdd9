/** Gateway keys: `Authorization: Bearer`, `x-api-key` or `x-litellm-api-key`. */
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { KeyCache } from '../access/key-cache.ts';
import { gatewayKeyIn } from '../mcp-client/headers.ts';
import { ApiError } from '../protocol/errors.ts';
import { MASTER } from '../access/caller.ts';
import { keyDigest } from '../access/keys.ts';

export function presentedKey(ctx: Context): string | undefined {
  return gatewayKeyIn(ctx.headers);
}

/** Whether a presented key is the master key (compared in constant time). */
export function isMasterKey(key: string, masterKey: string): boolean {
  return timingSafeEqual(keyDigest(key), keyDigest(masterKey));
}

function refused(presented: boolean): ApiError {
  return new ApiError(
    401,
    presented ? 'Incorrect API key provided.' : 'You did not provide an API key. Send it as Authorization: Bearer <key>, x-api-key or x-litellm-api-key.',
    { type: 'invalid_request_error', code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer realm="toolgate"' } },
  );
}

/**
 * With a master key configured, every request presents the master key or a virtual key made with it
 * (unexpired). Either way the caller goes on `ctx.state.caller`: a virtual key with its grant (what it may
 * not use is answered as if it did not exist) and its limits; the master key, or anyone on a gateway
 * without one, unrestricted.
 */
export function requireKey(masterKey: string | undefined, keys: KeyCache) {
  const expected = masterKey ? keyDigest(masterKey) : null;
  return async (ctx: Context, next: Next) => {
    ctx.state.caller = MASTER;
    if (expected) {
      const key = presentedKey(ctx);
      if (!key) throw refused(false);
      // One digest serves both: the master key's comparison and a virtual key's token (its hex form).
      const hash = keyDigest(key);
      if (!timingSafeEqual(hash, expected)) {
        const known = await keys.lookup(hash.toString('hex'));
        if (!known) throw refused(true);
        ctx.state.caller = known;
      }
    }
    await next();
  };
}
