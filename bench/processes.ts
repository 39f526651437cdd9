/**
 * The processes under test, each in its own OS process so that this one only drives load: the mock
 * provider, the fixture MCP server, and gateways started as a user starts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Node before 22.18 needs a flag to run TypeScript; passing it here keeps the child's pid the gateway's own. */
const typeStripFlags = process.features.typescript ? [] : ['--experimental-strip-types', '--no-warnings=ExperimentalWarning'];

const STARTUP_TIMEOUT_MS = 30_000;

export interface Service {
  name: string;
  url: string;
  pid: number;
  /** How it ended if it is no longer running (`exit 1`, `SIGTERM`), else undefined. */
  ended(): string | undefined;
  stop(): Promise<void>;
}

export interface Gateway extends Service {
  /** performance.now() when its startup line was seen. */
  readyAt: number;
}

function howEnded(child: ChildProcess): string | undefined {
  if (child.signalCode !== null) return child.signalCode;
  return child.exitCode !== null ? `exit ${child.exitCode}` : undefined;
}

/** Throws if any of the services is no longer running: the samples after that would measure nothing. */
export function assertRunning(services: Service[]): void {
  const gone = services.filter((s) => s.ended()).map((s) => `${s.name} (pid ${s.pid}: ${s.ended()})`);
  if (gone.length) throw new Error(`stopped mid-run, not by the benchmark: ${gone.join(', ')}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (howEnded(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a fixture script that prints its URL as its first line on stdout. */
export async function startFixture(name: string, script: string, args: string[]): Promise<Service> {
  const child = spawn(process.execPath, [...typeStripFlags, join(repoRoot, script), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', (line) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before printing its URL`)));
  });
  lines.close();
  child.stdout!.resume();
  return { name, url, pid: child.pid!, ended: () => howEnded(child), stop: () => stopChild(child) };
}

/** The `url` of the gateway's startup log line, once the log holds it. */
function startupUrl(logText: string): string | undefined {
  for (const line of logText.split('\n')) {
    if (!line.includes('"url"')) continue;
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      if (typeof url === 'string') return url;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** A gateway that is gone before it was stopped crashed: say so, with the end of its log, before the log is removed. */
function reportEarlyExit(child: ChildProcess, logPath: string): void {
  const log = readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  process.stderr.write(`! the gateway (pid ${child.pid}) ended on its own (${howEnded(child)}); the end of its log:\n${log}\n`);
}

export interface ConfigParts {
  mockUrl: string;
  /** MCP servers by name, each a Streamable HTTP URL. */
  mcpServers: Record<string, string>;
  /** Extra top-level YAML lines. */
  extra?: string[];
}

/**
 * The gateway's config for the benchmark: `c/*` to the mock as Chat, `r/*` as Responses, `gem/*` as the
 * Gemini API, `bed/*` as Bedrock (SigV4-signed), the default store.
 */
export function gatewayConfig(parts: ConfigParts): string {
  const api = `${parts.mockUrl}/v1`;
  const servers = Object.entries(parts.mcpServers).map(([name, url]) => `  ${name}: {url: "${url}"}`);
  return [
    'model_list:',
    `  - {model_name: "c/*", litellm_params: {model: "openai/*", api_base: "${api}", api_key: sk-bench, api_mode: chat}}`,
    `  - {model_name: "r/*", litellm_params: {model: "openai/*", api_base: "${api}", api_key: sk-bench, api_mode: responses}}`,
    `  - {model_name: "gem/*", litellm_params: {model: "gemini/*", api_base: "${parts.mockUrl}", api_key: bench-gemini}}`,
    `  - {model_name: "bed/*", litellm_params: {model: "bedrock/*", api_base: "${parts.mockUrl}", aws_region_name: us-east-1, aws_access_key_id: AKIDBENCH, aws_secret_access_key: bench-secret}}`,
    ...(servers.length ? ['mcp_servers:', ...servers] : []),
    ...(parts.extra ?? []),
    '',
  ].join('\n');
}

const LAUNCHER = join(repoRoot, 'bin/toolgate.js');

/** The Node flags on the launcher's `#!` line: `npx toolgate` and `./bin/toolgate.js` run it with them. */
function launcherFlags(): string[] {
  const shebang = readFileSync(LAUNCHER, 'utf8').split('\n', 1)[0]!;
  const flags = /^#!.*\bnode\b(.*)$/.exec(shebang)?.[1] ?? '';
  return flags.split(/\s+/).filter(Boolean);
}

function newestMtimeMs(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((newest, e) => Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs), 0);
}

/** How gateways are started, for the report: the command, and whether the launcher picks dist/ or src/ (its own rule). */
export function gatewayLaunch(): string {
  const dist = join(repoRoot, 'dist/cli/main.js'); // the file bin/toolgate.js checks
  const compiled = existsSync(dist) && statSync(dist).mtimeMs >= newestMtimeMs(join(repoRoot, 'src'));
  return `node ${[...launcherFlags(), 'bin/toolgate.js'].join(' ')} serve --config toolgate.yaml (runs ${compiled ? 'dist/, compiled' : 'src/, type-stripped'})`;
}

/**
 * `node bin/toolgate.js serve --config toolgate.yaml --port 0`, with the flags of its `#!` line, in a
 * fresh temporary working directory, so its default store (`.toolgate/toolgate.db`) and its log file
 * land there and go away with it. The log goes to a file, not a pipe to this process, so reading it
 * costs the load generator nothing.
 */
export async function startGateway(configYaml: string): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench-gw-'));
  writeFileSync(join(dir, 'toolgate.yaml'), configYaml);
  const logPath = join(dir, 'gateway.log');
  const logFd = openSync(logPath, 'w');
  // BENCH_CPU_PROF=<dir>: each gateway writes a CPU profile there when it stops (profile first, then optimise).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...typeStripFlags, ...profile, ...launcherFlags(), LAUNCHER, 'serve', '--config', 'toolgate.yaml', '--port', '0'], {
    cwd: dir,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const stop = async () => {
    if (howEnded(child)) reportEarlyExit(child, logPath);
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + STARTUP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const log = readFileSync(logPath, 'utf8');
    const url = startupUrl(log);
    if (url) return { name: 'gateway', url, pid: child.pid!, readyAt: performance.now(), ended: () => howEnded(child), stop };
    if (howEnded(child)) {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the gateway ended (${howEnded(child)}) at startup:\n${log.slice(-2000)}`);
    }
    await sleep(10);
  }
  await stop();
  throw new Error(`the gateway printed no startup line within ${STARTUP_TIMEOUT_MS / 1000} s`);
}
