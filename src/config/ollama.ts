/**
 * First run: with no config file and no provider key, the models of a local Ollama (or any
 * OpenAI-compatible server) at `OLLAMA_HOST` are served.
 */

/** Long enough for a server on the LAN; it runs while the server modules load, so it rarely shows. */
const DISCOVERY_TIMEOUT_MS = 1000;

export interface OllamaModels {
  /** The OpenAI-compatible base URL (`.../v1`). */
  base: string;
  models: string[];
}

/**
 * The OpenAI-compatible base URL for `OLLAMA_HOST`, read as Ollama reads it: a URL, or `host[:port]`
 * without a scheme (port 11434); default `127.0.0.1:11434`. Undefined when it cannot be read.
 */
export function ollamaBase(host: string | undefined): string | undefined {
  let raw = host?.trim() || '127.0.0.1:11434';
  if (raw.startsWith(':')) raw = `127.0.0.1${raw}`;
  const hasScheme = /^https?:\/\//i.test(raw);
  let url: URL;
  try {
    url = new URL(hasScheme ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
  if (!hasScheme && !url.port) url.port = '11434';
  // A bind-all address (OLLAMA_HOST=0.0.0.0 lets Ollama listen everywhere) is reached on loopback.
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1`;
}

/** The models the server at `OLLAMA_HOST` lists (`GET /v1/models`), or undefined when none answers. Never throws. */
export async function discoverOllama(env: NodeJS.ProcessEnv): Promise<OllamaModels | undefined> {
  const base = ollamaBase(env.OLLAMA_HOST);
  if (!base) return undefined;
  try {
    const res = await fetch(`${base}/models`, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { data?: { id?: unknown }[] };
    const models = (Array.isArray(body.data) ? body.data : [])
      .map((m) => m?.id)
      .filter((id): id is string => typeof id === 'string' && id !== '' && !id.includes('*'));
    return { base, models };
  } catch {
    return undefined;
  }
}
