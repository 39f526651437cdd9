/** `toolgate [serve] [--config FILE] [--port N] [--host H]`, `--help`, `--version`. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, hasProviderKey, loadConfig, type LoadedConfig } from '../config/load.ts';
import { discoverOllama } from '../config/ollama.ts';
import { VERSION } from '../version.ts';

const USAGE = `Usage: toolgate [serve] [options]

An OpenAI-compatible gateway that gives any LLM the tools of any MCP server.

Commands:
  serve               start the HTTP gateway (default)
  mcp                 serve the gateway as an MCP server over stdio (logs go to stderr)

Options:
  --config <file>     config file (default: ./toolgate.yaml if present; env TOOLGATE_CONFIG)
  --port <n>          port to listen on (default: 4000; env PORT)
  --host <addr>       address to bind (default: 127.0.0.1)
  --tool-search       mcp: offer mcp_tool_search and mcp_tool_call instead of every upstream tool
  -h, --help          show this help
  -v, --version       show the version

Without a config file, OPENAI_API_KEY routes every model name to OpenAI and
ANTHROPIC_API_KEY routes claude-* names to Anthropic; with neither, the models of
the Ollama at OLLAMA_HOST (default 127.0.0.1:11434) are served.`;

class UsageError extends Error {}

export interface CliArgs {
  command: 'serve' | 'mcp' | 'help' | 'version';
  config?: string;
  port: number;
  host: string;
  /** `mcp`: tool search instead of the upstream tools. */
  toolSearch?: boolean;
}

/** The arguments as node:util's parseArgs reads them; its errors are usage errors. */
function readArgv(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'tool-search': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''));
  }
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliArgs {
  const { values, positionals } = readArgv(argv);
  if (values.help) return { command: 'help', port: 0, host: '' };
  if (values.version) return { command: 'version', port: 0, host: '' };
  const [command = 'serve', ...rest] = positionals;
  if (command !== 'serve' && command !== 'mcp') throw new UsageError(`unknown command '${command}' (try --help)`);
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (values['tool-search'] && command !== 'mcp') throw new UsageError('--tool-search applies to the mcp command only');
  const portText = values.port ?? env.PORT ?? '4000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got '${portText}'`);
  let config = values.config ?? env.TOOLGATE_CONFIG;
  if (config === undefined && existsSync('toolgate.yaml')) config = 'toolgate.yaml';
  return { command, config, port, host: values.host ?? '127.0.0.1', ...(values['tool-search'] ? { toolSearch: true } : {}) };
}

export async function main(argv = process.argv.slice(2), env = process.env): Promise<void> {
  let args: CliArgs;
  try {
    args = parseCli(argv, env);
  } catch (e) {
    process.stderr.write(`toolgate: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (args.command === 'help') return void process.stdout.write(`${USAGE}\n`);
  if (args.command === 'version') return void process.stdout.write(`${VERSION}\n`);
  // With nothing configured, the models at OLLAMA_HOST are looked for while the server modules load.
  const discovery = args.config === undefined && !hasProviderKey(env) ? discoverOllama(env) : undefined;
  // Loaded only to serve, so --help and flag errors answer at once.
  const [{ createLogger }, { startServer, buildGateway }, ollama] = await Promise.all([import('../log.ts'), import('../server.ts'), discovery]);
  // Over stdio, stdout carries only protocol messages: logs go to stderr.
  const logger = args.command === 'mcp' ? createLogger({ destination: 2, pretty: false }) : createLogger();
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ path: args.config, env, ollama });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`toolgate: ${e.message}\n`);
    process.exit(1);
  }
  if (args.command === 'mcp') {
    let gw: import('../server.ts').Gateway;
    try {
      gw = await buildGateway(loaded, logger);
    } catch (e) {
      // a config that does not hold together (a fallback naming no model), a store that cannot be opened
      process.stderr.write(`toolgate: cannot start: ${(e as Error).message}\n`);
      process.exit(1);
    }
    return serveStdio(gw, logger, args.toolSearch);
  }
  let server: import('../server.ts').RunningServer;
  try {
    server = await startServer({ loaded, port: args.port, host: args.host, logger });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `port ${args.port} on ${args.host} is already in use` : err.message;
    process.stderr.write(`toolgate: cannot start: ${why}\n`);
    process.exit(1);
  }
  logger.flush(); // the startup line goes out at once
  const graceS = loaded.config.general_settings.shutdown_grace_seconds;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal: the operator does not want to wait.
      logger.warn({ signal }, 'stopping now');
      logger.flush(() => process.exit(1));
      return;
    }
    stopping = true;
    logger.info({ signal, grace_s: graceS }, 'shutting down: open responses have the grace period to finish');
    await server.close(graceS * 1000);
    logger.info('stopped');
    logger.flush(() => process.exit(0));
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** `toolgate mcp`: the aggregated server on stdio, for both generations. */
async function serveStdio(gw: import('../server.ts').Gateway, logger: import('pino').Logger, toolSearch = false): Promise<void> {
  const handle = (await gw.mcp.get()).serveStdio(logger, { toolSearch });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await handle.close().catch(() => {});
    await gw.close();
    logger.flush(() => process.exit(0));
  };
  process.stdin.once('end', () => void stop());
  process.stdin.once('close', () => void stop());
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  logger.info({ mcp_servers: gw.pool.names }, 'toolgate MCP server on stdio');
}
