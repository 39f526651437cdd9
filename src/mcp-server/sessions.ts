/**
 * Downstream MCP sessions over HTTP: Streamable HTTP (one SDK `Server` and transport per session, an
 * idle timeout, a cap, resumable streams) and the legacy HTTP+SSE transport. Unknown or expired session
 * ids get 404 (so clients re-initialize), a missing one 400. Streamable HTTP uses the SDK's
 * web-standard transport through a bridge of our own (see web-bridge.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest, type InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { mcpRefusal, RpcCode } from '../protocol/errors.ts';
import { SessionEventStore } from './event-store.ts';
import { sendWebResponse, toWebRequest } from './web-bridge.ts';
import { authInfoOf, type McpRequestScope } from './request-scope.ts';
import type { SessionSeal } from './session-seal.ts';
import { MASTER } from '../access/caller.ts';

export interface SessionServer {
  server: Server;
  close?: () => void | Promise<void>;
}

/** Builds the server of a new session, from its `initialize` request. */
export type SessionFactory = (init: InitializeRequest) => Promise<SessionServer>;

interface Session {
  id: string;
  /** The caller that opened it (`Caller.id`): another caller is told there is no such session. */
  owner: string;
  transport: WebStandardStreamableHTTPServerTransport | SSEServerTransport;
  lastSeen: number;
  /** Requests in flight and streams held open (SSE GET, the legacy stream): while any, the session is not idle. */
  open: number;
  close(): Promise<void>;
}

export interface SessionOptions {
  idleMs: number;
  max: number;
  /** A client deleted a sealed session here: the other replicas are told, so that none rebuilds it. */
  onDeleted?: (id: string) => void;
}

