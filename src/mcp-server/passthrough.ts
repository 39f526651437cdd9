/**
 * `/mcp/<server>`: one upstream exactly as it is. Each downstream session gets its own upstream session,
 * opened with the downstream client's identity and capabilities, so that everything passes through in
 * both directions: requests (with progress and cancellation), notifications on the stream of the request
 * they belong to, and the upstream's own requests (sampling, elicitation, roots) relayed to the client.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  McpError,
  ErrorCode,
  type ClientCapabilities,
  type InitializeRequest,
  type Notification,
  type RequestId,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { McpServerEntry, McpSettings } from '../config/schema.ts';
import { Upstream } from '../mcp-client/upstream.ts';
import { relayProgress, toRpcError } from './rpc.ts';
import type { McpCall, McpHandler, McpHandlers, McpMethod } from './handlers.ts';
import { legacyServer } from './legacy-server.ts';
import { askable } from './input-bridge.ts';
import { failureOutcome, toUpstreamError } from '../mcp-client/errors.ts';
import type { Metrics, ToolCallOutcome } from '../telemetry/metrics.ts';
import { toolCallEnded } from '../access/audit.ts';
import { allowsTool } from '../access/grants.ts';

/** Each method a server may offer, and the capability it needs. */
const FORWARDED: { method: McpMethod; capability: 'tools' | 'prompts' | 'resources' | 'completions' | 'logging' }[] = [
  { method: 'tools/list', capability: 'tools' },
  { method: 'tools/call', capability: 'tools' },
  { method: 'prompts/list', capability: 'prompts' },
  { method: 'prompts/get', capability: 'prompts' },
  { method: 'resources/list', capability: 'resources' },
  { method: 'resources/templates/list', capability: 'resources' },
  { method: 'resources/read', capability: 'resources' },
  { method: 'resources/subscribe', capability: 'resources' },
  { method: 'resources/unsubscribe', capability: 'resources' },
  { method: 'completion/complete', capability: 'completions' },
  { method: 'logging/setLevel', capability: 'logging' },
];

/** What the downstream client may be asked, relayed from the upstream. */
const RELAYED = [
  { method: 'sampling/createMessage', result: CreateMessageResultSchema, capability: 'sampling' },
  { method: 'elicitation/create', result: ElicitResultSchema, capability: 'elicitation' },
  { method: 'roots/list', result: ListRootsResultSchema, capability: 'roots' },
] as const;

export interface PassthroughDeps {
  settings: McpSettings;
  log: Logger;
  metrics?: Pick<Metrics, 'toolCall'> | undefined;
}

/** A downstream request in flight, and how to notify its client on its stream. */
interface Inflight {
  id: RequestId;
  notify: (n: Notification) => Promise<void>;
}

export interface PassthroughSession {
  server: Server;
  close(): Promise<void>;
}

/**
 * Opens the upstream session for one downstream session (from its `initialize` request) and builds the
 * downstream server that mirrors it. Rejects when the upstream cannot be reached.
 */
