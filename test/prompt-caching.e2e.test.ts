/**
 * Prompt caching in a tool loop, end to end: a three-round MCP loop run by the gateway (a real upstream
 * MCP server, `require_approval: "never"`) on the Anthropic mock. Every round marks the growing prefix,
 * so each round reads the rounds before from cache; the mock reports cache reads for rounds two and
 * three, and the response's usage sums them, through /v1/responses and /v1/chat/completions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import { startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import type { MockTurn } from '../fixtures/mock-provider.ts';
import { openaiClients, startTestGateway, streamResponse, type TestGateway } from './support/gateway.ts';
import { marks } from './support/cache-marks.ts';

let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let t: TestGateway;
let client: OpenAI;

before(async () => {
  fixture = await startFixtureHttpServer();
  t = await startTestGateway({ mcp_servers: { fixture: { url: fixture.url, transport: 'http' } } });
  ({ client } = openaiClients(t.gw.url));
});
after(async () => {
  await t.close();
  await fixture.close();
});

let n = 0;
/** The mock keys turns by the upstream name: `a/<name>` reaches it as `<name>`. */
const uniq = (label: string) => `claude-cache-${label}-${++n}`;

const mcp = { type: 'mcp' as const, server_label: 'gw', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' as const };

/** Two rounds of calls, then the answer; rounds two and three read what came before from cache. */
const LOOP: MockTurn[] = [
  { toolCalls: [{ name: 'fixture-add', arguments: { a: 2, b: 3 }, id: 'toolu_r1' }], usage: { input: 1200, output: 20 } },
  { toolCalls: [{ name: 'fixture-add', arguments: { a: 5, b: 8 }, id: 'toolu_r2' }], usage: { input: 1300, output: 20, cached: 1200 } },
  { text: 'The total is 13.', usage: { input: 1400, output: 6, cached: 1300 } },
];

const ephemeral = { type: 'ephemeral' };

/** Each round's breakpoints: the last tool, the system block, and the conversation's last block. */
function assertBreakpoints(model: string, systemBlocks: number) {
  const bodies = t.mock.requestsFor(model).map((r) => r.body);
  assert.equal(bodies.length, 3);
  const lastTool = `tools[${bodies[0].tools.length - 1}]`;
  const system = systemBlocks ? { [`system[${systemBlocks - 1}]`]: ephemeral } : {};
  assert.deepEqual(marks(bodies[0]), { [lastTool]: ephemeral, ...system, 'messages[0].content[0]': ephemeral });
  // round two: the question, the first call, its result (marked: the prefix round three reads)
  assert.deepEqual(marks(bodies[1]), { [lastTool]: ephemeral, ...system, 'messages[2].content[0]': ephemeral });
  assert.deepEqual(bodies[1].messages[2].content, [{ type: 'tool_result', tool_use_id: 'toolu_r1', content: '5\n{"sum":5}', cache_control: ephemeral }]);
  // round three: the breakpoint moved to the newest result; the one before is no longer marked
  assert.deepEqual(marks(bodies[2]), { [lastTool]: ephemeral, ...system, 'messages[4].content[0]': ephemeral });
  assert.equal(bodies[2].messages[4].content[0].tool_use_id, 'toolu_r2');
  // the same tools every round, so the cached prefix stays the same
  assert.deepEqual(bodies[2].tools, bodies[0].tools);
}

describe('an Anthropic tool loop reads the rounds before from cache', () => {
  test('/v1/responses, not streamed: breakpoints every round, cached tokens summed', async () => {
    const m = uniq('responses');
    t.mock.enqueue(m, ...LOOP);
    const r = await client.responses.create({ model: `a/${m}`, instructions: 'You add numbers.', input: 'What is 2+3, plus 8?', tools: [mcp] });
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'The total is 13.');
    assert.deepEqual(
      r.output.filter((o) => o.type === 'mcp_call').map((o) => (o as { output?: string | null }).output),
      ['5\n{"sum":5}', '13\n{"sum":13}'],
    );
    assertBreakpoints(m, 1);
    assert.deepEqual(r.usage, {
      input_tokens: 3900,
      input_tokens_details: { cached_tokens: 2500 },
      output_tokens: 46,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 3946,
    });
  });

  test('/v1/responses, streamed: the same breakpoints, the same sum on response.completed', async () => {
    const m = uniq('stream');
    t.mock.enqueue(m, ...LOOP);
    const { violations, events } = await streamResponse(t.gw.url, {
      model: `a/${m}`,
      instructions: 'You add numbers.',
      input: 'What is 2+3, plus 8?',
      tools: [mcp],
    });
    assert.deepEqual(violations, []);
    const done = events.at(-1);
    assert.equal(done.type, 'response.completed');
    assertBreakpoints(m, 1);
    assert.deepEqual(done.response.usage.input_tokens_details, { cached_tokens: 2500 });
    assert.equal(done.response.usage.input_tokens, 3900);
  });

  test('/v1/chat/completions: prompt_tokens_details.cached_tokens is the sum, streamed and not', async () => {
    const m = uniq('chat');
    t.mock.enqueue(m, ...LOOP);
    const messages = [
      { role: 'system' as const, content: 'You add numbers.' },
      { role: 'user' as const, content: 'What is 2+3, plus 8?' },
    ];
    const plain = await client.chat.completions.create({ model: `a/${m}`, messages, tools: [mcp] as never });
    assert.equal(plain.choices[0]?.message.content, 'The total is 13.');
    assertBreakpoints(m, 1);
    assert.deepEqual(plain.usage?.prompt_tokens_details, { cached_tokens: 2500 });
    assert.deepEqual([plain.usage?.prompt_tokens, plain.usage?.completion_tokens], [3900, 46]);

    const s = uniq('chat-stream');
    t.mock.enqueue(s, ...LOOP);
    const stream = await client.chat.completions.create({
      model: `a/${s}`,
      messages,
      tools: [mcp] as never,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'The total is 13.');
    assertBreakpoints(s, 1);
    assert.deepEqual(usage?.prompt_tokens_details, { cached_tokens: 2500 });
  });
});
