/** Unit tests of the bridge's pure parts: tool naming, filters, approval policy, result conversion. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deniedOutput, matchApprovals, toModelInput } from '../src/agent/conversation.ts';
import { isAllowed, needsApproval } from '../src/agent/mcp-bindings.ts';
import { forwardedHeaders } from '../src/mcp-client/headers.ts';
import { convertToolFailure, convertToolResult, truncate } from '../src/agent/tool-results.ts';
import { functionName, ToolNameMap } from '../src/mcp-client/naming.ts';
import type { Tool } from '../src/mcp-client/upstream.ts';
import { McpUpstreamError } from '../src/protocol/errors.ts';
import { InputBridge } from '../src/mcp-server/input-bridge.ts';
import type { McpCall } from '../src/mcp-server/handlers.ts';
import { MASTER } from '../src/access/caller.ts';
import type { McpTool } from '../src/protocol/responses.ts';

const tool = (name: string, readOnly?: boolean): Tool => ({
  name,
  inputSchema: { type: 'object' },
  ...(readOnly === undefined ? {} : { annotations: { readOnlyHint: readOnly } }),
});
const entry = (extra: Partial<McpTool> = {}): McpTool => ({ type: 'mcp', server_label: 'x', server_url: 'litellm_proxy', ...extra });

describe('tool names', () => {
  test('<server>-<tool> when valid; otherwise shortened with a stable hash', () => {
    assert.equal(functionName('github', 'create_issue'), 'github-create_issue');
    const dotted = functionName('fs', 'read.file');
    assert.match(dotted, /^fs-read_file_[0-9a-f]{8}$/);
    assert.equal(functionName('fs', 'read.file'), dotted, 'deterministic');
    assert.notEqual(functionName('fs', 'read_file'), dotted, 'no collision with the look-alike');
    const long = functionName('server', 'x'.repeat(120));
    assert.ok(long.length <= 64 && /^[a-zA-Z0-9_-]+$/.test(long));
  });

  test('a map never hands out one name twice, nor a client function name', () => {
    const m = new ToolNameMap();
    const a = m.add('s', 'read.file', new Set(['s-read_file_x']));
    const b = m.add('s', 'read.file', new Set(), 'other-label');
    assert.notEqual(a, b);
    const taken = new Set(['s-tool']);
    assert.notEqual(m.add('s', 'tool', taken), 's-tool');
  });
});

describe('filters and approval', () => {
  test('allowed_tools: absent, a list, {tool_names}, {read_only}', () => {
    assert.equal(isAllowed(entry(), tool('a')), true);
    assert.equal(isAllowed(entry({ allowed_tools: ['a'] }), tool('b')), false);
    assert.equal(isAllowed(entry({ allowed_tools: { tool_names: ['a'] } }), tool('a')), true);
    assert.equal(isAllowed(entry({ allowed_tools: { read_only: true } }), tool('a', true)), true);
    assert.equal(isAllowed(entry({ allowed_tools: { read_only: true } }), tool('a')), false);
    assert.equal(isAllowed(entry({ allowed_tools: { tool_names: ['a'], read_only: true } }), tool('a', false)), false);
  });

  test('require_approval: always by default, never, filters, and fail closed', () => {
    assert.equal(needsApproval(entry(), tool('a')), true);
    assert.equal(needsApproval(entry({ require_approval: 'never' }), tool('a')), false);
    const policy = entry({ require_approval: { never: { read_only: true }, always: { tool_names: ['danger'] } } });
    assert.equal(needsApproval(policy, tool('safe', true)), false);
    assert.equal(needsApproval(policy, tool('danger', true)), true, 'always wins over never');
    assert.equal(needsApproval(policy, tool('other')), true, 'matched by neither: approval');
  });
});

describe('headers', () => {
  test('x-mcp-<server>-<name> and extra_headers, never the gateway key', () => {
    const h = forwardedHeaders(
      'Docs',
      ['x-trace'],
      { 'x-mcp-docs-authorization': 'Bearer up', 'x-mcp-other-a': '1', 'x-trace': 't1', 'x-mcp-docs-leak': 'Bearer gwkey' },
      'gwkey',
    );
    assert.deepEqual(h, { authorization: 'Bearer up', 'x-trace': 't1' });
  });
});

describe('tool results', () => {
  test('text, structured content once, images to the model only', () => {
    const r = convertToolResult(
      {
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image', data: 'AAA', mimeType: 'image/png' },
        ],
        structuredContent: { a: 1 },
      },
      1000,
    );
    assert.equal(r.output, 'hi\n{"a":1}');
    assert.deepEqual(r.modelOutput, [
      { type: 'input_text', text: 'hi\n{"a":1}' },
      { type: 'input_image', image_url: 'data:image/png;base64,AAA', detail: 'auto' },
    ]);
    assert.equal(r.error, null);
    const mirrored = convertToolResult({ content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } }, 1000);
    assert.equal(mirrored.output, '{"a":1}');
  });

  test('isError and failures in the tagged error form', () => {
    const e = convertToolResult({ content: [{ type: 'text', text: 'nope' }], isError: true }, 1000);
    assert.deepEqual(e.error, { type: 'mcp_tool_execution_error', content: [{ type: 'text', text: 'nope' }] });
    assert.equal(e.modelOutput, 'Error: nope');
    assert.deepEqual(convertToolFailure(new McpUpstreamError('http_error', 502, 'bad gateway')).error, {
      type: 'http_error',
      code: 502,
      message: 'bad gateway',
    });
  });

  test('long output keeps head and tail, marked as truncated', () => {
    const text = `HEAD${'x'.repeat(5000)}TAIL`;
    const out = truncate(text, 1000);
    assert.ok(out.length <= 1000);
    assert.ok(out.startsWith('HEAD') && out.endsWith('TAIL'));
    assert.match(out, /truncated \d+ characters/);
  });
});

describe('conversation', () => {
  const request = { type: 'mcp_approval_request' as const, id: 'mcpr_1', server_label: 'x', name: 't', arguments: '{}' };
  test('approval answers must match an issued request, once', () => {
    assert.throws(() => matchApprovals([], [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: true }]), /No approval request/);
    const ok = matchApprovals([request], [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: true }]);
    assert.equal(ok.length, 1);
    const answered = { type: 'mcp_call' as const, id: 'mcp_1', server_label: 'x', name: 't', arguments: '{}', approval_request_id: 'mcpr_1', output: 'done' };
    assert.throws(
      () => matchApprovals([request, answered], [{ type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: true }]),
      /already answered/,
    );
  });

  test('MCP items read to the model as function calls with outputs', () => {
    const items = toModelInput(
      [
        { type: 'message', role: 'user', content: 'hi' },
        { type: 'mcp_list_tools', id: 'mcpl_1', server_label: 'x', tools: [] },
        { type: 'mcp_call', id: 'mcp_9', server_label: 'x', name: 'a.b', arguments: '{"q":1}', output: 'R' },
        request,
        { type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: false, reason: 'no' },
      ],
      (label, t) => functionName(label, t),
    );
    assert.deepEqual(
      items.map((i) => i.type),
      ['message', 'function_call', 'function_call_output', 'function_call', 'function_call_output'],
    );
    assert.equal((items[1] as any).name, functionName('x', 'a.b'));
    assert.equal((items[2] as any).output, 'R');
    assert.equal((items[4] as any).output, deniedOutput('no'));
  });
});

describe('input bridge (a 2025 upstream asking a 2026-07-28 client)', () => {
  const call = (extra: Partial<McpCall> = {}): McpCall => ({
    scope: { caller: MASTER },
    signal: new AbortController().signal,
    requestId: 1,
    notify: async () => {},
    client: { capabilities: { sampling: {} } },
    ...extra,
  });
  /** An upstream whose one call asks one sampling question and answers with the reply's text. */
  const asking = (ask: (r: { method: string; params?: Record<string, unknown> }) => Promise<Record<string, unknown>>) => ({
    handler: async () => {
      const reply = await ask({ method: 'sampling/createMessage', params: { maxTokens: 5, messages: [] } });
      return { content: [{ type: 'text' as const, text: `got ${(reply.content as { text: string }).text}` }] };
    },
    close: async () => {},
  });
  const direct = async () => ({ content: [{ type: 'text' as const, text: 'direct' }] });

  test('a question parks the call as input_required; the answer resumes it', async () => {
    const bridge = new InputBridge({ max: 10 });
    const first = await bridge.handle({}, call(), direct, asking);
    assert.equal(first.resultType, 'input_required');
    assert.deepEqual(Object.keys(first.inputRequests as object), ['q1']);
    const state = first.requestState as string;
    const done = await bridge.handle({}, call({ requestState: state, inputResponses: { q1: { content: { type: 'text', text: 'blue' } } } }), direct, asking);
    assert.deepEqual(done, { content: [{ type: 'text', text: 'got blue' }] });
    // Spent: the same state again is expired.
    await assert.rejects(bridge.handle({}, call({ requestState: state, inputResponses: {} }), direct, asking), /Invalid or expired requestState/);
  });

  test('a client that cannot be asked goes the direct way; another caller cannot resume; the number of waiting calls is bounded', async () => {
    const bridge = new InputBridge({ max: 1 });
    assert.deepEqual(await bridge.handle({}, call({ client: {} }), direct, asking), { content: [{ type: 'text', text: 'direct' }] });
    const parked = await bridge.handle({}, call(), direct, asking);
    const stranger = { ...MASTER, id: 'key:someone-else' };
    await assert.rejects(
      bridge.handle({}, call({ scope: { caller: stranger }, requestState: parked.requestState as string }), direct, asking),
      /Invalid or expired requestState/,
    );
    await assert.rejects(bridge.handle({}, call(), direct, asking), /Too many calls are waiting/);
    bridge.close();
  });
});
