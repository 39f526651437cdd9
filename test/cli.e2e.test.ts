/**
 * The `toolgate` command as a user runs it: flags, errors, a real server process with a config file,
 * zero-config from the environment, the first run (no key, no file: a local Ollama's models), and a
 * clean shutdown.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startMockProvider, type MockProvider } from '../fixtures/mock-provider.ts';
import { ollamaBase } from '../src/config/ollama.ts';

const BIN = fileURLToPath(new URL('../bin/toolgate.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'toolgate-cli-'));
let mock: MockProvider;

before(async () => {
  mock = await startMockProvider();
});
after(() => mock.close());

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });
}

/** Starts `toolgate serve`, resolves with its URL once the startup line says it listens. */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir): Promise<{ url: string; child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const rl = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      const j = JSON.parse(line);
      if (j.url) resolve(j.url);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { url, child, lines };
}

describe('flags', () => {
  test('--help and --version', () => {
    const h = run(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /Usage: toolgate \[serve\]/);
    assert.match(h.stdout, /--config <file>/);
    const v = run(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  test('a bad flag is a one-line error', () => {
    const r = run(['--bogus']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^toolgate: Unknown option '--bogus'/);
    const p = run(['serve', '--port', 'abc']);
    assert.equal(p.status, 2);
    assert.match(p.stderr, /--port must be a number/);
  });

  test('a missing config file is a one-line error', () => {
    const r = run(['serve', '--config', 'nope.yaml']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'toolgate: config file not found: nope.yaml');
  });

  test('an invalid config names the bad key', () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/UNSET_KEY_FOR_TEST}\n');
    const r = run(['serve', '--config', p]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /model_list\[0\]\.litellm_params\.api_key: environment variable UNSET_KEY_FOR_TEST is not set/);
  });
});

describe('serving', () => {
  test('with a config file: the SDK works, /v1/models lists names and wildcard expansions, SIGTERM stops it', async () => {
    const p = join(dir, 'toolgate.yaml');
    writeFileSync(
      p,
      [
        'model_list:',
        '  - model_name: my-model',
        `    litellm_params: {model: openai/mock-small, api_base: "${mock.openaiBase}", api_key: os.environ/MOCK_KEY}`,
        '  - model_name: "mock/*"',
        `    litellm_params: {model: "openai/*", api_base: "${mock.openaiBase}", api_key: os.environ/MOCK_KEY}`,
        'general_settings:',
        '  master_key: os.environ/GW_KEY',
        `  database_url: "sqlite:${join(dir, 'store.db')}"`,
        'mystery_key: 1',
        '',
      ].join('\n'),
    );
    const { url, child, lines } = await serve(['--config', p], { MOCK_KEY: 'sk-mock-cli', GW_KEY: 'gw-key' });
    try {
      const startup = lines.map((l) => JSON.parse(l)).find((l) => l.url);
      assert.deepEqual(startup.models, ['my-model', 'mock/*']);
      assert.match(startup.store, /store\.db$/);
      assert.ok(lines.some((l) => /mystery_key: unknown key, ignored/.test(l)));
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'gw-key', maxRetries: 0 });
      const r = await client.responses.create({ model: 'my-model', input: 'ping' });
      assert.equal(r.output_text, 'echo: ping');
      const models = await client.models.list();
      const ids = models.data.map((m) => m.id).sort();
      assert.deepEqual(ids, ['mock/claude-mock-1', 'mock/mock-large', 'mock/mock-small', 'my-model']);
      assert.ok(models.data.every((m) => m.object === 'model' && typeof m.owned_by === 'string'));
      const ready = (await (await fetch(`${url}/health/readiness`)).json()) as { status: string };
      assert.equal(ready.status, 'ready');
    } finally {
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    }
    assert.ok(!lines.join('\n').includes('sk-mock-cli'));
    assert.ok(!lines.join('\n').includes('gw-key'));
  });

  test('zero config: OPENAI_API_KEY and OPENAI_BASE_URL route any model name', async () => {
    // a folder with no toolgate.yaml in it
    const empty = mkdtempSync(join(tmpdir(), 'toolgate-zero-'));
    const { url, child } = await serve([], { OPENAI_API_KEY: 'sk-zero', OPENAI_BASE_URL: mock.openaiBase }, empty);
    try {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'anything-at-all', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.choices[0]!.message.content, 'echo: hi');
      assert.equal(mock.requestsFor('anything-at-all')[0]!.headers.authorization, 'Bearer sk-zero');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

describe('first run: no provider key, no config file', () => {
  const startupLine = (lines: string[]) => lines.map((l) => JSON.parse(l)).find((l) => l.url);
  const assertHint = (hint: unknown) => {
    assert.equal(typeof hint, 'string');
    for (const way of [/OPENAI_API_KEY/, /ANTHROPIC_API_KEY/, /toolgate\.yaml/, /OLLAMA_HOST/]) assert.match(hint as string, way);
  };

  test('OLLAMA_HOST is read as Ollama reads it: host[:port] without a scheme, or a URL', () => {
    assert.equal(ollamaBase(undefined), 'http://127.0.0.1:11434/v1');
    assert.equal(ollamaBase(' '), 'http://127.0.0.1:11434/v1');
    assert.equal(ollamaBase('0.0.0.0'), 'http://127.0.0.1:11434/v1');
    assert.equal(ollamaBase(':8080'), 'http://127.0.0.1:8080/v1');
    assert.equal(ollamaBase('gpu-box:8080'), 'http://gpu-box:8080/v1');
    assert.equal(ollamaBase('https://ollama.example.com'), 'https://ollama.example.com/v1');
    assert.equal(ollamaBase('http://127.0.0.1:11434/'), 'http://127.0.0.1:11434/v1');
    assert.equal(ollamaBase('http://proxy.local/ollama'), 'http://proxy.local/ollama/v1');
    assert.equal(ollamaBase('http://'), undefined);
  });

  test('the models of the server at OLLAMA_HOST are listed and served; the startup line says how to add a model', { timeout: 30_000 }, async () => {
    const ollama = await startMockProvider();
    ollama.models = ['llama3.2:latest', 'qwen3:8b'];
    // Ollama's own form of the variable: host:port, no scheme
    const { url, child, lines } = await serve([], { OLLAMA_HOST: new URL(ollama.url).host }, mkdtempSync(join(tmpdir(), 'toolgate-first-')));
    try {
      const startup = startupLine(lines);
      assertHint(startup.hint);
      assert.deepEqual(startup.models, ['llama3.2:latest', 'qwen3:8b']);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
      const models = (await client.models.list()).data;
      assert.deepEqual(
        models.map((m) => [m.id, m.owned_by]),
        [
          ['llama3.2:latest', 'ollama'],
          ['qwen3:8b', 'ollama'],
        ],
      );
      const r = await client.chat.completions.create({ model: 'qwen3:8b', messages: [{ role: 'user', content: 'hello ollama' }] });
      assert.equal(r.choices[0]!.message.content, 'echo: hello ollama');
      assert.deepEqual(
        ollama.requests.map((q) => [q.path, q.model]),
        [['/v1/chat/completions', 'qwen3:8b']],
      );
      // names the server does not list are not sent to it
      await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await ollama.close();
    }
  });

  test('with nothing answering at OLLAMA_HOST it starts all the same, with the hint and no model', { timeout: 30_000 }, async () => {
    // A port nobody listens on, and a server that takes connections but never answers (discovery must time out).
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      for (const host of [`127.0.0.1:${closedPort}`, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`]) {
        const { url, child, lines } = await serve([], { OLLAMA_HOST: host }, mkdtempSync(join(tmpdir(), 'toolgate-first-')));
        try {
          const startup = startupLine(lines);
          assertHint(startup.hint);
          assert.deepEqual(startup.models, []);
          const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
          assert.deepEqual((await client.models.list()).data, []);
          await assert.rejects(client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
        } finally {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      }
      assert.ok(sockets.length > 0, 'discovery reached the silent server');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
