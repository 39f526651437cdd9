/**
 * An upstream that speaks only MCP 2026-07-28 (fixtures/modern-server.ts), over Streamable HTTP and stdio:
 * the gateway's client finds that out with `server/discover` and uses it everywhere an upstream is used:
 * `{type:"mcp"}` tools on /v1/responses, the aggregated /mcp and the /mcp/<server> pass-through, for
 * clients of either generation. Its `input_required` results (sampling, elicitation) reach a 2025-era
 * client as the server-to-client requests that generation knows.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttpTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, EmptyResultSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startModernHttpServer, waitCalls } from '../fixtures/modern-server.ts';
import { toolText } from './support/mcp.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { callThenAnswer } from './support/scripts.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let modern: Awaited<ReturnType<typeof startModernHttpServer>>;
let cached: Awaited<ReturnType<typeof startModernHttpServer>>;
let t: TestGateway;

before(async () => {
  modern = await startModernHttpServer();
  cached = await startModernHttpServer({ toolsTtlMs: 60_000 });
  t = await startTestGateway({
    mcp_servers: {
      modern: { url: modern.url },
      cached: { url: cached.url },
      modernio: { command: process.execPath, args: [`${root}fixtures/modern-server.ts`, 'stdio'] },
    },
  });
});
after(async () => {
  await t.close();
  await modern.close();
  await cached.close();
});

async function legacyClient(path: string, capabilities: Record<string, object> = {}): Promise<Client> {
  const c = new Client({ name: 'legacy-client', version: '1' }, { capabilities });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`)));
  return c;
}

async function modernClient(path: string): Promise<ModernClient> {
  const c = new ModernClient({ name: 'modern-client', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await c.connect(new ModernHttpTransport(new URL(`${t.gw.url}${path}`)));
  return c;
}

describe('the gateway as its client', () => {
  test('it speaks 2026-07-28 to it, over HTTP and stdio', async () => {
    const c = await legacyClient('/mcp');
    try {
      // Using both makes the gateway connect to both.
      assert.equal(toolText(await c.callTool({ name: 'modern-add', arguments: { a: 1, b: 1 } })), '2');
      assert.equal(toolText(await c.callTool({ name: 'modernio-add', arguments: { a: 2, b: 2 } })), '4');
    } finally {
      await c.close();
    }
    for (const name of ['modern', 'modernio']) assert.equal(t.gw.gateway.pool.get(name)!.session?.protocolVersion, '2026-07-28', name);
  });

  for (const server of ['modern', 'modernio'])
    test(`/v1/responses: an mcp tool on ${server} is discovered and auto-executed`, async () => {
      t.mock.always(
        `modern-${server}`,
        callThenAnswer([{ name: `${server}-add`, arguments: { a: 20, b: 22 } }], (o) => `It is ${o[0]!.split('\n')[0]}.`),
      );
      const res = await fetch(`${t.gw.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: `c/modern-${server}`,
          input: '20 + 22?',
          tools: [{ type: 'mcp', server_label: 'gw', server_url: `litellm_proxy/mcp/${server}`, require_approval: 'never' }],
        }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { output: { type: string; name?: string; output?: string; tools?: { name: string }[] }[]; output_text?: string };
      const listed = body.output.find((o) => o.type === 'mcp_list_tools')!;
      assert.ok(listed.tools!.some((x) => x.name === 'add'));
      const call = body.output.find((o) => o.type === 'mcp_call')!;
      assert.equal(call.name, 'add');
      assert.match(call.output!, /^42/);
      assert.equal(body.output.at(-1)!.type, 'message');
    });
});

describe('cancellation', () => {
  test('a 2025-era client that gives up on a call cancels it on the 2026-07-28 upstream', async () => {
    const c = await legacyClient('/mcp');
    try {
      const abort = new AbortController();
      const started = once(waitCalls, 'started');
      const ended = once(waitCalls, 'ended');
      const call = c.callTool({ name: 'modern-wait', arguments: { ms: 30_000 } }, undefined, { signal: abort.signal }).catch((e: unknown) => e);
      await started;
      abort.abort();
      assert.deepEqual(await ended, [true]);
      assert.ok((await call) instanceof Error);
    } finally {
      await c.close();
    }
  });
});

describe('list caching hints', () => {
  test('a tools/list is reused for its ttlMs, and listed again at each use when it is 0', async () => {
    const uses = async (name: string) => {
      const upstream = t.gw.gateway.pool.get(name)!;
      for (let i = 0; i < 3; i++) assert.ok((await upstream.listTools()).some((x) => x.name === 'add'));
    };
    const [coldStale, coldCached] = [modern.toolsListed(), cached.toolsListed()];
    await uses('modern');
    await uses('cached');
    assert.equal(modern.toolsListed() - coldStale, 3, 'ttlMs 0: immediately stale');
    assert.ok(cached.toolsListed() - coldCached <= 1, 'ttlMs 60000: listed once at most');
  });
});

describe('/mcp (aggregated)', () => {
  test('a 2025-era client and a 2026-07-28 client use its tools, resources and prompts', async () => {
    for (const c of [await legacyClient('/mcp'), await modernClient('/mcp')]) {
      try {
        const names = (await c.listTools()).tools.map((x) => x.name);
        assert.ok(names.includes('modern-add') && names.includes('modernio-echo'), names.join());
        const sum = await c.callTool({ name: 'modern-add', arguments: { a: 40, b: 2 } });
        assert.deepEqual(sum.structuredContent, { sum: 42 });
        const read = await c.readResource({ uri: 'modern://greeting' });
        assert.equal((read.contents[0] as { text: string }).text, 'hello from 2026');
        const item = await c.readResource({ uri: 'modern://items/7' });
        assert.equal((item.contents[0] as { text: string }).text, 'item 7');
        const prompt = await c.getPrompt({ name: 'modern-greet', arguments: { name: 'Ada' } });
        assert.match(JSON.stringify(prompt.messages), /Say hello to Ada/);
      } finally {
        await c.close();
      }
    }
  });
});

describe('/mcp/<server> (pass-through)', () => {
  for (const server of ['modern', 'modernio'])
    test(`a 2025-era client and a 2026-07-28 client use ${server} as it is`, async () => {
      for (const c of [await legacyClient(`/mcp/${server}`), await modernClient(`/mcp/${server}`)]) {
        try {
          assert.equal(c.getServerVersion()?.name, 'modern-fixture');
          const names = (await c.listTools()).tools.map((x) => x.name);
          assert.deepEqual(names.sort(), ['add', 'ask_model', 'confirm', 'echo', ...(server === 'modern' ? ['touch'] : []), 'wait']);
          assert.equal(toolText(await c.callTool({ name: 'echo', arguments: { text: 'both ways' } })), 'both ways');
          const item = await c.readResource({ uri: 'modern://items/3' });
          assert.equal((item.contents[0] as { text: string }).text, 'item 3');
          const prompt = await c.getPrompt({ name: 'greet', arguments: { name: 'Lin' } });
          assert.match(JSON.stringify(prompt.messages), /Lin/);
        } finally {
          await c.close();
        }
      }
    });

  test("a 2025-era client's resource subscription becomes a subscriptions/listen stream upstream", async () => {
    const c = await legacyClient('/mcp/modern');
    try {
      let heard!: (uri: string) => void;
      const updated = new Promise<string>((resolve) => (heard = resolve));
      c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => heard(n.params.uri));
      await c.subscribeResource({ uri: 'modern://greeting' });
      await c.callTool({ name: 'touch', arguments: { uri: 'modern://greeting' } });
      assert.equal(await updated, 'modern://greeting');
      await c.unsubscribeResource({ uri: 'modern://greeting' });
    } finally {
      await c.close();
    }
  });

  test('a 2025-era method the 2026-07-28 server has no counterpart for gets a clear error', async () => {
    // modernio offers no resource subscriptions, so resources/subscribe is forwarded as it is.
    const c = await legacyClient('/mcp/modernio');
    try {
      await assert.rejects(
        c.request({ method: 'resources/subscribe', params: { uri: 'modern://greeting' } }, EmptyResultSchema),
        (e: Error & { code?: number }) =>
          e.code === -32601 && /modernio: resources\/subscribe does not exist in the MCP generation the server speaks/.test(e.message),
      );
    } finally {
      await c.close();
    }
  });

  test("its sampling and elicitation reach a 2025-era client as that client's own requests", async () => {
    const c = await legacyClient('/mcp/modern', { sampling: {}, elicitation: {} });
    const asked: string[] = [];
    c.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      asked.push(`sampling: ${JSON.stringify(req.params.messages[0]!.content)}`);
      return { role: 'assistant', model: 'client-model', content: { type: 'text', text: 'blue' } };
    });
    c.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(`elicitation: ${req.params.message}`);
      return { action: 'accept', content: { ok: true } };
    });
    try {
      assert.equal(toolText(await c.callTool({ name: 'ask_model', arguments: { question: 'What colour is the sky?' } })), 'the model said: blue');
      assert.equal(toolText(await c.callTool({ name: 'confirm', arguments: { what: 'the deploy' } })), 'accept: {"ok":true}');
      assert.deepEqual(asked, ['sampling: {"type":"text","text":"What colour is the sky?"}', 'elicitation: Go ahead with the deploy?']);
    } finally {
      await c.close();
    }
  });
});
