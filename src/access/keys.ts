/**
 * Virtual keys: made once and shown once (`sk-` and 32 random bytes), stored and looked up by their
 * SHA-256 (LiteLLM's `token`), shown afterwards only masked.
 */
import { createHash, randomBytes } from 'node:crypto';

export function newKey(): string {
  return `sk-${randomBytes(32).toString('base64url')}`;
}

/** What the store keeps and looks a key up by. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** `sk-...abcd`: enough to tell keys apart in a list, not enough to use one. */
export function maskKey(key: string): string {
  return `sk-...${key.slice(-4)}`;
}
