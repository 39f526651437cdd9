/** Starts a mock provider and an in-process gateway routed to it; one of each per test file. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import OpenAI6 from 'openai6';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { startMockProvider, type MockProvider } from '../../fixtures/mock-provider.ts';
import { validateResponseStream } from './validate-stream.ts';

export interface TestGateway {
  mock: MockProvider;
  gw: RunningServer;
  /** Every log line the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  rawLogs: string[];
  close(): Promise<void>;
}

/** Routes: `r/<name>` to the mock as OpenAI Responses, `c/<name>` as an OpenAI-compatible Chat server, `a/<name>` as Anthropic. */
/** The model-name prefix `mockRoutes` gives each provider kind, and the API the mock sees it as. */
export const PROVIDER_KINDS = [
  { prefix: 'r', api: 'responses' },
  { prefix: 'c', api: 'chat' },
  { prefix: 'a', api: 'anthropic' },
] as const;

export function mockRoutes(mock: MockProvider) {
  return [
    {
      model_name: 'r/*',
      litellm_params: { model: 'openai/*', api_base: mock.openaiBase, api_key: 'sk-mock-responses', api_mode: 'responses', max_retries: 1 },
    },
    { model_name: 'c/*', litellm_params: { model: 'openai/*', api_base: mock.openaiBase, api_key: 'sk-mock-chat', max_retries: 1 } },
    { model_name: 'a/*', litellm_params: { model: 'anthropic/*', api_base: mock.url, api_key: 'sk-ant-mock', max_retries: 1 } },
  ];
}

export function memoryLogger() {
  const rawLogs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      rawLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug', base: undefined }, stream), rawLogs };
}

export async function startTestGateway(
  extra: { model_list?: unknown[] | ((mock: MockProvider) => unknown[]); general_settings?: Record<string, unknown>; [k: string]: unknown } = {},
): Promise<TestGateway> {
  const mock = await startMockProvider();
  const { model_list: entries = [], general_settings = {}, ...rest } = extra;
  // Entries that need the mock's URL in a form of their own are built from it.
  const model_list = typeof entries === 'function' ? entries(mock) : entries;
  const loaded = loadConfig({
    raw: {
      // `api_base: MOCK` in an extra entry means the mock's OpenAI base URL.
      model_list: [...JSON.parse(JSON.stringify(model_list).replaceAll('"MOCK"', JSON.stringify(mock.openaiBase))), ...mockRoutes(mock)],
      general_settings: { database_url: 'sqlite::memory:', ...general_settings },
      ...rest,
    },
  });
  const { logger, rawLogs } = memoryLogger();
  const gw = await startServer({ loaded, port: 0, host: '127.0.0.1', logger });
  return {
    mock,
    gw,
    rawLogs,
    get logs() {
      return rawLogs.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

/** Parses an SSE body into frames. */
export function parseSse(text: string): { event?: string; data: string; comment?: boolean }[] {
  const frames: { event?: string; data: string; comment?: boolean }[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const lines = block.split('\n');
    if (lines.every((l) => l.startsWith(':'))) {
      frames.push({ data: '', comment: true });
      continue;
    }
    let event: string | undefined;
    const data: string[] = [];
    for (const l of lines) {
      if (l.startsWith('event: ')) event = l.slice(7);
      else if (l.startsWith('data: ')) data.push(l.slice(6));
    }
    frames.push({ event, data: data.join('\n') });
  }
  return frames;
}

/** The current openai SDK and v6, pointed at a gateway, without SDK retries (the gateway's own are tested). */
export function openaiClients(gatewayUrl: string, apiKey = 'unused'): { client: OpenAI; client6: OpenAI6 } {
  return {
    client: new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey, maxRetries: 0 }),
    client6: new OpenAI6({ baseURL: `${gatewayUrl}/v1`, apiKey, maxRetries: 0 }),
  };
}

/** POSTs a streamed /v1/responses request and checks its frames against the ordering rules. */
export async function streamResponse(gatewayUrl: string, body: Record<string, unknown>): Promise<ReturnType<typeof validateResponseStream>> {
  const res = await fetch(`${gatewayUrl}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return validateResponseStream(parseSse(await res.text()).filter((f) => !f.comment));
}

/** Writes a config file for a gateway run as a process (`toolgate serve|mcp --config`); returns its path. */
export function writeConfig(raw: Record<string, unknown>, dir = mkdtempSync(join(tmpdir(), 'toolgate-config-'))): string {
  const path = join(dir, 'toolgate.yaml');
  writeFileSync(path, stringify(raw));
  return path;
}

const BIN = fileURLToPath(new URL('../../bin/toolgate.js', import.meta.url));

/**
 * `toolgate serve --config <file>` as a process of its own, as a user runs it; resolves with its URL once its
 * startup line says it listens. `exited` settles with the exit code and signal.
 */
export async function serveProcess(config: string): Promise<{ url: string; child: ChildProcess; exited: Promise<[number | null, string | null]> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--config', config], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const j = JSON.parse(line);
      if (j.url && /listening/.test(j.msg)) resolve(j.url);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { url, child, exited };
}
