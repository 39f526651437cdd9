/**
 * Both MCP generations on the same URLs: an SDK 2.x client pinned to 2026-07-28 (no session: every
 * request carries its version and capabilities), one in `auto` mode (which probes `server/discover`),
 * and one in `legacy` mode (the 2025 `initialize` session), through `/mcp`, `/mcp/<server>` and
 * `toolgate mcp` on stdio.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startConformanceServer } from '../fixtures/conformance-server.ts';
import { fixtureState, slowCalls, startFixtureHttpServer } from '../fixtures/mcp-server.ts';
import { toolText } from './support/mcp.ts';
import { startTestGateway, writeConfig, type TestGateway } from './support/gateway.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const everything = { command: process.execPath, args: [`${root}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'stdio'] };
let fixture: Awaited<ReturnType<typeof startFixtureHttpServer>>;
let asking: Awaited<ReturnType<typeof startConformanceServer>>;
let t: TestGateway;

before(async () => {
  fixture = await startFixtureHttpServer();
  // A 2025-era upstream whose tools ask their client for a sampling and an elicitation.
  asking = await startConformanceServer();
  t = await startTestGateway({ mcp_servers: { fixture: { url: fixture.url }, everything, asking: { url: asking.url } } });
});
after(async () => {
  await t.close();
  await fixture.close();
  await asking.close();
});

type Mode = 'legacy' | 'auto' | { pin: string };

async function connect(path: string, mode: Mode): Promise<Client> {
  const c = new Client({ name: 'generations-test', version: '1' }, { versionNegotiation: { mode } });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`)));
  return c;
}

const MODES: [string, Mode, string][] = [
  ['pinned to 2026-07-28', { pin: '2026-07-28' }, '2026-07-28'],
  ['auto', 'auto', '2026-07-28'],
  ['legacy', 'legacy', '2025-11-25'],
];

describe('/mcp (aggregated)', () => {
  for (const [label, mode, version] of MODES)
    test(`an SDK 2.x client ${label} lists and calls tools, reads resources, gets prompts`, async () => {
      const c = await connect('/mcp', mode);
      try {
        assert.equal(c.getNegotiatedProtocolVersion(), version);
        const names = (await c.listTools()).tools.map((x) => x.name);
        for (const n of ['chat', 'fixture-add', 'everything-echo']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
        const sum = await c.callTool({ name: 'fixture-add', arguments: { a: 40, b: 2 } });
        assert.equal(toolText(sum), '42');
        assert.deepEqual(sum.structuredContent, { sum: 42 });
        const chat = await c.callTool({ name: 'chat', arguments: { model: 'c/mcp-chat', messages: [{ role: 'user', content: 'hello there' }] } });
        assert.equal(toolText(chat), 'echo: hello there');
        const templated = await c.readResource({ uri: 'demo://resource/dynamic/text/7' });
        assert.match(JSON.stringify(templated.contents), /7/);
        const prompt = await c.getPrompt({ name: 'everything-args-prompt', arguments: { city: 'Oslo' } });
        assert.match(JSON.stringify(prompt.messages), /Oslo/);
        await assert.rejects(c.callTool({ name: 'fixture-nope', arguments: {} }), /not found/);
      } finally {
        await c.close();
      }
    });
});

describe("each 2026-07-28 request's own headers", () => {
  test('reach the upstream (x-mcp-<server>-<header>), request by request', async () => {
    for (const tenant of ['acme', 'globex']) {
      const c = new Client({ name: 'headers', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp`), { requestInit: { headers: { 'x-mcp-fixture-x-tenant': tenant } } }));
      try {
        const before = fixtureState().calls.length;
        assert.equal(toolText(await c.callTool({ name: 'fixture-echo', arguments: { text: tenant } })), tenant);
        const seen = fixtureState()
          .calls.slice(before)
          .find((x) => x.name === 'echo')!;
        assert.equal(seen.headers?.['x-tenant'], tenant);
      } finally {
        await c.close();
      }
    }
  });
});

describe('/mcp/<server> (pass-through)', () => {
  for (const [label, mode, version] of MODES)
    test(`an SDK 2.x client ${label} uses one upstream as it is`, async () => {
      const c = await connect('/mcp/everything', mode);
      try {
        assert.equal(c.getNegotiatedProtocolVersion(), version);
        assert.equal(c.getServerVersion()?.name, 'mcp-servers/everything');
        const names = (await c.listTools()).tools.map((x) => x.name);
        assert.ok(names.includes('echo') && names.includes('get-sum'), names.join());
        assert.equal(toolText(await c.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })), 'The sum of 2 and 3 is 5.');
        const read = await c.readResource({ uri: 'demo://resource/dynamic/text/3' });
        assert.match(JSON.stringify(read.contents), /3/);
        const prompt = await c.getPrompt({ name: 'args-prompt', arguments: { city: 'Lima' } });
        assert.match(JSON.stringify(prompt.messages), /Lima/);
      } finally {
        await c.close();
      }
    });
});

describe('across generations: progress, list changes', () => {
  test("a 2026-07-28 client gets a 2025 upstream's progress on its call", async () => {
    for (const path of ['/mcp', '/mcp/everything']) {
      const c = await connect(path, { pin: '2026-07-28' });
      try {
        const name = path === '/mcp' ? 'everything-trigger-long-running-operation' : 'trigger-long-running-operation';
        const progress: number[] = [];
        const r = await c.callTool({ name, arguments: { duration: 0.2, steps: 3 } }, { onprogress: (p) => progress.push(p.progress) });
        assert.match(toolText(r), /completed/i);
        // The last step's notification may be lost: the SDK 2.x client (2.4) hands notifications to their
        // handlers a microtask late, and forgets a request's progress handler as its response arrives, so a
        // last progress read in the same chunk as the response is dropped before any relay sees it.
        assert.deepEqual(progress.slice(0, 2), [1, 2], path);
        assert.ok(progress.length <= 3 && progress.every((p, i) => p === i + 1), `${path}: ${progress}`);
      } finally {
        await c.close();
      }
    }
  });

  test("a 2026-07-28 client listening for a resource on /mcp/<server> hears a 2025 upstream's resources/updated", async () => {
    const c = await connect('/mcp/asking', { pin: '2026-07-28' });
    try {
      let heard!: (uri: string) => void;
      const updated = new Promise<string>((resolve) => (heard = resolve));
      c.setNotificationHandler('notifications/resources/updated', (n) => heard(n.params.uri));
      const subscription = await c.listen({ resourceSubscriptions: ['test://watched-resource'] });
      assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, ['test://watched-resource']);
      assert.equal(toolText(await c.callTool({ name: 'touch_watched', arguments: {} })), 'touched test://watched-resource');
      assert.equal(await updated, 'test://watched-resource');
      await subscription.close();
    } finally {
      await c.close();
    }
  });

  test("a 2026-07-28 client listening on /mcp hears of an upstream's tool list change", async () => {
    const c = await connect('/mcp', { pin: '2026-07-28' });
    try {
      let heard!: () => void;
      const changed = new Promise<void>((resolve) => (heard = resolve));
      c.setNotificationHandler('notifications/tools/list_changed', () => heard());
      const subscription = await c.listen({ toolsListChanged: true });
      await c.callTool({ name: 'fixture-add_tool', arguments: { name: 'fresh' } });
      await changed;
      await subscription.close();
      assert.ok((await c.listTools()).tools.some((x) => x.name === 'fixture-fresh'));
    } finally {
      await c.close();
    }
  });
});

describe('a 2025-era upstream asking a 2026-07-28 client, through /mcp/<server>', () => {
  test('its sampling and elicitation requests reach the client as input_required, and its answers reach the upstream', async () => {
    const c = new Client(
      { name: 'asked', version: '1' },
      { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const asked: string[] = [];
    c.setRequestHandler('sampling/createMessage', async (req) => {
      asked.push(`sampling: ${JSON.stringify(req.params.messages[0]!.content)}`);
      return { role: 'assistant', model: 'client-model', content: { type: 'text', text: 'forty-two' } };
    });
    c.setRequestHandler('elicitation/create', async (req) => {
      asked.push(`elicitation: ${req.params.message}`);
      return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } };
    });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp/asking`)));
    try {
      assert.equal(c.getNegotiatedProtocolVersion(), '2026-07-28');
      assert.equal(toolText(await c.callTool({ name: 'test_sampling', arguments: { prompt: 'The answer?' } })), 'LLM response: forty-two');
      assert.match(toolText(await c.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } })), /ada@example\.com/);
      assert.deepEqual(asked, ['sampling: {"type":"text","text":"The answer?"}', 'elicitation: Who are you?']);
      // A client that declares no such capability is not asked: the upstream's request fails, as it would without the gateway.
      const plain = new Client({ name: 'plain', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await plain.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}/mcp/asking`)));
      try {
        const r = await plain
          .callTool({ name: 'test_sampling', arguments: { prompt: 'x' } })
          .catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }));
        assert.equal((r as { isError?: boolean }).isError, true, JSON.stringify(r));
      } finally {
        await plain.close();
      }
    } finally {
      await c.close();
    }
  });

  test('a requestState this replica does not hold is refused as expired', async () => {
    const res = await fetch(`${t.gw.url}/mcp/asking`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_sampling',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'test_sampling',
          arguments: { prompt: 'x' },
          requestState: 'not-a-parked-call',
          inputResponses: {},
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
          },
        },
      }),
    });
    const body = (await res.json()) as { error?: { code: number; message: string } };
    assert.equal(body.error?.code, -32602, JSON.stringify(body));
    assert.match(body.error!.message, /requestState/);
  });
});

describe('cancellation across generations', () => {
  test('a 2026-07-28 client that gives up on a call cancels it on the 2025 upstream', async () => {
    for (const [path, name] of [
      ['/mcp', 'fixture-slow'],
      ['/mcp/fixture', 'slow'],
    ] as const) {
      const c = await connect(path, { pin: '2026-07-28' });
      try {
        const abort = new AbortController();
        const started = once(slowCalls, 'started');
        const ended = once(slowCalls, 'ended');
        const call = c.callTool({ name, arguments: { ms: 30_000 } }, { signal: abort.signal }).catch((e: unknown) => e);
        await started;
        abort.abort();
        const [cancelled] = await ended;
        assert.equal(cancelled, true, path);
        assert.ok((await call) instanceof Error, path);
      } finally {
        await c.close();
      }
    }
  });
});

describe('no sessions in 2026-07-28', () => {
  test('a 2026-07-28 client whose requests alternate between two gateway processes is served by both', async () => {
    const other = await startTestGateway({ mcp_servers: { fixture: { url: fixture.url }, everything } });
    try {
      const origins = [new URL(t.gw.url).origin, new URL(other.gw.url).origin];
      const served: string[] = [];
      let next = 0;
      const alternate = (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : input);
        const origin = origins[next++ % 2]!;
        served.push(origin);
        return fetch(`${origin}${url.pathname}${url.search}`, init);
      };
      for (const path of ['/mcp', '/mcp/everything']) {
        const c = new Client({ name: 'balanced', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
        await c.connect(new StreamableHTTPClientTransport(new URL(`${t.gw.url}${path}`), { fetch: alternate }));
        try {
          for (let i = 0; i < 3; i++) assert.ok((await c.listTools()).tools.length > 0);
          const name = path === '/mcp' ? 'everything-get-sum' : 'get-sum';
          assert.equal(toolText(await c.callTool({ name, arguments: { a: 1, b: 2 } })), 'The sum of 1 and 2 is 3.');
        } finally {
          await c.close();
        }
      }
      assert.ok(origins.every((o) => served.includes(o)));
    } finally {
      await other.close();
    }
  });
});

describe('toolgate mcp (stdio)', () => {
  for (const [label, mode, version] of MODES)
    test(`an SDK 2.x client ${label} uses the aggregated server`, async () => {
      const config = writeConfig({
        model_list: [{ model_name: 'c/*', litellm_params: { model: 'openai/*', api_base: t.mock.openaiBase, api_key: 'sk-x' } }],
        mcp_servers: { fixture: { url: fixture.url }, everything },
        general_settings: { database_url: 'sqlite::memory:' },
      });
      const c = new Client({ name: 'generations-test', version: '1' }, { versionNegotiation: { mode } });
      await c.connect(new StdioClientTransport({ command: process.execPath, args: [`${root}bin/toolgate.js`, 'mcp', '--config', config], stderr: 'pipe' }));
      try {
        assert.equal(c.getNegotiatedProtocolVersion(), version);
        assert.equal(toolText(await c.callTool({ name: 'fixture-add', arguments: { a: 1, b: 2 } })), '3');
        const prompt = await c.getPrompt({ name: 'everything-args-prompt', arguments: { city: 'Kyiv' } });
        assert.match(JSON.stringify(prompt.messages), /Kyiv/);
        const read = await c.readResource({ uri: 'demo://resource/dynamic/text/9' });
        assert.match(JSON.stringify(read.contents), /9/);
      } finally {
        await c.close();
      }
    });
});
