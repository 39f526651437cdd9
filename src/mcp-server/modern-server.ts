/**
 * The gateway's MCP servers for 2026-07-28 requests. That revision has no sessions: each request carries
 * its protocol version and client capabilities, so each is answered by an SDK 2.x `Server` built for it
 * from the surface its route picks (handlers.ts), and any replica can answer any request. The SDK's
 * `createMcpHandler` does the wire work (`server/discover`, the `_meta` envelope, `resultType`, list
 * caching hints, `subscriptions/listen`); 2025-era traffic never reaches it (`legacy: 'reject'`): the
 * route sends that to the sessions of sessions.ts, after the SDK's own `isLegacyRequest` said so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  createMcpHandler,
  isLegacyRequest,
  type McpHttpHandler,
  Server,
  type ServerCapabilities,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { McpCall, McpHandler, McpMethod, McpSurface } from './handlers.ts';
import { methodsOf } from './handlers.ts';
import { authInfoOf, type McpRequestScope, scopeOf } from './request-scope.ts';
import { sendWebResponse, toWebRequest } from './web-bridge.ts';

/** What a 2026-07-28 request is answered with, handed to the server factory beside the caller's scope. */
interface ModernRequest {
  scope: McpRequestScope;
  surface: McpSurface;
  /** The HTTP request's headers (the surface may serve many requests). */
  headers: Record<string, string | string[] | undefined>;
}

function modernCall(ctx: ServerContext): McpCall {
  const req = ctx.mcpReq;
  const envelope = req.envelope as Record<string, unknown> | undefined;
  return {
    scope: scopeOf({ authInfo: ctx.http?.authInfo }),
    headers: (ctx.http?.authInfo?.extra?.request as ModernRequest | undefined)?.headers,
    signal: req.signal,
    requestId: req.id,
    protocolVersion: ctx.http?.req?.headers.get('mcp-protocol-version') ?? undefined,
    meta: req._meta as McpCall['meta'],
    notify: (n) => req.notify(n as Parameters<typeof req.notify>[0]),
    client: {
      info: envelope?.[CLIENT_INFO_META_KEY] as Implementation | undefined,
      capabilities: envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined,
    },
    inputResponses: req.inputResponses,
    requestState: req.requestState<string>(),
  };
}

/** The surface as an SDK 2.x `Server` (for one request). */
export function modernServer(surface: McpSurface): Server {
  // The two SDK generations type capabilities apart (`experimental`'s values); the wire shape is the same.
  const server = new Server(surface.info, { capabilities: surface.capabilities as ServerCapabilities, instructions: surface.instructions });
  for (const method of methodsOf(surface.handlers)) {
    const handler = surface.handlers[method] as McpHandler<McpMethod>;
    server.setRequestHandler(method, (req: { params?: object }, ctx: ServerContext) => handler((req.params ?? {}) as never, modernCall(ctx)) as never);
  }
  return server;
}

/** The resources a `subscriptions/listen` request asks to hear about (none for any other message). */
export function listenedResources(body: unknown): string[] {
  const message = body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown } } } | undefined;
  if (message?.method !== 'subscriptions/listen') return [];
  const uris = message.params?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/** A 2026-07-28 request on its way to the SDK: the request it reads, and what aborts it. */
export interface ModernExchange {
  request: Request;
  headers: IncomingMessage['headers'];
  /** Aborted when the client goes away before its answer. */
  gone: AbortController;
}

/** Every 2026-07-28 request of every MCP route, through one SDK handler. */
export class ModernMcp {
  private readonly handler: McpHttpHandler;

  constructor(log: Logger) {
    this.handler = createMcpHandler(
      (ctx) => {
        const request = ctx.authInfo?.extra?.request as ModernRequest | undefined;
        if (!request) throw new Error('a 2026-07-28 request reached the MCP handler without its surface');
        return modernServer(request.surface);
      },
      { legacy: 'reject', onerror: (err) => log.debug({ err: err.message }, '/mcp (2026-07-28)') },
    );
  }

  /**
   * A request of the 2026-07-28 generation (the SDK's own classification: the `_meta` envelope and
   * `MCP-Protocol-Version`), as the SDK will serve it; undefined for a 2025-era session's. A request that
   * names a session belongs to it, whatever it holds: that revision has no sessions.
   */
  async classify(req: IncomingMessage, body: unknown): Promise<ModernExchange | undefined> {
    if (req.method !== 'POST' || req.headers['mcp-session-id'] !== undefined) return undefined;
    const gone = new AbortController();
    const request = toWebRequest(req, {}, gone.signal);
    if (await isLegacyRequest(request, body)) return undefined;
    return { request, headers: req.headers, gone };
  }

  /**
   * Answers one 2026-07-28 request on `res`. A client that goes away before its answer cancels the request
   * (that revision has no session to send `notifications/cancelled` on): the SDK aborts the handler's signal.
   */
  async handle(exchange: ModernExchange, res: ServerResponse, body: unknown, scope: McpRequestScope, surface: McpSurface): Promise<void> {
    const authInfo = authInfoOf(scope);
    authInfo.extra = { ...authInfo.extra, request: { scope, surface, headers: exchange.headers } satisfies ModernRequest };
    res.once('close', () => {
      if (!res.writableFinished) exchange.gone.abort();
    });
    await sendWebResponse(res, await this.handler.fetch(exchange.request, { parsedBody: body, authInfo }));
  }

  /** Tells open `subscriptions/listen` streams that asked for `uri` that it changed. */
  resourceUpdated(uri: string): void {
    this.handler.notify.resourceUpdated(uri);
  }

  /** Tells open `subscriptions/listen` streams that a list changed. */
  listChanged(kind: 'tools' | 'prompts' | 'resources'): void {
    const notify = this.handler.notify;
    if (kind === 'tools') notify.toolsChanged();
    else if (kind === 'prompts') notify.promptsChanged();
    else notify.resourcesChanged();
  }

  close(): Promise<void> {
    return this.handler.close();
  }
}
