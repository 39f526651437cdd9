/**
 * The HTTP edge's answers to failures, each described by `describeFailure` (src/protocol/errors.ts):
 * OpenAI's error shape, or JSON-RPC's on the MCP paths. No stack traces leave the process.
 */
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { describeFailure, httpParserError, isInternal, jsonRpcErrorOf, validationError } from '../protocol/errors.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) throw validationError(r.error, body);
  return r.data;
}

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
  const { failure, reason } = httpParserError(err.code);
  const body = JSON.stringify(failure.toBody());
  socket.end(
    `HTTP/1.1 ${failure.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The MCP endpoints answer errors in JSON-RPC's shape, everything else in OpenAI's. */
export function isMcpPath(path: string): boolean {
  return path === '/mcp' || path.startsWith('/mcp/') || path === '/sse' || path === '/messages';
}

export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (e) {
    const failure = describeFailure(e);
    if (isInternal(failure)) ctx.state.log.error({ err: (e as Error)?.stack ?? String(e), status: failure.status }, 'request failed');
    else if (failure.status >= 500) ctx.state.log.warn({ err: failure.message, status: failure.status, code: failure.code }, 'request failed');
    else ctx.state.log.info({ status: failure.status, code: failure.code, reason: failure.message }, 'request rejected');
    if (ctx.res.headersSent) return; // a stream already started reports its own failure
    ctx.respond = true;
    ctx.status = failure.status;
    ctx.set(failure.headers);
    ctx.body = isMcpPath(ctx.path) ? { jsonrpc: '2.0', error: jsonRpcErrorOf(failure), id: null } : failure.toBody();
  }
}
