/** Turns every failure into OpenAI's error shape, with the right status. No stack traces leave the process. */
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { formatPath } from '../config/load.ts';
import { ApiError } from '../protocol/errors.ts';
import type { ResponseObject } from '../protocol/events.ts';
import { McpHttpError } from '../mcp-server/sessions.ts';
import { ProviderError } from '../providers/types.ts';

/** The first zod issue, phrased the way OpenAI phrases validation errors; `body` tells a missing field from a wrong one. */
export function validationError(error: z.ZodError, body: unknown): ApiError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = formatPath([...issue.path, issue.keys[0]!]);
    return new ApiError(400, `Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
  }
  const param = formatPath(issue.path);
  if (isAbsent(body, issue.path))
    return new ApiError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  if (issue.code === 'invalid_type')
    return new ApiError(400, `Invalid type for '${param}': ${issue.message}.`, { param, code: 'invalid_type' });
  // A union of types (string or array, ...) that the value matches none of: a wrong type too.
  const types = issue.code === 'invalid_union' ? issue.errors.map(typeExpected) : [];
  if (types.length && types.every(Boolean))
    return new ApiError(400, `Invalid type for '${param}': expected ${[...new Set(types)].join(' or ')}.`, { param, code: 'invalid_type' });
  return new ApiError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}

/** The type a union's branch expected, when the value's type is all it found wrong. */
function typeExpected(branch: z.core.$ZodIssue[]): string | undefined {
  const only = branch.length === 1 ? branch[0]! : undefined;
  return only?.code === 'invalid_type' && !only.path.length ? only.expected : undefined;
}

/** True when the key at the end of `path` is not in the request at all (its parent is). */
function isAbsent(body: unknown, path: readonly PropertyKey[]): boolean {
  if (!path.length) return false;
  let parent = body;
  for (const key of path.slice(0, -1)) parent = typeof parent === 'object' && parent !== null ? (parent as Record<PropertyKey, unknown>)[key] : undefined;
  return typeof parent === 'object' && parent !== null && !Object.hasOwn(parent, path.at(-1)!);
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) throw validationError(r.error, body);
  return r.data;
}

/** A response that failed, answered over HTTP (non-stream, or as a Chat stream's error chunk). */
export function failedResponseError(r: ResponseObject): ApiError {
  return new ApiError(502, r.error?.message ?? 'The response failed', { type: 'api_error', code: r.error?.code ?? 'upstream_error' });
}

/** Provider failures: 4xx passed on, 5xx and unreachable upstreams as 502, timeouts as 504. */
export function providerToApiError(e: ProviderError): ApiError {
  if (e.kind === 'timeout') return new ApiError(504, `The model provider did not answer in time: ${e.message}`, { type: 'timeout_error', code: 'upstream_timeout' });
  if (e.kind === 'connection') return new ApiError(502, `The model provider could not be reached: ${e.message}`, { type: 'api_error', code: 'upstream_unavailable' });
  if (e.kind === 'aborted') return new ApiError(499, 'The request was cancelled.', { code: 'cancelled' });
  const status = e.status ?? 502;
  if (status >= 500) return new ApiError(502, `The model provider failed (HTTP ${status}): ${e.message}`, { type: 'api_error', code: 'upstream_error' });
  return new ApiError(status, e.message, { type: e.type, code: e.code ?? null, param: e.param ?? null });
}

/**
 * A request body that could not be read, as a 4xx, never a 500: over the limit (413), an encoding the
 * gateway cannot decode (415), a body that is not valid gzip/deflate/br, not JSON, or holds a
 * prototype key (400). `e` is what koa-body or the lean JSON reader threw.
 */
export function bodyError(e: unknown, contentEncoding: string): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { status?: number; type?: string; message?: string };
  if (err?.status === 413 || err?.type === 'entity.too.large')
    return new ApiError(413, 'The request body is larger than this gateway accepts.', { code: 'request_too_large' });
  if (err?.status === 415 || err?.type === 'encoding.unsupported')
    return new ApiError(415, `Unsupported Content-Encoding '${contentEncoding}': send the body as it is, or as gzip, deflate or br.`, { code: 'unsupported_media_type' });
  if (e instanceof SyntaxError && /prototype/.test(e.message)) return forbiddenKey('__proto__');
  if (e instanceof SyntaxError)
    return new ApiError(400, 'We could not parse the JSON body of your request. Send a valid JSON object.', { code: 'invalid_json' });
  // Not an HTTP error and not JSON's: the decompressor's (or, when no encoding was sent, the socket's).
  if (contentEncoding && err?.status === undefined)
    return new ApiError(400, `The request body is not valid ${contentEncoding}: ${err?.message ?? 'it could not be decoded'}.`, { code: 'invalid_encoding' });
  return new ApiError(400, `The request body could not be read: ${err?.message ?? 'unknown error'}.`, { code: 'invalid_body' });
}

export function forbiddenKey(key: string): ApiError {
  return new ApiError(400, `The JSON body holds the key '${key}', which is refused: it could pollute an object prototype.`, { code: 'forbidden_key' });
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ProviderError) return providerToApiError(e);
  const err = e as { status?: number; statusCode?: number; message?: string; expose?: boolean };
  const status = err?.status ?? err?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && err?.expose)
    return new ApiError(status, err.message ?? 'Bad request');
  return new ApiError(500, 'The gateway hit an internal error. The request id identifies it in the logs.', { type: 'server_error', code: 'internal_error' });
}

const CLIENT_ERRORS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', code: 'headers_too_large', message: 'The request headers are larger than this gateway accepts.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'request_timeout', message: 'The request did not arrive in time.' },
};

/**
 * The server's `clientError` listener: requests Node's HTTP parser refuses before the app sees them (a
 * header holding CR, LF or NUL, headers over Node's size limit) are answered in OpenAI's error shape
 * too, with the status Node would give them. The path is not known here, so never JSON-RPC's shape.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // As Node does: no answer to a peer that is gone, nor into a response already started on the connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[err.code ?? ''];
  const { status, reason, code, message } = known ?? { status: 400, reason: 'Bad Request', code: 'invalid_http_request', message: `The HTTP request is malformed (${err.code ?? 'parse error'}).` };
  const body = JSON.stringify(new ApiError(status, message, { code }).toBody());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The MCP endpoints answer errors in JSON-RPC's shape, everything else in OpenAI's. */
export function isMcpPath(path: string): boolean {
  return path === '/mcp' || path.startsWith('/mcp/') || path === '/sse' || path === '/messages';
}

/** On the MCP paths, bodies the gateway refuses before the SDK sees them get the JSON-RPC codes the SDK gives the same. */
const RPC_CODES: Record<string, number> = { invalid_json: -32700, invalid_encoding: -32700, forbidden_key: -32600, nesting_too_deep: -32600 };

export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (e) {
    const rpc = e instanceof McpHttpError ? e : null;
    const api = rpc ? new ApiError(rpc.status, rpc.message) : toApiError(e);
    if (api.status >= 500) ctx.state.log.error({ err: (e as Error)?.message, status: api.status, code: api.code }, 'request failed');
    else ctx.state.log.info({ status: api.status, code: api.code, reason: api.message }, 'request rejected');
    if (ctx.res.headersSent) return; // a stream already started reports its own failure
    ctx.respond = true;
    ctx.status = api.status;
    ctx.set(api.headers);
    ctx.body = isMcpPath(ctx.path) ? { jsonrpc: '2.0', error: { code: rpc?.code ?? RPC_CODES[api.code ?? ''] ?? -32000, message: api.message }, id: null } : api.toBody();
  }
}
