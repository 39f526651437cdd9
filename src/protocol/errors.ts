/**
 * Every way a request can fail, named in one place, and the one function that describes any error:
 * `describeFailure(e)` gives its HTTP status, OpenAI error type and code, message and param, plus the
 * JSON-RPC code and, for an MCP upstream's failure, the tagged `mcp_call.error`. Each wire shape is a
 * projection of that description:
 *
 * - HTTP answers: `failure.toBody()`, OpenAI's `{"error": {message, type, param, code}}` (OpenAI API
 *   reference, "Error codes"), on every path but the MCP ones.
 * - The MCP paths and the `/mcp` server: `jsonRpcErrorOf(failure)`.
 * - `response.failed` and a failed response's `error`: `responseErrorOf(failure)`. Its `code` is a closed
 *   enum in OpenAI's API (`ResponseError.code` in openai-node), so the gateway's own codes map into it:
 *   a provider's 5xx, an unreachable provider or a timeout is `server_error`, a 429 `rate_limit_exceeded`.
 *   The gateway's finer code is in the HTTP answer only: a failure before the first event is an HTTP
 *   error (`502 upstream_error`, `504 upstream_timeout`, ...), the same failure after it is
 *   `response.failed` with `server_error` and the original `type`. That split is deliberate: once a
 *   stream has started, its HTTP status is already sent.
 * - `mcp_call.error`: `mcpCallErrorOf(failure)`, OpenAI's tagged union (`http_error`,
 *   `mcp_protocol_error`); a tool's own `isError` result is `mcp_tool_execution_error`, not a failure.
 */
import type { z } from 'zod';
import type { McpCallError } from './responses.ts';

/** OpenAI's error shape. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** JSON-RPC error codes the gateway uses (JSON-RPC 2.0 and the MCP SDK's `ErrorCode`). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** The MCP SDK's code for transport-level refusals (bad session header, too many sessions, ...). */
  ConnectionClosed: -32000,
  /** What the MCP SDK answers a request for an unknown session with (it also means a request timeout). */
  SessionNotFound: -32001,
  /** MCP's "resource not found". */
  ResourceNotFound: -32002,
} as const;

/** How an MCP upstream failed, as OpenAI's tagged `mcp_call.error` names it. */
export type McpFailureKind = 'http_error' | 'mcp_protocol_error';

/** The codes a failed response's `error.code` may take (openai-node `ResponseError.code`). */
const RESPONSE_ERROR_CODES = new Set([
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'data_residency_mismatch',
  'bio_policy',
  'misalignment_policy_violation',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
]);

export type ResponseError = { code: string; message: string; type?: string | null; param?: string | null };

/** A described failure. Thrown as it is where the gateway itself refuses something. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;
  /** The JSON-RPC error code on the MCP paths. */
  readonly rpc: number;
  /** Set when an MCP upstream failed: what `mcp_call.error` reports. */
  readonly mcp: { kind: McpFailureKind; code: number } | undefined;
  constructor(
    status: number,
    message: string,
    opts: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string>; rpc?: number; mcp?: ApiError['mcp'] } = {},
  ) {
    super(message);
    this.status = status;
    this.type = opts.type ?? defaultType(status);
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.headers = opts.headers ?? {};
    this.rpc = opts.rpc ?? RPC_BY_CODE[this.code ?? ''] ?? (status >= 500 ? RpcCode.InternalError : RpcCode.ConnectionClosed);
    this.mcp = opts.mcp;
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return status === 504 ? 'timeout_error' : 'api_error';
  return 'invalid_request_error';
}

/** JSON-RPC codes for the gateway's own codes, where JSON-RPC has a closer one than the default. */
const RPC_BY_CODE: Record<string, number> = {
  invalid_json: RpcCode.ParseError,
  invalid_encoding: RpcCode.ParseError,
  forbidden_key: RpcCode.InvalidRequest,
  nesting_too_deep: RpcCode.InvalidRequest,
  missing_required_parameter: RpcCode.InvalidParams,
  invalid_type: RpcCode.InvalidParams,
  invalid_value: RpcCode.InvalidParams,
  unknown_parameter: RpcCode.InvalidParams,
  internal_error: RpcCode.InternalError,
};

// ---- failures from below the gateway's own checks ---------------------------------------------