/** Ended sessions remembered (so that their sealed ids are not rebuilt), and for how long. */
const ENDED_MAX = 10_000;
const ENDED_MS = 24 * 3_600_000;

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly opts: SessionOptions;
  private readonly sweeper: NodeJS.Timeout;
  /** Ids of sessions that ended (deleted, expired, closed), oldest first, with when. */
  private readonly ended = new Map<string, number>();

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(opts.idleMs / 2, 30_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes sessions idle for longer than the timeout. */
  sweep(): void {
    const cutoff = Date.now() - this.opts.idleMs;
    for (const s of this.sessions.values()) if (s.open === 0 && s.lastSeen < cutoff) void s.close();
  }

  private admit(): void {
    if (this.sessions.size < this.opts.max) return;
    this.sweep();
    if (this.sessions.size >= this.opts.max)
      throw mcpRefusal(
        503,
        RpcCode.ConnectionClosed,
        `Too many MCP sessions (the limit is ${this.opts.max}); close sessions you no longer use (DELETE) or try again later.`,
      );
  }

  private track(s: Session, res: ServerResponse): void {
    s.lastSeen = Date.now();
    s.open++;
    res.once('close', () => {
      s.open--;
      s.lastSeen = Date.now();
    });
  }

  /**
   * One Streamable HTTP request (POST, GET or DELETE), answered on `res`, made by `scope`'s caller. With a
   * `seal`, new sessions get sealed ids, and a sealed id this process does not hold is rebuilt here.
   */
  async handleStreamable(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    factory: SessionFactory,
    scope: McpRequestScope = { caller: MASTER },
    seal?: SessionSeal,
  ): Promise<void> {
    const authInfo = authInfoOf(scope);
    // Clients that accept only JSON get JSON answers; the transport wants both types listed.
    const accept = req.headers.accept ?? '';
    const jsonOnly = accept.includes('application/json') && !accept.includes('text/event-stream') && req.method === 'POST';
    let request: Request;
    try {
      request = toWebRequest(req, jsonOnly ? { accept: `${accept}, text/event-stream` } : {});
    } catch {
      throw mcpRefusal(400, RpcCode.InvalidRequest, 'Bad Request: the request URL or Host header is malformed');
    }
    const parsedBody = req.method === 'POST' ? body : undefined;
    // JSON-RPC 2.0 §6: an empty batch is an invalid request (the SDK transport would accept it with 202).
    if (Array.isArray(parsedBody) && parsedBody.length === 0) throw mcpRefusal(400, RpcCode.InvalidRequest, 'Invalid Request: empty batch');
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = this.sessions.get(sid) ?? (seal ? await this.adopt(sid, seal, scope, factory, jsonOnly) : undefined);
      if (!s || s.owner !== scope.caller.id || !(s.transport instanceof WebStandardStreamableHTTPServerTransport))
        throw mcpRefusal(404, RpcCode.SessionNotFound, 'Session not found');
      this.track(s, res);
      await sendWebResponse(res, await s.transport.handleRequest(request, { parsedBody, authInfo }));
      if (req.method === 'DELETE' && seal && !this.sessions.has(sid)) this.opts.onDeleted?.(sid);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) throw mcpRefusal(400, RpcCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required');
    this.admit();
    const owner = scope.caller.id;
    const { transport, started } = await this.start(factory, body, owner, jsonOnly, () => (seal ? seal.seal({ owner, init: body.params }) : randomUUID()));
    await sendWebResponse(res, await transport.handleRequest(request, { parsedBody, authInfo }));
    const session = started();
    if (session) session.lastSeen = Date.now();
    else await transport.close(); // initialize failed: nothing to keep
  }

  /** A session's server and transport; `started()` is the session once its `initialize` has succeeded. */
  private async start(
    factory: SessionFactory,
    init: InitializeRequest,
    owner: string,
    jsonOnly: boolean,
    sessionId: () => string,
  ): Promise<{ transport: WebStandardStreamableHTTPServerTransport; started: () => Session | undefined }> {
    const built = await factory(init);
    let session: Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: sessionId,
      enableJsonResponse: jsonOnly,
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => {
        session = { id, owner, transport, lastSeen: Date.now(), open: 0, close: () => transport.close() };
        this.sessions.set(id, session);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.end(transport.sessionId);
      void built.close?.();
      void built.server.close().catch(() => {});
    };
    await built.server.connect(transport);
    return { transport, started: () => session };
  }

  /** Sessions being rebuilt from their sealed ids, so that concurrent requests rebuild one once. */
  private readonly adopting = new Map<string, Promise<Session | undefined>>();

  /**
   * A sealed session another replica opened (or this one, before a restart): rebuilt here under the same id,
   * its `initialize` handshake replayed in process from the seal (the answers go nowhere). Undefined when the
   * id is not a valid seal or another caller opened it.
   */
  private adopt(sid: string, seal: SessionSeal, scope: McpRequestScope, factory: SessionFactory, jsonOnly: boolean): Promise<Session | undefined> {
    const pending = this.adopting.get(sid);
    if (pending) return pending;
    const sealed = this.ended.has(sid) ? null : seal.open(sid);
    if (!sealed || sealed.owner !== scope.caller.id) return Promise.resolve(undefined);
    const adopted = (async () => {
      this.admit();
      const init = { method: 'initialize' as const, params: sealed.init };
      const { transport, started } = await this.start(factory, init, sealed.owner, jsonOnly, () => sid);
      const post = (message: object, headers: Record<string, string> = {}) =>
        transport
          .handleRequest(
            new Request('http://toolgate.internal/mcp', {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
              body: JSON.stringify(message),
            }),
            { parsedBody: message, authInfo: authInfoOf(scope) },
          )
          .then((r) => r.text());
      await post({ jsonrpc: '2.0', id: 0, ...init });
      const session = started();
      if (!session) {
        await transport.close();
        return undefined;
      }
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, 'mcp-protocol-version': sealed.init.protocolVersion });
      return session;
    })().finally(() => this.adopting.delete(sid));
    this.adopting.set(sid, adopted);
    return adopted;
  }

  /** A session is over: dropped, and its id remembered so that it is not rebuilt from its seal. */
  private end(id: string): void {
    this.sessions.delete(id);
    const now = Date.now();
    this.ended.set(id, now);
    for (const [old, at] of this.ended) {
      if (this.ended.size <= ENDED_MAX && now - at < ENDED_MS) break;
      this.ended.delete(old);
    }
  }

  /** A client deleted this session on another replica: closed here too, and never rebuilt. */
  async endedElsewhere(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.end(id);
    await s?.close().catch(() => {});
  }

  /** GET of the legacy HTTP+SSE transport: the stream stays open until the client goes. */
  async openLegacyStream(res: ServerResponse, postPath: string, factory: () => Promise<SessionServer>, owner: string = MASTER.id): Promise<void> {
    this.admit();
    const built = await factory();
    const transport = new SSEServerTransport(postPath, res);
    const session: Session = { id: transport.sessionId, owner, transport, lastSeen: Date.now(), open: 0, close: () => transport.close() };
    this.sessions.set(session.id, session);
    this.track(session, res);
    // This transport has no keep-alive of its own; proxies would cut an idle stream.
    const ping = setInterval(() => res.writable && res.write(': keep-alive\n\n'), 15_000);
    ping.unref();
    transport.onclose = () => {
      clearInterval(ping);
      this.sessions.delete(session.id);
      void built.close?.();
    };
    res.once('close', () => void built.server.close().catch(() => {}));
    await built.server.connect(transport);
  }

  /** POST of the legacy transport: `/messages?sessionId=`. */
  async postLegacy(
    sessionId: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    scope: McpRequestScope = { caller: MASTER },
  ): Promise<void> {
    if (!sessionId) throw mcpRefusal(400, RpcCode.ConnectionClosed, 'Bad Request: sessionId is required');
    const s = this.sessions.get(sessionId);
    if (!s || s.owner !== scope.caller.id || !(s.transport instanceof SSEServerTransport)) throw mcpRefusal(404, RpcCode.SessionNotFound, 'Session not found');
    s.lastSeen = Date.now();
    // The legacy transport reads a request's authentication from `req.auth`.
    (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfoOf(scope);
    await s.transport.handlePostMessage(req, res, body);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.close().catch(() => {})));
  }
}