export async function openPassthrough(
  name: string,
  config: McpServerEntry,
  init: InitializeRequest,
  headers: Record<string, string>,
  deps: PassthroughDeps,
): Promise<PassthroughSession> {
  const capabilities = askable(init.params.capabilities ?? {});

  let server: Server | null = null;
  /** Downstream requests in flight, newest last: upstream messages are sent on the newest one's stream. */
  const inflight: Inflight[] = [];

  const upstream = ownUpstream(name, config, headers, deps, { info: init.params.clientInfo, capabilities }, (client) => {
    for (const r of RELAYED) {
      if (!capabilities[r.capability]) continue;
      // A 2025 server sends these as requests; a 2026-07-28 server's `input_required` results come here too.
      client.setRequestHandler(r.method, async (req, ctx) => {
        if (!server) throw new McpError(ErrorCode.InternalError, 'downstream session is not ready');
        const related = inflight.at(-1)?.id;
        return (await server.request({ method: req.method, params: req.params } as never, r.result as typeof CreateMessageResultSchema, {
          signal: ctx.mcpReq.signal,
          ...(related !== undefined ? { relatedRequestId: related } : {}),
        })) as never;
      });
    }
    client.fallbackNotificationHandler = async (n) => {
      if (!server) return;
      const current = inflight.at(-1);
      if (current) await current.notify(n);
      else await server.notification(n as never).catch(() => {});
    };
  });
  const client = await upstream.connect();
  const upstreamCaps = client.getServerCapabilities() ?? {};
  const { tasks: _tasks, ...offered } = upstreamCaps;
  const info = client.getServerVersion() ?? { name, version: '0.0.0' };
  const handlers = forwardedHandlers(name, upstream, offered, deps, { inflight });
  const listening =
    (upstream.session?.protocolVersion ?? '') >= '2026-07-28' && offered.resources?.subscribe ? subscriptionsByListen(upstream, handlers) : undefined;
  server = legacyServer({ info, capabilities: offered, instructions: client.getInstructions(), handlers });
  return {
    server,
    close: async () => {
      await listening?.close();
      await upstream.close();
    },
  };
}

/**
 * A 2025-era client's resource subscriptions on a 2026-07-28 upstream, which has no `resources/subscribe`:
 * each subscribed URI is a `subscriptions/listen` stream of the session's own upstream connection, whose
 * `notifications/resources/updated` reach the client as any upstream notification does. Replaces the
 * forwarded subscribe and unsubscribe handlers.
 */
function subscriptionsByListen(upstream: Upstream, handlers: McpHandlers): { close(): Promise<void> } {
  /** How to stop hearing of each subscribed URI. */
  const stops = new Map<string, Promise<() => Promise<void>>>();
  handlers['resources/subscribe'] = async ({ uri }) => {
    let stop = stops.get(uri);
    if (!stop) {
      stop = upstream.watchResource(uri);
      stops.set(uri, stop);
      stop.catch(() => stops.delete(uri));
    }
    try {
      await stop;
    } catch (e) {
      throw toRpcError(e, upstream.name);
    }
    return {};
  };
  handlers['resources/unsubscribe'] = async ({ uri }) => {
    const stop = stops.get(uri);
    stops.delete(uri);
    await stop?.then((s) => s()).catch(() => {});
    return {};
  };
  return {
    close: async () => {
      await Promise.all([...stops.values()].map((s) => s.then((x) => x()).catch(() => {})));
      stops.clear();
    },
  };
}

/**
 * An upstream connection of one downstream client's own: with the request's headers, in the client's name,
 * declaring what it may be asked (`configure` installs the handlers that relay the questions).
 */
function ownUpstream(
  name: string,
  config: McpServerEntry,
  headers: Record<string, string>,
  deps: PassthroughDeps,
  client: { info?: { name: string; version: string } | undefined; capabilities: ClientCapabilities },
  configure: (client: Client) => void,
): Upstream {
  return new Upstream({
    name,
    config: { ...config, static_headers: { ...config.static_headers, ...headers } },
    log: deps.log,
    toolTimeoutMs: deps.settings.tool_timeout_seconds * 1000,
    toolsCacheMs: 0,
    ...(client.info ? { clientInfo: client.info } : {}),
    clientCapabilities: client.capabilities,
    configure,
  });
}

/**
 * For one 2026-07-28 call that its upstream may answer with questions (input-bridge.ts): a connection of
 * the call's own, declared with the client's identity and capabilities, whose questions go to `ask`.
 */
