/**
 * The bad-input corpus: malformed requests, each answered with an exact status and error code
 * (`error.code`: a string in OpenAI's shape, a number in JSON-RPC's on the MCP paths). None may be a
 * 500, none may write to the store, and the gateway keeps serving after all of them.
 *
 * What the gateway decides about bodies, before any route sees them:
 * - 400 `invalid_json`: not JSON, or a top-level scalar. Bytes that are not UTF-8 break the syntax
 *   outside a string; inside one they are read as U+FFFD, as WHATWG's `Body.json()` reads them. A UTF-8
 *   BOM is skipped (RFC 8259 §8.1 allows it); any other BOM is not JSON.
 * - 400 `forbidden_key`: `__proto__` anywhere (escaped too), or a `constructor` holding a `prototype`.
 * - 400 `nesting_too_deep`: nested deeper than 256 levels.
 * - 400 `invalid_encoding`: `Content-Encoding` gzip, deflate or br (in any case) over a body that does
 *   not decode.
 * - 413 `request_too_large`: over `max_request_size_mb`, whether declared, streamed or once decompressed.
 * - 415 `unsupported_media_type`: a `Content-Type` that is not JSON, a charset other than UTF-8, any other
 *   `Content-Encoding` (zstd, compress, stacked codings).
 * - Requests Node's HTTP parser refuses (CR, LF or NUL in a header, headers over 16 KB): 400
 *   `invalid_http_request`, 431 `headers_too_large`.
 * - On the MCP paths the same failures carry JSON-RPC codes: -32700 for `invalid_json` and
 *   `invalid_encoding`, -32600 for `forbidden_key` and `nesting_too_deep`, -32000 otherwise.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { StoredResponse } from '../src/store/types.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const KEY = 'sk-corpus-master';
const LIMIT = 1024 * 1024;
let open: TestGateway;
let keyed: TestGateway;
/** Ids issued in `before`, filled into `{name}` placeholders of paths, headers and bodies. */
const issued: Record<string, string> = {};
const saved: StoredResponse[] = [];

/** A request to send. */
interface Sent {
  name: string;
  method?: 'GET' | 'POST' | 'DELETE';
  /** Default `/v1/responses`. */
  path?: string;
  /** Added to the defaults (JSON content type; on MCP paths an Accept); null removes one. */
  headers?: Record<string, string | null>;
  body?: string | Buffer;
  /** A whole HTTP/1.1 request written to a socket as it is (for bytes no HTTP client would send). */
  raw?: string | Buffer;
  /** The gateway with a master key (the key is not sent unless the case sends it). */
  keyed?: boolean;
}

/** A request, and the error it must get. */
interface Case extends Sent {
  status: number;
  /** `error.code`: a string in OpenAI's shape, a number in JSON-RPC's. */
  code: string | number;
  /** The case is known to fail: the fix it waits for (node:test reports it as todo). */
  todo?: string;
}

// ---- building blocks ------------------------------------------------------------------------------

const json = (v: unknown) => JSON.stringify(v);
const responses = (extra: Record<string, unknown> = {}) => json({ model: 'c/m', input: 'x', ...extra });
const chat = (extra: Record<string, unknown> = {}) => json({ model: 'c/m', messages: [{ role: 'user', content: 'x' }], ...extra });
const mcpTool = (extra: Record<string, unknown>) => responses({ tools: [{ type: 'mcp', server_label: 's', require_approval: 'never', ...extra }] });
const serverUrl = (server_url: string) => mcpTool({ server_url });
const nest = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
const rpc = (v: Record<string, unknown>) => json({ jsonrpc: '2.0', id: 1, ...v });
const INIT = rpc({ method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'corpus', version: '1' } } });
const LIVE = { 'mcp-session-id': '{live}' };
/** Text and raw bytes, joined: for bodies that are not valid UTF-8. */
const utf8 = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const big = 'x'.repeat(LIMIT + 1024);
/** A request on a socket: `extra` header lines (each ending in CRLF) before a small valid body. */
const rawPost = (extra: string, path = '/v1/responses', body = responses()) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;

// ---- the corpus -----------------------------------------------------------------------------------

