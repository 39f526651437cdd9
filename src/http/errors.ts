/** Turns every failure into OpenAI's error shape, with the right status. No stack traces leave the process. */
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { formatPath } from '../config/load.ts';
import { ApiError } from '../protocol/errors.ts';
import type { ResponseObject } from '../protocol/events.ts';
import { McpHttpError } from '../mcp/server/sessions.ts';
import { ProviderError } from '../providers/types.ts';

/** The first zod issue, phrased the way OpenAI phrases validation errors. */
export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const param = formatPath([...issue.path, issue.keys[0]!]);
    return new ApiError(400, `Unknown parameter: '${param}'.`, { param, code: 'unknown_parameter' });
  }
  const param = formatPath(issue.path);
  if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined)
    return new ApiError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  if (issue.code === 'invalid_type')
    return new ApiError(400, `Invalid type for '${param}': ${issue.message}.`, { param, code: 'invalid_type' });
  return new ApiError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) throw validationError(r.error);
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

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ProviderError) return providerToApiError(e);
  const err = e as { status?: number; statusCode?: number; type?: string; message?: string; expose?: boolean };
  const status = err?.status ?? err?.statusCode;
  if (status === 413 || err?.type === 'entity.too.large')
    return new ApiError(413, 'The request body is larger than this gateway accepts.', { code: 'request_too_large' });
  if (err?.type === 'entity.parse.failed' || (status === 400 && /json/i.test(err?.message ?? '')))
    return new ApiError(400, 'We could not parse the JSON body of your request. Send a valid JSON object.', { code: 'invalid_json' });
  if (err?.type === 'encoding.unsupported' || status === 415)
    return new ApiError(415, err?.message ?? 'Unsupported content encoding.', { code: 'unsupported_media_type' });
  if (typeof status === 'number' && status >= 400 && status < 500 && err?.expose)
    return new ApiError(status, err.message ?? 'Bad request');
  return new ApiError(500, 'The gateway hit an internal error. The request id identifies it in the logs.', { type: 'server_error', code: 'internal_error' });
}

/** The MCP endpoints answer errors in JSON-RPC's shape, everything else in OpenAI's. */
export function isMcpPath(path: string): boolean {
  return path === '/mcp' || path.startsWith('/mcp/') || path === '/sse' || path === '/messages';
}

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
    ctx.body = isMcpPath(ctx.path) ? { jsonrpc: '2.0', error: { code: rpc?.code ?? -32000, message: api.message }, id: null } : api.toBody();
  }
}
