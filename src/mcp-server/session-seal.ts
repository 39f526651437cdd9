/**
 * Aggregated `/mcp` session ids that any replica can serve: the session's state (who opened it, and the
 * `initialize` it was opened with) travels in its id, sealed with an HMAC-SHA256 (node:crypto) under a
 * secret every replica derives from the master key they share. A replica that does not hold the session
 * opens the seal and rebuilds it; a tampered or foreign id is "not found", as an expired one is.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { InitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** What a sealed id holds. */
export interface SealedSession {
  /** `Caller.id` of whoever opened it. */
  owner: string;
  init: InitializeRequest['params'];
}

export class SessionSeal {
  private readonly secret: Buffer;

  /** Without a master key (one local process), a secret of this process's own: ids are not shared. */
  constructor(masterKey: string | undefined) {
    this.secret = masterKey ? createHmac('sha256', masterKey).update('toolgate /mcp session ids').digest() : randomBytes(32);
  }

  seal(s: SealedSession): string {
    // A nonce: two sessions opened alike still get different ids.
    const payload = Buffer.from(JSON.stringify({ o: s.owner, i: s.init, n: randomBytes(9).toString('base64url') })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  open(id: string): SealedSession | null {
    const dot = id.lastIndexOf('.');
    if (dot < 0) return null;
    const payload = id.slice(0, dot);
    const mac = Buffer.from(id.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    try {
      const { o, i } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return typeof o === 'string' && i && typeof i === 'object' ? { owner: o, init: i } : null;
    } catch {
      return null;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