const corpus: Record<string, Case[]> = {
  'body syntax': [
    { name: 'truncated object', body: '{"model": "c/m", "input": ', status: 400, code: 'invalid_json' },
    { name: 'trailing comma', body: '{"model":"c/m","input":"x",}', status: 400, code: 'invalid_json' },
    { name: 'single quotes', body: "{'model':'c/m','input':'x'}", status: 400, code: 'invalid_json' },
    { name: 'unquoted keys', body: '{model:"c/m",input:"x"}', status: 400, code: 'invalid_json' },
    { name: 'a comment', body: '{"model":"c/m", /* hi */ "input":"x"}', status: 400, code: 'invalid_json' },
    { name: 'NaN', body: '{"model":"c/m","input":"x","temperature":NaN}', status: 400, code: 'invalid_json' },
    { name: 'Infinity', body: '{"model":"c/m","input":"x","temperature":Infinity}', status: 400, code: 'invalid_json' },
    { name: 'a hex number', body: '{"model":"c/m","input":"x","max_output_tokens":0x10}', status: 400, code: 'invalid_json' },
    { name: 'a leading zero', body: '{"model":"c/m","input":"x","max_output_tokens":010}', status: 400, code: 'invalid_json' },
    { name: 'an invalid escape', body: '{"model":"c/m","input":"\\x41"}', status: 400, code: 'invalid_json' },
    { name: 'a raw newline in a string', body: '{"model":"c/m","input":"a\nb"}', status: 400, code: 'invalid_json' },
    { name: 'garbage after the object', body: '{"model":"c/m","input":"x"} trailing', status: 400, code: 'invalid_json' },
    { name: 'two objects', body: '{"model":"c/m","input":"x"}{"model":"c/m","input":"y"}', status: 400, code: 'invalid_json' },
    { name: 'a top-level string', body: '"hello"', status: 400, code: 'invalid_json' },
    { name: 'a top-level number', body: '42', status: 400, code: 'invalid_json' },
    { name: 'top-level null', body: 'null', status: 400, code: 'invalid_json' },
    { name: 'an opening brace alone', body: '{', status: 400, code: 'invalid_json' },
    { name: 'Chat: truncated', path: '/v1/chat/completions', body: '{"model":"c/m","messages":[', status: 400, code: 'invalid_json' },
    { name: 'embeddings: not JSON', path: '/v1/embeddings', body: 'model=c/m&input=x', status: 400, code: 'invalid_json' },
    { name: 'images: not JSON', path: '/v1/images/generations', body: '<prompt>cat</prompt>', status: 400, code: 'invalid_json' },
  ],

  'types and ranges': [
    { name: 'temperature a string', body: responses({ temperature: 'hot' }), status: 400, code: 'invalid_type' },
    { name: 'temperature above 2', body: responses({ temperature: 2.5 }), status: 400, code: 'invalid_value' },
    { name: 'top_p negative', body: responses({ top_p: -0.1 }), status: 400, code: 'invalid_value' },
    { name: 'max_output_tokens zero', body: responses({ max_output_tokens: 0 }), status: 400, code: 'invalid_value' },
    { name: 'max_output_tokens fractional', body: responses({ max_output_tokens: 1.5 }), status: 400, code: 'invalid_type' },
    { name: 'top_logprobs 21', body: responses({ top_logprobs: 21 }), status: 400, code: 'invalid_value' },
    { name: 'stream a string', body: responses({ stream: 'yes' }), status: 400, code: 'invalid_type' },
    { name: 'model a number', body: json({ model: 5, input: 'x' }), status: 400, code: 'invalid_type' },
    { name: 'input a number', body: responses({ input: 42 }), status: 400, code: 'invalid_type' },
    {
      name: 'input item of an unknown role',
      body: responses({ input: [{ type: 'message', role: 'wizard', content: 'x' }] }),
      status: 400,
      code: 'invalid_value',
    },
    { name: 'tools not an array', body: responses({ tools: 'all' }), status: 400, code: 'invalid_type' },
    { name: 'metadata value a number', body: responses({ metadata: { a: 1 } }), status: 400, code: 'invalid_type' },
    { name: 'metadata value over 512 chars', body: responses({ metadata: { a: 'v'.repeat(513) } }), status: 400, code: 'invalid_value' },
    { name: 'truncation not an option', body: responses({ truncation: 'sometimes' }), status: 400, code: 'invalid_value' },
    { name: 'a top-level array', body: '[{"model":"c/m","input":"x"}]', status: 400, code: 'invalid_type' },
    { name: 'Chat: messages a string', path: '/v1/chat/completions', body: chat({ messages: 'hi' }), status: 400, code: 'invalid_type' },
    { name: 'Chat: no messages', path: '/v1/chat/completions', body: chat({ messages: [] }), status: 400, code: 'invalid_value' },
    { name: 'Chat: n is 0', path: '/v1/chat/completions', body: chat({ n: 0 }), status: 400, code: 'invalid_value' },
    {
      name: 'Chat: content a number',
      path: '/v1/chat/completions',
      body: chat({ messages: [{ role: 'user', content: 5 }] }),
      status: 400,
      code: 'invalid_type',
    },
    { name: 'embeddings: input a number', path: '/v1/embeddings', body: json({ model: 'c/m', input: 5 }), status: 400, code: 'invalid_type' },
    {
      name: 'embeddings: an unknown field',
      path: '/v1/embeddings',
      body: json({ model: 'c/m', input: 'x', bogus: 1 }),
      status: 400,
      code: 'unknown_parameter',
    },
    { name: 'images: n is 11', path: '/v1/images/generations', body: json({ model: 'c/m', prompt: 'cat', n: 11 }), status: 400, code: 'invalid_value' },
    { name: 'input_items: limit 0', method: 'GET', path: '/v1/responses/{response}/input_items?limit=0', status: 400, code: 'invalid_value' },
    { name: 'input_items: limit not a number', method: 'GET', path: '/v1/responses/{response}/input_items?limit=ten', status: 400, code: 'invalid_type' },
    { name: 'input_items: order sideways', method: 'GET', path: '/v1/responses/{response}/input_items?order=sideways', status: 400, code: 'invalid_value' },
  ],

  'missing fields': [
    { name: 'no model', body: json({ input: 'x' }), status: 400, code: 'missing_required_parameter' },
    { name: 'an empty object', body: '{}', status: 400, code: 'missing_required_parameter' },
    { name: 'an empty body', body: '', status: 400, code: 'missing_required_parameter' },
    { name: 'a message without a role', body: responses({ input: [{ type: 'message', content: 'x' }] }), status: 400, code: 'missing_required_parameter' },
    {
      name: 'a function_call_output without call_id',
      body: responses({ input: [{ type: 'function_call_output', output: 'x' }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    {
      name: 'a function tool without a name',
      body: responses({ tools: [{ type: 'function', parameters: {} }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    {
      name: 'an mcp tool without server_label',
      body: responses({ tools: [{ type: 'mcp', server_url: 'litellm_proxy' }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    { name: 'an mcp tool without server_url', body: mcpTool({}), status: 400, code: 'missing_required_parameter' },
    {
      name: 'an approval response without approve',
      body: responses({ input: [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_1' }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    {
      name: 'Chat: no model',
      path: '/v1/chat/completions',
      body: json({ messages: [{ role: 'user', content: 'x' }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    { name: 'Chat: no messages', path: '/v1/chat/completions', body: json({ model: 'c/m' }), status: 400, code: 'missing_required_parameter' },
    {
      name: 'Chat: a message without a role',
      path: '/v1/chat/completions',
      body: chat({ messages: [{ content: 'x' }] }),
      status: 400,
      code: 'missing_required_parameter',
    },
    { name: 'embeddings: no input', path: '/v1/embeddings', body: json({ model: 'c/m' }), status: 400, code: 'missing_required_parameter' },
    { name: 'embeddings: no model', path: '/v1/embeddings', body: json({ input: 'x' }), status: 400, code: 'missing_required_parameter' },
    { name: 'images: no prompt', path: '/v1/images/generations', body: json({ model: 'c/m' }), status: 400, code: 'missing_required_parameter' },
  ],

  'sizes and nesting': [
    { name: 'a body over the limit', body: responses({ input: big }), status: 413, code: 'request_too_large' },
    {
      name: 'Chat: a body over the limit',
      path: '/v1/chat/completions',
      body: chat({ messages: [{ role: 'user', content: big }] }),
      status: 413,
      code: 'request_too_large',
    },
    { name: 'embeddings: a body over the limit', path: '/v1/embeddings', body: json({ model: 'c/m', input: big }), status: 413, code: 'request_too_large' },
    {
      name: 'a body over the limit, chunked',
      headers: { 'transfer-encoding': 'chunked' },
      body: responses({ input: big }),
      status: 413,
      code: 'request_too_large',
    },
    {
      name: 'a declared length over the limit',
      raw: `POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${LIMIT * 4}\r\nconnection: close\r\n\r\n${responses()}`,
      status: 413,
      code: 'request_too_large',
    },
    {
      name: 'MCP: a declared length over the limit',
      raw: `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: ${LIMIT * 4}\r\nconnection: close\r\n\r\n${INIT}`,
      status: 413,
      code: -32000,
    },
    {
      name: 'a gzip bomb',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(responses({ input: 'x'.repeat(LIMIT * 8) })),
      status: 413,
      code: 'request_too_large',
    },
    { name: 'MCP: a body over the limit', path: '/mcp', body: rpc({ method: 'ping', params: { pad: big } }), status: 413, code: -32000 },
    { name: 'nesting 257 deep in metadata', body: responses({ metadata: JSON.parse(nest(256, '"v"')) }), status: 400, code: 'nesting_too_deep' },
    {
      name: 'nesting 100,000 deep in input',
      body: `{"model":"c/m","input":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      status: 400,
      code: 'nesting_too_deep',
    },
    {
      name: 'nesting 10,000 deep in function parameters',
      body: `{"model":"c/m","input":"x","tools":[{"type":"function","name":"f","parameters":${nest(10_000)}}]}`,
      status: 400,
      code: 'nesting_too_deep',
    },
    { name: 'nesting 10,000 deep in an unknown field', body: `{"model":"c/m","input":"x","extra":${nest(10_000)}}`, status: 400, code: 'nesting_too_deep' },
    {
      name: 'Chat: nesting 10,000 deep',
      path: '/v1/chat/completions',
      body: `{"model":"c/m","messages":[{"role":"user","content":"x"}],"extra":${nest(10_000)}}`,
      status: 400,
      code: 'nesting_too_deep',
    },
    { name: 'MCP: nesting 10,000 deep', path: '/mcp', body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":${nest(10_000)}}`, status: 400, code: -32600 },
    { name: '100,000 input items, none valid', body: responses({ input: Array(100_000).fill({}) }), status: 400, code: 'missing_required_parameter' },
    {
      name: 'Chat: 50,000 messages, none valid',
      path: '/v1/chat/completions',
      body: chat({ messages: Array(50_000).fill(7) }),
      status: 400,
      code: 'invalid_type',
    },
    {
      name: 'embeddings: 50,000 inputs of mixed types',
      path: '/v1/embeddings',
      body: json({ model: 'c/m', input: Array.from({ length: 50_000 }, (_, i) => (i % 2 ? 'x' : 1)) }),
      status: 400,
      code: 'invalid_value',
    },
  ],

  'encodings and charsets': [
    { name: 'gzip declared, plain body', headers: { 'content-encoding': 'gzip' }, body: responses(), status: 400, code: 'invalid_encoding' },
    { name: 'gzip truncated', headers: { 'content-encoding': 'gzip' }, body: gzipSync(responses()).subarray(0, 15), status: 400, code: 'invalid_encoding' },
    { name: 'deflate declared, garbage', headers: { 'content-encoding': 'deflate' }, body: 'not deflate', status: 400, code: 'invalid_encoding' },
    { name: 'br declared, garbage', headers: { 'content-encoding': 'br' }, body: 'definitely not brotli', status: 400, code: 'invalid_encoding' },
    { name: 'GZIP (upper case) declared, plain body', headers: { 'content-encoding': 'GZIP' }, body: responses(), status: 400, code: 'invalid_encoding' },
    {
      name: 'valid gzip of something that is not JSON',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync('model=c/m'),
      status: 400,
      code: 'invalid_json',
    },
    { name: 'zstd', headers: { 'content-encoding': 'zstd' }, body: responses(), status: 415, code: 'unsupported_media_type' },
    { name: 'compress', headers: { 'content-encoding': 'compress' }, body: responses(), status: 415, code: 'unsupported_media_type' },
    {
      name: 'stacked codings',
      headers: { 'content-encoding': 'gzip, br' },
      body: brotliCompressSync(gzipSync(responses())),
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'an unknown coding', headers: { 'content-encoding': 'rot13' }, body: responses(), status: 415, code: 'unsupported_media_type' },
    {
      name: 'charset utf-16',
      headers: { 'content-type': 'application/json; charset=utf-16' },
      body: Buffer.from(responses(), 'utf16le'),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'charset iso-8859-1',
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      body: Buffer.from(responses({ input: 'café' }), 'latin1'),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'an unknown charset',
      headers: { 'content-type': 'application/json; charset=klingon' },
      body: responses(),
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'text/plain', headers: { 'content-type': 'text/plain' }, body: responses(), status: 415, code: 'unsupported_media_type' },
    {
      name: 'a form post',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'model=c/m&input=x',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'multipart',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
      body: '--b\r\n\r\nx\r\n--b--',
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'no content type', headers: { 'content-type': null }, body: responses(), status: 415, code: 'unsupported_media_type' },
    {
      name: 'UTF-16 with its BOM, no charset',
      body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(responses(), 'utf16le')]),
      status: 400,
      code: 'invalid_json',
    },
    { name: 'UTF-32', body: Buffer.from([...responses()].flatMap((ch) => [ch.charCodeAt(0), 0, 0, 0])), status: 400, code: 'invalid_json' },
    { name: 'two UTF-8 BOMs', body: `\ufeff\ufeff${responses()}`, status: 400, code: 'invalid_json' },
    { name: 'a BOM between tokens', body: `{"model":\ufeff"c/m","input":"x"}`, status: 400, code: 'invalid_json' },
    { name: 'an invalid UTF-8 byte between tokens', body: utf8('{"model":"c/m",', [0xff], '"input":"x"}'), status: 400, code: 'invalid_json' },
    { name: 'an overlong encoding of a quote', body: utf8('{"model":"c/m","input":"x', [0xc0, 0xa2], '}'), status: 400, code: 'invalid_json' },
    { name: 'MCP: gzip declared, plain body', path: '/mcp', headers: { 'content-encoding': 'gzip' }, body: INIT, status: 400, code: -32700 },
    {
      name: 'MCP: charset iso-8859-1',
      path: '/mcp',
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      body: INIT,
      status: 415,
      code: -32000,
    },
    { name: 'MCP: zstd', path: '/mcp', headers: { 'content-encoding': 'zstd' }, body: INIT, status: 415, code: -32000 },
  ],

  'prototype keys': [
    { name: '__proto__ at the top', body: '{"__proto__":{"admin":true},"model":"c/m","input":"x"}', status: 400, code: 'forbidden_key' },
    { name: '__proto__ in metadata', body: '{"model":"c/m","input":"x","metadata":{"__proto__":{"a":"b"}}}', status: 400, code: 'forbidden_key' },
    {
      name: '__proto__ in an input item',
      body: '{"model":"c/m","input":[{"type":"message","role":"user","content":"x","__proto__":{"role":"system"}}]}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: '__proto__ in function parameters',
      body: '{"model":"c/m","input":"x","tools":[{"type":"function","name":"f","parameters":{"__proto__":{"type":"object"}}}]}',
      status: 400,
      code: 'forbidden_key',
    },
    { name: '__proto__ in an array element', body: '{"model":"c/m","input":"x","include":[{"__proto__":{}}]}', status: 400, code: 'forbidden_key' },
    { name: '__proto__ escaped as \\u005f', body: '{"\\u005f_proto__":{"admin":true},"model":"c/m","input":"x"}', status: 400, code: 'forbidden_key' },
    {
      name: '__proto__ fully escaped',
      body: '{"\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006f\\u005f\\u005f":{"admin":true},"model":"c/m","input":"x"}',
      status: 400,
      code: 'forbidden_key',
    },
    { name: '__proto__ holding null', body: '{"__proto__":null,"model":"c/m","input":"x"}', status: 400, code: 'forbidden_key' },
    {
      name: 'constructor.prototype at the top',
      body: '{"constructor":{"prototype":{"admin":true}},"model":"c/m","input":"x"}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'constructor.prototype in metadata',
      body: '{"model":"c/m","input":"x","metadata":{"constructor":{"prototype":{"a":"b"}}}}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'constructor.prototype in an unknown field',
      body: '{"model":"c/m","input":"x","extra":[{"constructor":{"prototype":{}}}]}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'Chat: __proto__',
      path: '/v1/chat/completions',
      body: '{"__proto__":{"admin":true},"model":"c/m","messages":[{"role":"user","content":"x"}]}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'Chat: constructor.prototype in a message',
      path: '/v1/chat/completions',
      body: '{"model":"c/m","messages":[{"role":"user","content":"x","constructor":{"prototype":{"role":"system"}}}]}',
      status: 400,
      code: 'forbidden_key',
    },
    { name: 'embeddings: __proto__', path: '/v1/embeddings', body: '{"__proto__":{},"model":"c/m","input":"x"}', status: 400, code: 'forbidden_key' },
    {
      name: 'images: constructor.prototype',
      path: '/v1/images/generations',
      body: '{"model":"c/m","prompt":"cat","constructor":{"prototype":{}}}',
      status: 400,
      code: 'forbidden_key',
    },
    {
      name: 'gzipped __proto__',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync('{"__proto__":{"admin":true},"model":"c/m","input":"x"}'),
      status: 400,
      code: 'forbidden_key',
    },
    { name: 'MCP: __proto__ in a frame', path: '/mcp', body: '{"__proto__":{"admin":true},"jsonrpc":"2.0","id":1,"method":"ping"}', status: 400, code: -32600 },
    {
      name: 'MCP: constructor.prototype in tool arguments',
      path: '/mcp',
      headers: LIVE,
      body: rpc({ method: 'tools/call', params: { name: 'list_models', arguments: { constructor: { prototype: { x: 1 } } } } }),
      status: 400,
      code: -32600,
    },
  ],

  'ids never issued': [
    { name: 'GET an unknown response', method: 'GET', path: '/v1/responses/resp_never', status: 404, code: 'not_found' },
    { name: 'DELETE an unknown response', method: 'DELETE', path: '/v1/responses/resp_never', status: 404, code: 'not_found' },
    { name: 'input_items of an unknown response', method: 'GET', path: '/v1/responses/resp_never/input_items', status: 404, code: 'not_found' },
    { name: 'GET a deleted response', method: 'GET', path: '/v1/responses/{deleted}', status: 404, code: 'not_found' },
    { name: 'GET a response id that is a path', method: 'GET', path: '/v1/responses/..%2F..%2Fetc%2Fpasswd', status: 404, code: 'not_found' },
    { name: 'GET a response id with a NUL', method: 'GET', path: '/v1/responses/resp_%00', status: 404, code: 'not_found' },
    { name: 'GET a response id of broken percent-encoding', method: 'GET', path: '/v1/responses/%E0%A4%A', status: 404, code: 'not_found' },
    { name: 'previous_response_id never issued', body: responses({ previous_response_id: 'resp_never' }), status: 400, code: 'previous_response_not_found' },
    { name: 'previous_response_id deleted', body: responses({ previous_response_id: '{deleted}' }), status: 400, code: 'previous_response_not_found' },
    { name: 'an item_reference never issued', body: responses({ input: [{ type: 'item_reference', id: 'msg_never' }] }), status: 400, code: 'invalid_value' },
    {
      name: 'an item_reference never issued, after a real response',
      body: responses({ previous_response_id: '{response}', input: [{ type: 'item_reference', id: 'msg_never' }] }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'an approval never requested',
      body: responses({ input: [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_never', approve: true }] }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'an approval never requested, after a real response',
      body: responses({ previous_response_id: '{response}', input: [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_never', approve: true }] }),
      status: 400,
      code: 'invalid_value',
    },
    { name: 'a model never configured', method: 'GET', path: '/v1/models/no-such-model', status: 404, code: 'model_not_found' },
    {
      name: 'MCP: an unknown session id',
      path: '/mcp',
      headers: { 'mcp-session-id': 'never-issued' },
      body: rpc({ method: 'ping' }),
      status: 404,
      code: -32001,
    },
    {
      name: 'MCP: a deleted session',
      path: '/mcp',
      headers: { 'mcp-session-id': '{deleted-session}' },
      body: rpc({ method: 'ping' }),
      status: 404,
      code: -32001,
    },
    { name: 'MCP: DELETE of an unknown session', method: 'DELETE', path: '/mcp', headers: { 'mcp-session-id': 'never-issued' }, status: 404, code: -32001 },
    {
      name: 'MCP: GET of an unknown session',
      method: 'GET',
      path: '/mcp',
      headers: { 'mcp-session-id': 'never-issued', accept: 'text/event-stream' },
      status: 404,
      code: -32001,
    },
    { name: 'legacy: an unknown sessionId', path: '/messages?sessionId=never-issued', body: rpc({ method: 'ping' }), status: 404, code: -32001 },
    { name: 'legacy: a Streamable HTTP session id', path: '/messages?sessionId={live}', body: rpc({ method: 'ping' }), status: 404, code: -32001 },
    { name: 'MCP: a server never registered', path: '/mcp/nope', body: INIT, status: 404, code: -32000 },
  ],

  URLs: [
    { name: 'file:', body: serverUrl('file:///etc/passwd'), status: 400, code: 'invalid_value' },
    { name: 'gopher:', body: serverUrl('gopher://127.0.0.1:6379/_FLUSHALL'), status: 400, code: 'invalid_value' },
    { name: 'ftp:', body: serverUrl('ftp://mcp.example.test/'), status: 400, code: 'invalid_value' },
    { name: 'data:', body: serverUrl('data:text/plain,hello'), status: 400, code: 'invalid_value' },
    { name: 'javascript:', body: serverUrl('javascript:alert(1)'), status: 400, code: 'invalid_value' },
    { name: 'ws:', body: serverUrl('ws://mcp.example.test/mcp'), status: 400, code: 'invalid_value' },
    { name: 'not a URL', body: serverUrl('mcp server please'), status: 400, code: 'invalid_value' },
    { name: 'an empty URL', body: serverUrl(''), status: 400, code: 'invalid_value' },
    { name: 'cloud metadata', body: serverUrl('http://169.254.169.254/latest/meta-data/'), status: 400, code: 'mcp_host_not_allowed' },
    { name: '10.0.0.0/8', body: serverUrl('http://10.0.0.5/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: '192.168.0.0/16', body: serverUrl('http://192.168.1.1/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: '172.16.0.0/12', body: serverUrl('http://172.16.0.1/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'IPv6 loopback', body: serverUrl('http://[::1]:4000/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'IPv4-mapped IPv6 loopback', body: serverUrl('http://[::ffff:127.0.0.1]/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'IPv6 link-local', body: serverUrl('http://[fe80::1]/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'loopback as a decimal number', body: serverUrl('http://2130706433/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'loopback in hex', body: serverUrl('http://0x7f000001/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'loopback in octal', body: serverUrl('http://0177.0.0.1/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'loopback shortened', body: serverUrl('http://127.1/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'a private address through an allowed wildcard', body: serverUrl('http://10.0.0.1/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'localhost with a trailing dot', body: serverUrl('http://localhost.:4000/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'an allowed name as a prefix', body: serverUrl('https://mcp.example.test.evil.example/mcp'), status: 400, code: 'mcp_host_not_allowed' },
    { name: 'an allowed name as userinfo', body: serverUrl('https://mcp.example.test@evil.example/mcp'), status: 400, code: 'invalid_value' },
    { name: 'credentials for an allowed host', body: serverUrl('https://user:secret@mcp.example.test/mcp'), status: 400, code: 'invalid_value' },
    { name: 'a user name for an allowed host', body: serverUrl('https://user@mcp.example.test/mcp'), status: 400, code: 'invalid_value' },
    { name: 'an unregistered proxy server', body: serverUrl('litellm_proxy/mcp/nope'), status: 400, code: 'invalid_value' },
    { name: 'a proxy path that climbs', body: serverUrl('litellm_proxy/mcp/../../etc'), status: 400, code: 'invalid_value' },
    { name: 'connector_id instead of a URL', body: mcpTool({ connector_id: 'connector_gmail' }), status: 400, code: 'unsupported_value' },
  ],

  headers: [
    { name: 'no key', keyed: true, body: responses(), status: 401, code: 'invalid_api_key' },
    { name: 'a wrong Bearer key', keyed: true, headers: { authorization: 'Bearer sk-wrong' }, body: responses(), status: 401, code: 'invalid_api_key' },
    { name: 'Bearer with no key', keyed: true, headers: { authorization: 'Bearer' }, body: responses(), status: 401, code: 'invalid_api_key' },
    { name: 'Bearer with blanks', keyed: true, headers: { authorization: 'Bearer    ' }, body: responses(), status: 401, code: 'invalid_api_key' },
    { name: 'the key without a scheme', keyed: true, headers: { authorization: KEY }, body: responses(), status: 401, code: 'invalid_api_key' },
    {
      name: 'the key as Basic',
      keyed: true,
      headers: { authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` },
      body: responses(),
      status: 401,
      code: 'invalid_api_key',
    },
    { name: 'the key with a suffix', keyed: true, headers: { authorization: `Bearer ${KEY}x` }, body: responses(), status: 401, code: 'invalid_api_key' },
    { name: 'the key in the query string', keyed: true, method: 'GET', path: `/v1/models?api_key=${KEY}`, status: 401, code: 'invalid_api_key' },
    { name: 'a wrong x-api-key', keyed: true, headers: { 'x-api-key': 'sk-wrong' }, method: 'GET', path: '/v1/models', status: 401, code: 'invalid_api_key' },
    {
      name: 'a wrong key on input_items',
      keyed: true,
      headers: { 'x-litellm-api-key': 'sk-wrong' },
      method: 'GET',
      path: '/v1/responses/resp_x/input_items',
      status: 401,
      code: 'invalid_api_key',
    },
    { name: 'MCP: no key', keyed: true, path: '/mcp', body: INIT, status: 401, code: -32000 },
    {
      name: 'MCP: a foreign Origin, with the key',
      keyed: true,
      path: '/mcp',
      headers: { authorization: `Bearer ${KEY}`, origin: 'https://evil.example' },
      body: INIT,
      status: 403,
      code: -32000,
    },
    { name: 'a foreign Origin without a key', headers: { origin: 'https://evil.example' }, body: responses(), status: 403, code: 'origin_not_allowed' },
    { name: 'Origin null without a key', headers: { origin: 'null' }, body: responses(), status: 403, code: 'origin_not_allowed' },
    {
      name: 'a look-alike Origin without a key',
      headers: { origin: 'http://localhost.evil.example' },
      body: responses(),
      status: 403,
      code: 'origin_not_allowed',
    },
    { name: 'a foreign Host without a key', headers: { host: 'evil.example:4000' }, body: responses(), status: 403, code: 'host_not_allowed' },
    { name: 'a rebinding Host without a key', headers: { host: '127.0.0.1.nip.io' }, method: 'GET', path: '/v1/models', status: 403, code: 'host_not_allowed' },
    { name: 'MCP: a foreign Origin without a key', path: '/mcp', headers: { origin: 'https://evil.example' }, body: INIT, status: 403, code: -32000 },
    { name: 'x-mcp header: a bare CR', raw: rawPost('x-mcp-s-token: a\rinjected: 1\r\n'), status: 400, code: 'invalid_http_request' },
    { name: 'x-mcp header: a bare LF', raw: rawPost('x-mcp-s-token: a\ninjected: 1\r\n'), status: 400, code: 'invalid_http_request' },
    { name: 'x-mcp header: a NUL', raw: rawPost('x-mcp-s-token: a\0b\r\n'), status: 400, code: 'invalid_http_request' },
    { name: 'x-mcp header: a folded line', raw: rawPost('x-mcp-s-token: a\r\n injected: 1\r\n'), status: 400, code: 'invalid_http_request' },
    { name: 'x-mcp header: a name with a space', raw: rawPost('x-mcp-s token: a\r\n'), status: 400, code: 'invalid_http_request' },
    { name: 'x-mcp header: 20 KB', raw: rawPost(`x-mcp-s-token: ${'a'.repeat(20_000)}\r\n`), status: 431, code: 'headers_too_large' },
    {
      name: 'x-mcp headers: 3,000 of them',
      raw: rawPost(Array.from({ length: 3000 }, (_, i) => `x-mcp-s-h${i}: v\r\n`).join('')),
      status: 431,
      code: 'headers_too_large',
    },
    { name: 'MCP: x-mcp header with a bare CR', raw: rawPost('x-mcp-s-token: a\rinjected: 1\r\n', '/mcp', INIT), status: 400, code: 'invalid_http_request' },
    { name: 'a request smuggling pair', raw: rawPost('transfer-encoding: chunked\r\n'), status: 400, code: 'invalid_http_request' },
    {
      name: 'mcp tool headers: CRLF in a value',
      body: mcpTool({ server_url: 'https://mcp.example.test/mcp', headers: { 'x-token': 'a\r\nx-injected: 1' } }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'mcp tool headers: a name with CRLF',
      body: mcpTool({ server_url: 'https://mcp.example.test/mcp', headers: { 'x-token\r\nx-injected': '1' } }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'mcp tool headers: a name with a colon',
      body: mcpTool({ server_url: 'https://mcp.example.test/mcp', headers: { 'x-token: 1\r\nx': '1' } }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'mcp tool authorization with CRLF',
      body: mcpTool({ server_url: 'https://mcp.example.test/mcp', authorization: 'tok\r\nx-injected: 1' }),
      status: 400,
      code: 'invalid_value',
    },
    { name: 'MCP: x-mcp-servers naming no server', path: '/mcp', headers: { 'x-mcp-servers': '../../etc,nope' }, body: INIT, status: 400, code: -32602 },
  ],

  'JSON-RPC on /mcp': [
    { name: 'not JSON', path: '/mcp', body: 'ping', status: 400, code: -32700 },
    { name: 'truncated JSON', path: '/mcp', body: '{"jsonrpc":"2.0","id":1,', status: 400, code: -32700 },
    { name: 'a top-level number', path: '/mcp', body: '42', status: 400, code: -32700 },
    { name: 'not JSON, in a session', path: '/mcp', headers: LIVE, body: 'ping', status: 400, code: -32700 },
    { name: 'a request before initialize', path: '/mcp', body: rpc({ method: 'tools/list' }), status: 400, code: -32000 },
    { name: 'a notification before initialize', path: '/mcp', body: json({ jsonrpc: '2.0', method: 'notifications/initialized' }), status: 400, code: -32000 },
    { name: 'initialize without params', path: '/mcp', body: rpc({ method: 'initialize' }), status: 400, code: -32000 },
    { name: 'GET without a session', method: 'GET', path: '/mcp', headers: { accept: 'text/event-stream' }, status: 400, code: -32000 },
    { name: 'DELETE without a session', method: 'DELETE', path: '/mcp', status: 400, code: -32000 },
    { name: 'jsonrpc 1.0', path: '/mcp', headers: LIVE, body: rpc({ jsonrpc: '1.0', method: 'ping' }), status: 400, code: -32700 },
    { name: 'no jsonrpc member', path: '/mcp', headers: LIVE, body: json({ id: 1, method: 'ping' }), status: 400, code: -32700 },
    { name: 'no method', path: '/mcp', headers: LIVE, body: rpc({}), status: 400, code: -32700 },
    { name: 'a method that is a number', path: '/mcp', headers: LIVE, body: rpc({ method: 5 }), status: 400, code: -32700 },
    { name: 'an id that is an object', path: '/mcp', headers: LIVE, body: rpc({ id: {}, method: 'ping' }), status: 400, code: -32700 },
    { name: 'params that are a string', path: '/mcp', headers: LIVE, body: rpc({ method: 'tools/list', params: 'all' }), status: 400, code: -32700 },
    { name: 'a batch of garbage', path: '/mcp', headers: LIVE, body: '[1,"a",null]', status: 400, code: -32700 },
    { name: 'a batch with one bad frame', path: '/mcp', headers: LIVE, body: `[${rpc({ method: 'ping' })},{"jsonrpc":"2.0"}]`, status: 400, code: -32700 },
    { name: 'an empty batch', path: '/mcp', headers: LIVE, body: '[]', status: 400, code: -32600 },
    { name: 'an unknown method', path: '/mcp', headers: LIVE, body: rpc({ method: 'nothing/here' }), status: 200, code: -32601 },
    {
      name: 'a call of an unknown tool',
      path: '/mcp',
      headers: LIVE,
      body: rpc({ method: 'tools/call', params: { name: 'nope', arguments: {} } }),
      status: 200,
      code: -32602,
    },
    { name: 'initialize again in a session', path: '/mcp', headers: LIVE, body: INIT, status: 400, code: -32600 },
    {
      name: 'an unsupported protocol version',
      path: '/mcp',
      headers: { ...LIVE, 'mcp-protocol-version': '1999-01-01' },
      body: rpc({ method: 'ping' }),
      status: 400,
      code: -32000,
    },
    {
      name: 'an Accept of neither JSON nor SSE',
      path: '/mcp',
      headers: { ...LIVE, accept: 'text/html' },
      body: rpc({ method: 'ping' }),
      status: 406,
      code: -32000,
    },
    { name: 'text/plain', path: '/mcp', headers: { ...LIVE, 'content-type': 'text/plain' }, body: rpc({ method: 'ping' }), status: 415, code: -32000 },
    { name: 'legacy: no sessionId', path: '/messages', body: rpc({ method: 'ping' }), status: 400, code: -32000 },
  ],
};

// ---- sending ---------------------------------------------------------------------------------------

const fill = (s: string) => s.replace(/\{([a-z-]+)\}/g, (m, name: string) => issued[name] ?? m);
const isMcp = (path: string) => /^\/(mcp|sse|messages)(\/|\?|$)/.test(path);

interface Answer {
  status: number;
  body: string;
}

function send(c: Sent): Promise<Answer> {
  const gw = c.keyed ? keyed : open;
  if (c.raw !== undefined) return sendRaw(gw.gw.port, c.raw);
  const path = fill(c.path ?? '/v1/responses');
  const method = c.method ?? 'POST';
  const headers: Record<string, string | null> = {
    ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    ...(isMcp(path) ? { accept: 'application/json' } : {}),
    ...c.headers,
  };
  const sent = Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (v === null ? [] : [[k, fill(v)]])));
  const body = typeof c.body === 'string' ? fill(c.body) : c.body;
  return new Promise((resolve, reject) => {
    const req = request(`${gw.gw.url}${path}`, { method, headers: sent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes the bytes and reads until the server closes (every raw request asks it to). */
function sendRaw(port: number, bytes: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    // Not end(): a half-closed connection makes Node drop the request.
    socket.write(bytes);
  });
}

function assertError(c: Case, a: Answer) {
  const where = `${c.name}: HTTP ${a.status} ${a.body.slice(0, 300)}`;
  assert.equal(a.status, c.status, where);
  const body = JSON.parse(a.body);
  if (typeof c.code === 'number') {
    assert.equal(body.jsonrpc, '2.0', where);
    assert.equal(body.error?.code, c.code, where);
  } else {
    assert.deepEqual(Object.keys(body.error ?? {}).sort(), ['code', 'message', 'param', 'type'], where);
    assert.equal(body.error.code, c.code, where);
  }
  assert.equal(typeof body.error.message, 'string', where);
}

// ---- the gateways and what they issued ---------------------------------------------------------------

async function post(gw: TestGateway, path: string, body: string, headers: Record<string, string> = {}): Promise<{ res: Response; json: any }> {
  const res = await fetch(`${gw.gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
  });
  return { res, json: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

async function mcpSession(): Promise<string> {
  const { res } = await post(open, '/mcp', INIT);
  assert.equal(res.status, 200);
  const sid = res.headers.get('mcp-session-id')!;
  const ack = await post(open, '/mcp', json({ jsonrpc: '2.0', method: 'notifications/initialized' }), { 'mcp-session-id': sid });
  assert.equal(ack.res.status, 202);
  return sid;
}

before(async () => {
  open = await startTestGateway({
    general_settings: { max_request_size_mb: 1 },
    // `*.0.0.1` lets private addresses reach the wildcard rule, which must still refuse them.
    mcp_settings: { allowed_remote_hosts: ['mcp.example.test', '*.0.0.1'] },
  });
  keyed = await startTestGateway({ general_settings: { master_key: KEY } });
  const first = await post(open, '/v1/responses', responses({ input: 'remember me' }));
  assert.equal(first.res.status, 200);
  issued.response = first.json.id;
  const doomed = await post(open, '/v1/responses', responses());
  issued.deleted = doomed.json.id;
  assert.equal((await fetch(`${open.gw.url}/v1/responses/${issued.deleted}`, { method: 'DELETE' })).status, 200);
  issued.live = await mcpSession();
  issued['deleted-session'] = await mcpSession();
  const closed = await fetch(`${open.gw.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': issued['deleted-session'] } });
  assert.equal(closed.status, 200);
  // From here on, every write to either store is recorded.
  for (const gw of [open, keyed]) {
    const store = gw.gw.gateway.store;
    const save = store.saveResponse.bind(store);
    store.saveResponse = (r) => {
      saved.push(r);
      return save(r);
    };
  }
});
after(async () => {
  await open.close();
  await keyed.close();
});

// ---- the tests ---------------------------------------------------------------------------------------

test('the corpus: at least 150 cases, at least 10 in each category', () => {
  const sizes = Object.fromEntries(Object.entries(corpus).map(([category, cases]) => [category, cases.length]));
  for (const [category, size] of Object.entries(sizes)) assert.ok(size >= 10, `${category}: ${size}`);
  assert.ok(Object.values(sizes).reduce((a, b) => a + b) >= 150, JSON.stringify(sizes));
});

for (const [category, cases] of Object.entries(corpus)) {
  describe(category, () => {
    for (const c of cases) {
      test(c.name, { todo: c.todo }, async () => {
        const writes = saved.length;
        assertError(c, await send(c));
        assert.equal(saved.length, writes, 'a refused request writes nothing to the store');
      });
    }
  });
}

describe('what is accepted at the edges', () => {
  /** Each is answered by the mock's echo of the input: `echo: x` unless `echo` says otherwise. */
  const accepted: (Sent & { echo?: string })[] = [
    { name: 'a UTF-8 BOM', body: `\ufeff${responses()}` },
    { name: 'valid gzip', headers: { 'content-encoding': 'gzip' }, body: gzipSync(responses()) },
    { name: 'valid deflate, in upper case', headers: { 'content-encoding': 'DEFLATE' }, body: deflateSync(responses()) },
    { name: 'valid br', headers: { 'content-encoding': 'br' }, body: brotliCompressSync(responses()) },
    { name: 'identity', headers: { 'content-encoding': 'identity' }, body: responses() },
    { name: 'charset "UTF-8", quoted', headers: { 'content-type': 'application/json; charset="UTF-8"' }, body: responses() },
    { name: 'charset utf8', headers: { 'content-type': 'application/json; charset=utf8' }, body: responses() },
    { name: 'bytes that are not UTF-8 inside a string (read as U+FFFD)', body: utf8('{"model":"c/m","input":"caf', [0xe9], '"}'), echo: 'echo: caf\ufffd' },
    { name: 'nesting 256 deep', body: responses({ extra: JSON.parse(nest(255)) }) },
    {
      name: 'keys named constructor and prototype that pollute nothing',
      body: responses({ metadata: { constructor: 'c', prototype: 'p' }, extra: { constructor: { type: 'object' } } }),
    },
    { name: 'a lower-case bearer scheme', keyed: true, headers: { authorization: `bearer ${KEY}` }, body: responses() },
  ];
  for (const c of accepted) {
    test(c.name, async () => {
      const a = await send(c);
      assert.equal(a.status, 200, a.body.slice(0, 300));
      assert.equal(JSON.parse(a.body).output[0].content[0].text, c.echo ?? 'echo: x');
    });
  }
});

describe('after all of them', () => {
  test('the gateways still serve: a normal request succeeds, and is stored', async () => {
    const writes = saved.length;
    const { res, json: body } = await post(open, '/v1/responses', responses({ input: 'still here?' }));
    assert.equal(res.status, 200);
    assert.equal(body.output[0].content[0].text, 'echo: still here?');
    assert.equal(saved.at(-1)?.response.id, body.id, 'the store is watched');
    assert.ok(saved.length > writes);
    const withKey = await post(keyed, '/v1/chat/completions', chat(), { authorization: `Bearer ${KEY}` });
    assert.equal(withKey.res.status, 200);
    const ping = await post(open, '/mcp', rpc({ method: 'ping' }), { 'mcp-session-id': issued.live! });
    assert.deepEqual(ping.json, { jsonrpc: '2.0', id: 1, result: {} });
  });

  test('no log line of an internal error', () => {
    for (const gw of [open, keyed])
      assert.deepEqual(
        gw.logs.filter((l) => l.msg === 'request failed' || (l.status as number) >= 500),
        [],
      );
  });
});