export function askingUpstream(
  name: string,
  config: McpServerEntry,
  headers: Record<string, string>,
  offered: ServerCapabilities,
  method: 'tools/call' | 'prompts/get' | 'resources/read',
  deps: PassthroughDeps,
  client: { info?: { name: string; version: string } | undefined; capabilities: ClientCapabilities },
  ask: (request: { method: string; params?: Record<string, unknown> }) => Promise<Record<string, unknown>>,
): { handler: McpHandler<typeof method>; close(): Promise<void> } {
  const upstream = ownUpstream(name, config, headers, deps, client, (c) => {
    for (const r of RELAYED)
      if (client.capabilities[r.capability]) c.setRequestHandler(r.method, (req) => ask({ method: req.method, params: req.params }) as never);
  });
  const handler = forwardedHandlers(name, upstream, offered, deps, {})[method] as McpHandler<typeof method>;
  return { handler, close: () => upstream.close() };
}

/**
 * The upstream's methods (those its capabilities offer), forwarded as they are: with the caller's grant
 * applied to tools, progress relayed, and tool calls audited. `inflight` (a 2025-era session's own
 * upstream session) records the requests in flight, so that the upstream's requests and notifications
 * reach the client on the stream of the newest; `headersOf` gives each request's headers upstream (a
 * shared upstream session, whose headers are each request's own).
 */
export function forwardedHandlers(
  name: string,
  upstream: Upstream,
  offered: ServerCapabilities,
  deps: PassthroughDeps,
  opts: { inflight?: Inflight[]; headersOf?: (call: McpCall) => Record<string, string> },
): McpHandlers {
  const handlers: McpHandlers = {};
  for (const f of FORWARDED) {
    if (!offered[f.capability]) continue;
    const forward = async (req: Record<string, unknown>, call: McpCall) => {
      const { grant } = call.scope.caller;
      // A tool outside the caller's grant is not listed, and calling it gets the answer an unknown tool gets.
      if (grant && f.method === 'tools/call' && !allowsTool(grant, name, (req as { name: string }).name))
        throw new McpError(ErrorCode.InvalidParams, `Tool ${(req as { name: string }).name} not found`);
      const entry = { id: call.requestId, notify: (n: Notification) => call.notify(n) };
      opts.inflight?.push(entry);
      // A tool call is audited like any the gateway makes (its arguments by size and hash only).
      const toolCall = f.method === 'tools/call' ? (req as { name: string; arguments?: unknown }) : undefined;
      const started = performance.now();
      const audit = (outcome: ToolCallOutcome) =>
        toolCall &&
        toolCallEnded(
          { metrics: deps.metrics, audit: call.scope.audit },
          { server: name, tool: toolCall.name, arguments: JSON.stringify(toolCall.arguments ?? {}), outcome, durationMs: performance.now() - started },
        );
      try {
        const { _meta, ...params } = req as { _meta?: { progressToken?: string | number } & Record<string, unknown> };
        const { progressToken, ...meta } = _meta ?? {};
        const progress = relayProgress(progressToken, call.notify);
        const result = await upstream.request(
          { method: f.method, params: { ...params, ...(Object.keys(meta).length ? { _meta: meta } : {}) } },
          {
            signal: call.signal,
            headers: opts.headersOf?.(call),
            onprogress: progress?.onprogress,
          },
        );
        if (progress) await progress.sent();
        if (grant && f.method === 'tools/list') {
          const listed = result as { tools: { name: string }[] };
          return { ...listed, tools: listed.tools.filter((t) => allowsTool(grant, name, t.name)) };
        }
        audit((result as { isError?: boolean }).isError ? 'tool_error' : 'ok');
        return result as Record<string, unknown>;
      } catch (e) {
        if (toolCall && !call.signal.aborted) audit(failureOutcome(toUpstreamError(e, name)));
        throw toRpcError(e, name);
      } finally {
        if (opts.inflight) opts.inflight.splice(opts.inflight.indexOf(entry), 1);
      }
    };
    (handlers as Record<McpMethod, McpHandler<McpMethod>>)[f.method] = forward as McpHandler<McpMethod>;
  }
  return handlers;
}
