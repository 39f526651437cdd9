import { randomBytes } from 'node:crypto';

/** Gateway-owned ids, shaped like OpenAI's: a type prefix and 48 hex characters. */
export function newId(prefix: 'resp' | 'msg' | 'fc' | 'rs' | 'mcpl' | 'mcp' | 'mcpr' | 'mcpa' | 'chatcmpl' | 'item'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** A tool call id for models that did not supply one. */
export function newCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}
