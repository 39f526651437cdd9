/**
 * The failure taxonomy (src/protocol/errors.ts): every kind of error described once, and each wire
 * shape a projection of that description.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  ApiError,
  bodyReadError,
  clientDisconnected,
  describeFailure,
  failedResponseError,
  isInternal,
  jsonRpcErrorOf,
  McpUpstreamError,
  mcpCallErrorOf,
  mcpCallNotRun,
  ProviderError,
  RpcCode,
  responseErrorOf,
  UpstreamStreamError,
  validationError,
} from '../src/protocol/errors.ts';

/** OpenAI's closed set for a failed response's `error.code`, read from openai-node's own type. */
function responseErrorCodes(): Set<string> {
  const dts = readFileSync(new URL('../node_modules/openai/resources/responses/responses.d.ts', import.meta.url), 'utf8');
  const decl = dts.slice(dts.indexOf('export interface ResponseError {'));
  const union = /code: ((?:'\w+'(?: \| )?)+);/.exec(decl)![1]!;
  return new Set([...union.matchAll(/'(\w+)'/g)].map((m) => m[1]!));
}

const cases: [string, unknown, { status: number; type: string; code: string | null; rpc: number }][] = [
  [
    'provider timeout',
    new ProviderError('no headers', { kind: 'timeout' }),
    { status: 504, type: 'timeout_error', code: 'upstream_timeout', rpc: RpcCode.InternalError },
  ],
  [
    'provider unreachable',
    new ProviderError('ECONNREFUSED', { kind: 'connection' }),
    { status: 502, type: 'api_error', code: 'upstream_unavailable', rpc: RpcCode.InternalError },
  ],
  [
    'provider 500',
    new ProviderError('boom', { kind: 'http', status: 500 }),
    { status: 502, type: 'api_error', code: 'upstream_error', rpc: RpcCode.InternalError },
  ],
  [
    'provider 429',
    new ProviderError('slow down', { kind: 'http', status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' }),
    { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', rpc: RpcCode.ConnectionClosed },
  ],
  [
    'provider 400',
    new ProviderError('context too long', { kind: 'http', status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', param: 'input' }),
    { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', rpc: RpcCode.ConnectionClosed },
  ],
  [
    'provider call aborted',
    new ProviderError('aborted', { kind: 'aborted' }),
    { status: 499, type: 'cancelled', code: 'cancelled', rpc: RpcCode.ConnectionClosed },
  ],
  [
    'model stream went quiet',
    new UpstreamStreamError('upstream_timeout', 'nothing for 60 s'),
    { status: 504, type: 'timeout_error', code: 'upstream_timeout', rpc: RpcCode.InternalError },
  ],
  [
    'model stream broke',
    new UpstreamStreamError('upstream_error', 'ended early'),
    { status: 502, type: 'api_error', code: 'upstream_error', rpc: RpcCode.InternalError },
  ],
  [
    'model stream rate limited',
    new UpstreamStreamError('rate_limit_exceeded', 'slow down'),
    { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', rpc: RpcCode.ConnectionClosed },
  ],
  [
    'MCP upstream HTTP error',
    new McpUpstreamError('http_error', 503, 'docs: HTTP 503'),
    { status: 502, type: 'api_error', code: 'mcp_upstream_error', rpc: RpcCode.InternalError },
  ],
  [
    'MCP upstream JSON-RPC error',
    new McpUpstreamError('mcp_protocol_error', -32602, 'docs: bad params'),
    { status: 502, type: 'api_error', code: 'mcp_upstream_error', rpc: -32602 },
  ],
  [
    'MCP call not run',
    mcpCallNotRun('limit reached', RpcCode.ConnectionClosed),
    { status: 400, type: 'invalid_request_error', code: 'mcp_call_not_run', rpc: RpcCode.ConnectionClosed },
  ],
  ['client gone', clientDisconnected(), { status: 499, type: 'cancelled', code: 'client_disconnected', rpc: RpcCode.ConnectionClosed }],
  [
    'body not JSON',
    bodyReadError(new SyntaxError('Unexpected token'), ''),
    { status: 400, type: 'invalid_request_error', code: 'invalid_json', rpc: RpcCode.ParseError },
  ],
  [
    'body over the limit',
    bodyReadError(Object.assign(new Error('too large'), { status: 413 }), ''),
    { status: 413, type: 'invalid_request_error', code: 'request_too_large', rpc: RpcCode.ConnectionClosed },
  ],
  [
    'body not gzip',
    bodyReadError(new Error('incorrect header check'), 'gzip'),
    { status: 400, type: 'invalid_request_error', code: 'invalid_encoding', rpc: RpcCode.ParseError },
  ],
  [
    'koa http error',
    Object.assign(new Error('Method Not Allowed'), { status: 405, expose: true }),
    { status: 405, type: 'invalid_request_error', code: null, rpc: RpcCode.ConnectionClosed },
  ],
  [
    'a bug',
    new TypeError("Cannot read properties of undefined (reading 'x')"),
    { status: 500, type: 'server_error', code: 'internal_error', rpc: RpcCode.InternalError },
  ],
  ['a thrown string', 'oops', { status: 500, type: 'server_error', code: 'internal_error', rpc: RpcCode.InternalError }],
];

describe('describeFailure', () => {
  for (const [name, error, want] of cases)
    test(name, () => {
      const f = describeFailure(error);
      assert.deepEqual({ status: f.status, type: f.type, code: f.code, rpc: f.rpc }, want);
      assert.ok(f.message.length > 0);
    });

  test('only a bug is internal, and its message says nothing of it', () => {
    const bug = describeFailure(new TypeError('secret detail'));
    assert.equal(isInternal(bug), true);
    assert.doesNotMatch(bug.message, /secret/);
    for (const [name, error] of cases) if (name !== 'a bug' && name !== 'a thrown string') assert.equal(isInternal(describeFailure(error)), false, name);
  });

  test('an ApiError is its own description', () => {
    const e = new ApiError(400, 'no', { code: 'invalid_value', param: 'x' });
    assert.equal(describeFailure(e), e);
  });

  test('a validation error names the parameter and tells missing from wrong', () => {
    const schema = z.object({ model: z.string(), n: z.number() }).strict();
    const missing = validationError(schema.safeParse({ n: 1 }).error!, { n: 1 });
    assert.deepEqual(missing.toBody().error, {
      message: "Missing required parameter: 'model'.",
      type: 'invalid_request_error',
      param: 'model',
      code: 'missing_required_parameter',
    });
    const wrong = validationError(schema.safeParse({ model: 'm', n: 'x' }).error!, { model: 'm', n: 'x' });
    assert.equal(wrong.code, 'invalid_type');
    assert.equal(wrong.rpc, RpcCode.InvalidParams);
  });
});

describe('projections', () => {
  test("response.failed's code is always one of OpenAI's", () => {
    const allowed = responseErrorCodes();
    assert.ok(allowed.has('server_error') && allowed.has('rate_limit_exceeded'), 'the enum was read');
    for (const [name, error] of cases) {
      const projected = responseErrorOf(describeFailure(error));
      assert.ok(allowed.has(projected.code), `${name}: ${projected.code}`);
    }
    assert.equal(responseErrorOf(describeFailure(new ProviderError('x', { kind: 'http', status: 429 }))).code, 'rate_limit_exceeded');
    assert.deepEqual(responseErrorOf(describeFailure(new ProviderError('x', { kind: 'timeout' }))), {
      code: 'server_error',
      message: 'The model provider did not answer in time: x',
      type: 'timeout_error',
      param: null,
    });
  });

  test('a failed response answered over HTTP keeps its status class', () => {
    assert.equal(failedResponseError({ code: 'rate_limit_exceeded', message: 'slow' }).status, 429);
    assert.equal(failedResponseError({ code: 'server_error', message: 'quiet', type: 'timeout_error' }).status, 504);
    assert.equal(failedResponseError({ code: 'server_error', message: 'boom', type: 'api_error' }).status, 502);
    assert.equal(failedResponseError(null).code, 'upstream_error');
  });

  test('JSON-RPC: an upstream error code survives, the rest maps to the closest code', () => {
    assert.deepEqual(jsonRpcErrorOf(describeFailure(new McpUpstreamError('mcp_protocol_error', -32002, 'not found'))), { code: -32002, message: 'not found' });
    assert.equal(jsonRpcErrorOf(describeFailure(new McpUpstreamError('http_error', 401, 'unauthorized'))).code, RpcCode.InternalError);
    assert.equal(jsonRpcErrorOf(describeFailure(new Error('bug'))).code, RpcCode.InternalError);
  });

  test("mcp_call.error: OpenAI's tagged union", () => {
    assert.deepEqual(mcpCallErrorOf(describeFailure(new McpUpstreamError('http_error', 503, 'docs: HTTP 503'))), {
      type: 'http_error',
      code: 503,
      message: 'docs: HTTP 503',
    });
    assert.deepEqual(mcpCallErrorOf(describeFailure(new McpUpstreamError('mcp_protocol_error', -32603, 'docs: crashed'))), {
      type: 'mcp_protocol_error',
      code: -32603,
      message: 'docs: crashed',
    });
    assert.deepEqual(mcpCallErrorOf(mcpCallNotRun('bad args', RpcCode.InvalidParams)), { type: 'mcp_protocol_error', code: -32602, message: 'bad args' });
  });
});