/** A failure talking to a model provider, normalised across wire formats (providers/http.ts makes them). */
export class ProviderError extends Error {
  /** HTTP status from the upstream; undefined for connection failures and timeouts. */
  readonly status: number | undefined;
  readonly kind: 'http' | 'timeout' | 'connection' | 'aborted';
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, init: { status?: number; kind: ProviderError['kind']; type?: string; code?: string; param?: string; retryAfterMs?: number }) {
    super(message);
    this.status = init.status;
    this.kind = init.kind;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Worth another attempt, on this deployment or the next: rate limits, server errors, timeouts, refused connections. */
  get retryable(): boolean {
    if (this.kind === 'aborted') return false;
    if (this.kind !== 'http') return true;
    return this.status === 408 || this.status === 409 || this.status === 429 || (this.status ?? 0) >= 500;
  }
}

/**
 * A model stream that broke after it began: went quiet past the idle limit (`upstream_timeout`), ended
 * early or sent something unreadable (`upstream_error`), or reported an error of its own (its code).
 */
export class UpstreamStreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** A failure of an upstream MCP server (mcp-client makes them from the SDK's errors). */
export class McpUpstreamError extends Error {
  readonly kind: McpFailureKind;
  /** The HTTP status (`http_error`) or the JSON-RPC error code (`mcp_protocol_error`). */
  readonly code: number;
  constructor(kind: McpFailureKind, code: number, message: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

// ---- the one description ------------------------------------------------------------------------

export function describeFailure(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ProviderError) return describeProviderError(e);
  if (e instanceof UpstreamStreamError) {
    if (e.code === 'upstream_timeout') return new ApiError(504, `The model provider went quiet: ${e.message}`, { code: e.code });
    if (e.code === 'rate_limit_exceeded') return new ApiError(429, `The model provider is rate limiting: ${e.message}`, { code: e.code });
    return new ApiError(502, `The model provider failed: ${e.message}`, { code: e.code });
  }
  if (e instanceof McpUpstreamError)
    return new ApiError(502, e.message, {
      code: 'mcp_upstream_error',
      rpc: e.kind === 'mcp_protocol_error' ? e.code : RpcCode.InternalError,
      mcp: { kind: e.kind, code: e.code },
    });
  // koa's own HTTP errors (ctx.throw, http-errors) carry a status and say whether their message may be shown.
  const err = e as { status?: number; statusCode?: number; message?: string; expose?: boolean };
  const status = err?.status ?? err?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && err?.expose) return new ApiError(status, err.message ?? 'Bad request');
  return internalError();
}

/** Provider failures: 4xx passed on as the provider said them, 5xx and unreachable upstreams as 502, timeouts as 504. */
function describeProviderError(e: ProviderError): ApiError {
  if (e.kind === 'timeout') return new ApiError(504, `The model provider did not answer in time: ${e.message}`, { code: 'upstream_timeout' });
  if (e.kind === 'connection') return new ApiError(502, `The model provider could not be reached: ${e.message}`, { code: 'upstream_unavailable' });
  if (e.kind === 'aborted') return new ApiError(499, 'The request was cancelled.', { type: 'cancelled', code: 'cancelled' });
  const status = e.status ?? 502;
  if (status >= 500) return new ApiError(502, `The model provider failed (HTTP ${status}): ${e.message}`, { code: 'upstream_error' });
  return new ApiError(status, e.message, { type: e.type, code: e.code ?? null, param: e.param ?? null });
}

/** Whether the failure is the gateway's own fault (logged as an error) rather than the client's or an upstream's. */
export function isInternal(f: ApiError): boolean {
  return f.code === 'internal_error';
}

// ---- projections ----------------------------------------------------------------------------------

/** A failed response's `error`, its code mapped into OpenAI's closed set (see the header). */
export function responseErrorOf(f: ApiError): ResponseError {
  const code = f.code && RESPONSE_ERROR_CODES.has(f.code) ? f.code : f.status === 429 ? 'rate_limit_exceeded' : 'server_error';
  return { code, message: f.message, type: f.type, param: f.param };
}

/** A failed response answered over HTTP (non-stream, or a Chat stream's error chunk). */
export function failedResponseError(error: ResponseError | null): ApiError {
  const status = error?.code === 'rate_limit_exceeded' ? 429 : error?.type === 'timeout_error' ? 504 : 502;
  return new ApiError(status, error?.message ?? 'The response failed', { type: error?.type ?? undefined, code: error?.code ?? 'upstream_error' });
}

export function jsonRpcErrorOf(f: ApiError): { code: number; message: string } {
  return { code: f.rpc, message: f.message };
}

/** `mcp_call.error` for a call that failed (not run, or the upstream failed). */
export function mcpCallErrorOf(f: ApiError): McpCallError {
  if (f.mcp?.kind === 'http_error') return { type: 'http_error', code: f.mcp.code, message: f.message };
  return { type: 'mcp_protocol_error', code: f.mcp?.code ?? f.rpc, message: f.message };
}

// ---- the gateway's own refusals -------------------------------------------------------------------

/** 404 `model_not_found`, as OpenAI words it. */
export function modelNotFound(model: string): ApiError {
  return new ApiError(404, `The model '${model}' does not exist or you do not have access to it.`, { param: 'model', code: 'model_not_found' });
}

function internalError(): ApiError {
  return new ApiError(500, 'The gateway hit an internal error. The request id identifies it in the logs.', { type: 'server_error', code: 'internal_error' });
}

export function clientDisconnected(): ApiError {
  return new ApiError(499, 'The client closed the connection.', { type: 'cancelled', code: 'client_disconnected' });
}

/** An MCP call the agent did not send: the response's tool-call limit, or arguments that are not an object. */
export function mcpCallNotRun(message: string, rpc: number): ApiError {
  return new ApiError(400, message, { code: 'mcp_call_not_run', rpc, mcp: { kind: 'mcp_protocol_error', code: rpc } });
}

/** A refusal on the MCP paths before any JSON-RPC request is read (no request id is known): session and routing errors. */
export function mcpRefusal(status: number, rpc: number, message: string): ApiError {
  return new ApiError(status, message, { rpc });
}

export function forbiddenKey(key: string): ApiError {
  return new ApiError(400, `The JSON body holds the key '${key}', which is refused: it could pollute an object prototype.`, { code: 'forbidden_key' });
}

export function nestingTooDeep(max: number): ApiError {
  return new ApiError(400, `The JSON body is nested deeper than ${max} levels.`, { code: 'nesting_too_deep' });
}

/**
 * A request body that could not be read, as a 4xx, never a 500: over the limit (413), an encoding the
 * gateway cannot decode (415), a body that is not valid gzip/deflate/br, not JSON, or holds a
 * prototype key (400). `e` is what koa-body or the lean JSON reader threw.
 */
export function bodyReadError(e: unknown, contentEncoding: string): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { status?: number; type?: string; message?: string };
  if (err?.status === 413 || err?.type === 'entity.too.large')
    return new ApiError(413, 'The request body is larger than this gateway accepts.', { code: 'request_too_large' });
  if (err?.status === 415 || err?.type === 'encoding.unsupported')
    return new ApiError(415, `Unsupported Content-Encoding '${contentEncoding}': send the body as it is, or as gzip, deflate or br.`, {
      code: 'unsupported_media_type',
    });
  if (e instanceof SyntaxError && /prototype/.test(e.message)) return forbiddenKey('__proto__');
  if (e instanceof SyntaxError)
    return new ApiError(400, 'We could not parse the JSON body of your request. Send a valid JSON object.', { code: 'invalid_json' });
  // Not an HTTP error and not JSON's: the decompressor's (or, when no encoding was sent, the socket's).
  if (contentEncoding && err?.status === undefined)
    return new ApiError(400, `The request body is not valid ${contentEncoding}: ${err?.message ?? 'it could not be decoded'}.`, { code: 'invalid_encoding' });
  return new ApiError(400, `The request body could not be read: ${err?.message ?? 'unknown error'}.`, { code: 'invalid_body' });
}

