/**
 * Names of MCP tools as a model sees them. Function names must match ^[a-zA-Z0-9_-]{1,64}$, while MCP
 * names may run to 128 characters and contain dots. `<server>-<tool>` (LiteLLM's separator) is used as
 * is when valid; otherwise it is shortened and given a stable hash suffix, so a name never changes
 * between requests and two tools never share one.
 */
import { createHash } from 'node:crypto';
import { FUNCTION_NAME } from '../protocol/responses.ts';

const MAX = 64;
const SUFFIX_LEN = 8;

function hash(s: string, len: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}

/** The deterministic function name for a server's tool. */
export function functionName(server: string, tool: string): string {
  const raw = `${server}-${tool}`;
  if (FUNCTION_NAME.test(raw)) return raw;
  const clean = raw.replace(/[^a-zA-Z0-9_-]/g, '_');
  return `${clean.slice(0, MAX - SUFFIX_LEN - 1)}_${hash(raw, SUFFIX_LEN)}`;
}

/** Function names given out in one request; a collision (vanishingly rare) gets a longer hash. */
export class ToolNameMap {
  private readonly used = new Set<string>();
  private readonly byTool = new Map<string, string>();

  /**
   * The function name for `server`'s `tool`. `scope` keeps apart the same tool reached two ways in one
   * request (two labels naming one server, a remote server named like a configured one).
   */
  add(server: string, tool: string, taken: ReadonlySet<string> = new Set(), scope = ''): string {
    const key = `${scope}\u0000${server}\u0000${tool}`;
    const existing = this.byTool.get(key);
    if (existing) return existing;
    let name = functionName(server, tool);
    for (let len = 12; this.used.has(name) || taken.has(name); len += 4) {
      name = `${`${server}-${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, MAX - len - 1)}_${hash(key, len)}`;
    }
    this.used.add(name);
    this.byTool.set(key, name);
    return name;
  }
}
