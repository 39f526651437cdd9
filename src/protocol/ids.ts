import { randomFillSync } from 'node:crypto';

// Ids are drawn from a pool of random bytes refilled in bulk: one syscall per ~170 ids, not one each.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

/** Gateway-owned ids, shaped like OpenAI's: a type prefix and 48 hex characters. */
export function newId(prefix: 'resp' | 'msg' | 'fc' | 'fco' | 'rs' | 'mcpl' | 'mcp' | 'mcpr' | 'mcpa' | 'tsc' | 'tso' | 'item' | 'req' | 'aud'): string {
  return `${prefix}_${randomHex(24)}`;
}

/** A tool call id for models that did not supply one. */
export function newCallId(): string {
  return `call_${randomHex(12)}`;
}
