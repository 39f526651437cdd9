/**
 * Virtual keys: made once and shown once (`sk-` and 32 random bytes), stored and looked up by their
 * SHA-256 (LiteLLM's `token`), shown afterwards only masked.
 */
import { createHash, randomBytes } from 'node:crypto';

export function newKey(): string {
  return `sk-${randomBytes(32).toString('base64url')}`;
}

/** What the store keeps and looks a key up by. */
/** A key's SHA-256, raw. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** A key's token: its SHA-256 in hex. */
export function hashKey(key: string): string {
  return keyDigest(key).toString('hex');
}

/** `sk-...abcd`: enough to tell keys apart in a list, not enough to use one. */
export function maskKey(key: string): string {
  return `sk-...${key.slice(-4)}`;
}
