/** Runs the real Codex CLI (`codex exec`) against a gateway, in a throwaway home. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CODEX_BIN = createRequire(import.meta.url).resolve('@openai/codex/bin/codex.js');

export interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The `--json` events, in order. */
  events: any[];
  /** What `--output-last-message` wrote ('' when the turn did not finish). */
  lastMessage: string;
  stderr: string;
}

export interface CodexOptions {
  /** The gateway's base URL, without `/v1`. */
  gatewayUrl: string;
  apiKey: string;
  model: string;
  prompt: string;
  timeoutMs?: number;
}

/**
 * `codex exec --json` with a custom Responses provider pointed at the gateway. Every switch that
 * would reach the internet is off (`--strict-config` makes a misspelt one an error), so the gateway
 * is the only thing Codex talks to.
 */
export async function runCodex({ gatewayUrl, apiKey, model, prompt, timeoutMs = 60_000 }: CodexOptions): Promise<CodexRun> {
  const home = mkdtempSync(join(tmpdir(), 'toolgate-codex-'));
  const codexHome = join(home, '.codex');
  const cwd = join(home, 'work');
  const lastMessageFile = join(home, 'last-message.txt');
  mkdirSync(codexHome);
  mkdirSync(cwd);
  writeFileSync(
    join(codexHome, 'config.toml'),
    `model = ${JSON.stringify(model)}
model_provider = "toolgate"
approval_policy = "never"
check_for_update_on_startup = false

[model_providers.toolgate]
name = "toolgate"
base_url = ${JSON.stringify(`${gatewayUrl}/v1`)}
env_key = "TOOLGATE_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 20000

[features]
plugins = false # else it syncs a plugin catalogue from github.com and chatgpt.com at startup

[analytics]
enabled = false
`,
  );
  // The commands the tests run only print, so the strictest sandbox will do; Codex's Linux sandbox
  // (its bundled bubblewrap plus seccomp) works here, as root in a container.
  const args = ['exec', '--json', '--strict-config', '--skip-git-repo-check', '--sandbox', 'read-only', '--output-last-message', lastMessageFile, prompt];
  // A bare environment: no proxy variables, no real OpenAI key, nothing from the developer's own Codex setup.
  const env = { PATH: process.env.PATH, HOME: home, CODEX_HOME: codexHome, TOOLGATE_API_KEY: apiKey };
  try {
    const child = spawn(process.execPath, [CODEX_BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    const events = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    let lastMessage = '';
    try {
      lastMessage = readFileSync(lastMessageFile, 'utf8');
    } catch {}
    return { code, signal, events, lastMessage, stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A one-line account of a run, for assertion messages. */
export function describeRun(run: CodexRun): string {
  // Not `error` items: Codex uses those for warnings (such as "Model metadata for ... not found").
  const failures = run.events.filter((e) => e.type === 'turn.failed' || e.type === 'error').map((e) => JSON.stringify(e));
  return `codex exited ${run.signal ?? run.code}; ${failures.join(' ') || 'no error events'}; stderr: ${run.stderr.trim().slice(-2000)}`;
}