/** Requests Node's HTTP parser refuses before the app sees them, by Node's error code, with the reason phrase to answer with. */
export function httpParserError(nodeCode: string | undefined): { failure: ApiError; reason: string } {
  if (nodeCode === 'HPE_HEADER_OVERFLOW')
    return {
      failure: new ApiError(431, 'The request headers are larger than this gateway accepts.', { code: 'headers_too_large' }),
      reason: 'Request Header Fields Too Large',
    };
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { failure: new ApiError(408, 'The request did not arrive in time.', { code: 'request_timeout' }), reason: 'Request Timeout' };
  return {
    failure: new ApiError(400, `The HTTP request is malformed (${nodeCode ?? 'parse error'}).`, { code: 'invalid_http_request' }),
    reason: 'Bad Request',
  };
}

/** A zod path as people write it: `tools[0].server_url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** The first zod issue, phrased the way OpenAI phrases validation errors; `body` tells a missing field from a wrong one. */
export function validationError(error: z.ZodError, body: unknown): ApiError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = formatPath([...issue.path, issue.keys[0]!]);
    return new ApiError(400, `Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
  }
  const param = formatPath(issue.path);
  if (isAbsent(body, issue.path)) return new ApiError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  if (issue.code === 'invalid_type') return new ApiError(400, `Invalid type for '${param}': ${issue.message}.`, { param, code: 'invalid_type' });
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
