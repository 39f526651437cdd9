/**
 * Reads and validates the config: YAML, `os.environ/NAME` values, zero-config defaults from the
 * environment. Invalid files fail with the path of every bad key; unknown keys are warnings.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { OllamaModels } from './ollama.ts';
import { formatPath } from '../protocol/errors.ts';
import { ConfigFile, type Config } from './schema.ts';

export class ConfigError extends Error {}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  /** The file it came from, or a description of the zero-config source. */
  source: string;
  /** How to add a model, when nothing configures one. */
  hint?: string;
}

const ENV_REF = /^os\.environ\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** Replaces every `os.environ/NAME` string with the variable's value; a missing variable is an error. */
export function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, errors: string[], path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    const m = ENV_REF.exec(value.trim());
    if (!m) return value;
    const v = env[m[1]!];
    if (v === undefined || v === '') {
      errors.push(`${formatPath(path)}: environment variable ${m[1]} is not set`);
      return undefined;
    }
    return v;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, errors, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvRefs(v, env, errors, [...path, k])]));
  }
  return value;
}

function deleteAt(root: unknown, path: readonly PropertyKey[], keys: string[]): void {
  let node = root as Record<PropertyKey, unknown> | undefined;
  for (const p of path) node = node?.[p] as Record<PropertyKey, unknown> | undefined;
  if (node && typeof node === 'object') for (const k of keys) delete node[k];
}

/**
 * Parses with strict schemas; unknown keys become warnings and are removed, everything else is an error.
 */
export function parseLenient<S extends z.ZodType>(schema: S, raw: unknown): { data: z.infer<S>; warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const input = structuredClone(raw);
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = schema.safeParse(input);
    if (r.success) return { data: r.data, warnings, errors: [] };
    const unknown = r.error.issues.filter((i) => i.code === 'unrecognized_keys');
    const errors = r.error.issues.filter((i) => i.code !== 'unrecognized_keys').map((i) => `${formatPath(i.path)}: ${i.message}`);
    if (errors.length) return { data: undefined as z.infer<S>, warnings, errors };
    for (const i of unknown) {
      const keys = (i as { keys: string[] }).keys;
      for (const k of keys) warnings.push(`${formatPath([...i.path, k])}: unknown key, ignored`);
      deleteAt(input, i.path, keys);
    }
  }
  return { data: undefined as z.infer<S>, warnings, errors: ['(root): could not be parsed'] };
}

export function hasProviderKey(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OPENAI_API_KEY || env.ANTHROPIC_API_KEY);
}

export const FIRST_RUN_HINT =
  'to add a model: set OPENAI_API_KEY or ANTHROPIC_API_KEY, write a toolgate.yaml (see README), or run Ollama (at OLLAMA_HOST, default 127.0.0.1:11434) before starting';

/** With no config file: route by the provider keys found in the environment; with none, to the models found at OLLAMA_HOST. */
export function zeroConfig(env: NodeJS.ProcessEnv, ollama?: OllamaModels): unknown {
  if (!hasProviderKey(env))
    return { model_list: ollama ? ollama.models.map((id) => ({ model_name: id, litellm_params: { model: `ollama/${id}`, api_base: ollama.base } })) : [] };
  const model_list: unknown[] = [];
  if (env.ANTHROPIC_API_KEY)
    model_list.push({
      model_name: 'claude-*',
      litellm_params: {
        model: 'anthropic/claude-*',
        api_key: 'os.environ/ANTHROPIC_API_KEY',
        ...(env.ANTHROPIC_BASE_URL ? { api_base: env.ANTHROPIC_BASE_URL } : {}),
      },
    });
  if (env.OPENAI_API_KEY)
    model_list.push({
      model_name: '*',
      litellm_params: { model: 'openai/*', api_key: 'os.environ/OPENAI_API_KEY', ...(env.OPENAI_BASE_URL ? { api_base: env.OPENAI_BASE_URL } : {}) },
    });
  return { model_list };
}

/** `ollama`: the models found at OLLAMA_HOST, served when there is neither a file nor a provider key. */
export function loadConfig(opts: { path?: string; env?: NodeJS.ProcessEnv; raw?: unknown; ollama?: OllamaModels }): LoadedConfig {
  const env = opts.env ?? process.env;
  let raw: unknown;
  let source: string;
  let hint: string | undefined;
  if (opts.raw !== undefined) {
    raw = opts.raw;
    source = '(inline)';
  } else if (opts.path) {
    let text: string;
    try {
      text = readFileSync(opts.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(
        code === 'ENOENT' ? `config file not found: ${opts.path}` : `cannot read config file ${opts.path}: ${code ?? (e as Error).message}`,
      );
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw new ConfigError(`${opts.path}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    source = opts.path;
  } else {
    raw = zeroConfig(env, opts.ollama);
    source = 'environment (no config file)';
    if (!hasProviderKey(env)) hint = FIRST_RUN_HINT;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source}: the config must be a mapping`);

  // environment_variables are set before os.environ/ references are resolved, as LiteLLM does.
  const envVars = (raw as { environment_variables?: unknown }).environment_variables;
  const scopedEnv = { ...env };
  if (envVars && typeof envVars === 'object') for (const [k, v] of Object.entries(envVars)) scopedEnv[k] = String(v);

  const envErrors: string[] = [];
  const resolved = resolveEnvRefs(raw, scopedEnv, envErrors);
  const { data, warnings, errors } = parseLenient(ConfigFile, resolved);
  const all = [...envErrors, ...errors];
  if (all.length) throw new ConfigError(`invalid config (${source}):\n  ${all.join('\n  ')}`);
  return { config: data, warnings, source, hint };
}
