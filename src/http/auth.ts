/** Gateway keys: `Authorization: Bearer`, `x-api-key` or `x-litellm-api-key`. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ApiError } from '../protocol/errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function presentedKey(ctx: Context): string | undefined {
  const auth = ctx.get('authorization');
  const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
  return bearer || ctx.get('x-api-key') || ctx.get('x-litellm-api-key') || undefined;
}

/** Whether a presented key is the master key (compared in constant time). */
export function isMasterKey(key: string, masterKey: string): boolean {
  return timingSafeEqual(digest(key), digest(masterKey));
}

export function requireKey(masterKey: string | undefined) {
  const expected = masterKey ? digest(masterKey) : null;
  return async (ctx: Context, next: Next) => {
    if (expected) {
      const key = presentedKey(ctx);
      if (!key || !timingSafeEqual(digest(key), expected))
        throw new ApiError(
          401,
          key ? 'Incorrect API key provided.' : 'You did not provide an API key. Send it as Authorization: Bearer <key>, x-api-key or x-litellm-api-key.',
          {
            type: 'invalid_request_error',
            code: 'invalid_api_key',
            headers: { 'www-authenticate': 'Bearer realm="toolgate"' },
          },
        );
    }
    await next();
  };
}
