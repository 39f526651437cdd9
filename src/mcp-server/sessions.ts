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
}

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly opts: SessionOptions;
  private readonly sweeper: NodeJS.Timeout;

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

  /** One Streamable HTTP request (POST, GET or DELETE), answered on `res`, made by `scope`'s caller. */
  async handleStreamable(
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    factory: SessionFactory,
    scope: McpRequestScope = { caller: MASTER },
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
      const s = this.sessions.get(sid);
      if (!s || s.owner !== scope.caller.id || !(s.transport instanceof WebStandardStreamableHTTPServerTransport))
        throw mcpRefusal(404, RpcCode.SessionNotFound, 'Session not found');
      this.track(s, res);
      await sendWebResponse(res, await s.transport.handleRequest(request, { parsedBody, authInfo }));
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) throw mcpRefusal(400, RpcCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required');
    this.admit();
    const built = await factory(body);
    let session: Session | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: jsonOnly,
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => {
        session = { id, owner: scope.caller.id, transport, lastSeen: Date.now(), open: 0, close: () => transport.close() };
        this.sessions.set(id, session);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
      void built.close?.();
      void built.server.close().catch(() => {});
    };
    await built.server.connect(transport);
    await sendWebResponse(res, await transport.handleRequest(request, { parsedBody, authInfo }));
    if (session) session.lastSeen = Date.now();
    else await transport.close(); // initialize failed: nothing to keep
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
