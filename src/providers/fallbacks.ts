/**
 * LiteLLM's fallbacks (LiteLLM docs, "Fallbacks" / proxy reliability): which other model groups a
 * request moves to once its own group has failed, and why. Three lists, each `[{model_a: [model_b, ...]}]`:
 * `fallbacks` for errors worth another try (rate limits, 5xx, timeouts, unreachable upstreams, a group
 * whose deployments are all cooling down), `context_window_fallbacks` for an input longer than the
 * model's context window, `content_policy_fallbacks` for a refusal by the provider's content policy.
 * `default_fallbacks` serve any model without a `fallbacks` entry of its own (LiteLLM stores them as a
 * `*` entry; a `*` key is accepted too).
 *
 * `classifyFailure` reads a provider's error as the providers word it: OpenAI and Azure OpenAI (error
 * codes `context_length_exceeded`, `content_policy_violation`, `content_filter`), Anthropic (400
 * `invalid_request_error` "prompt is too long"), the Gemini API and Vertex AI (400 `INVALID_ARGUMENT`
 * "The input token count (...) exceeds the maximum number of tokens allowed"), Amazon Bedrock
 * (`ValidationException` "Input is too long for requested model" / "too many input tokens").
 */
import type { Config } from '../config/schema.ts';
import type { ProviderError } from '../protocol/errors.ts';

/** What a failed model call calls for: another try (and then `fallbacks`), a bigger model, another policy, or nothing. */
export type FailureClass = 'retryable' | 'context_window' | 'content_policy' | 'final';

/** The wordings of OpenAI-compatible servers, Anthropic, Gemini and Bedrock for an input over the context window. */
const CONTEXT_MESSAGE =
  /maximum context length|exceeds the context window|prompt is too long|input token count.*exceeds|too many input tokens|input is too long/i;
const CONTENT_CODES = new Set(['content_policy_violation', 'content_filter']);
const CONTENT_MESSAGE = /content[ _-]?(?:management[ _-]?)?polic|content[ _-]?filter/i;

function isContextWindow(e: ProviderError): boolean {
  if (e.code === 'context_length_exceeded') return true;
  if (e.code === 'ValidationException') return /too long|too many input tokens/i.test(e.message);
  return CONTEXT_MESSAGE.test(e.message);
}

export function classifyFailure(e: ProviderError): FailureClass {
  if (e.kind === 'aborted') return 'final';
  if (e.retryable) return 'retryable';
  // What is left is a 4xx other than 408, 409 and 429: the request itself was refused.
  if (e.kind !== 'http') return 'final';
  if (isContextWindow(e)) return 'context_window';
  if ((e.code && CONTENT_CODES.has(e.code)) || CONTENT_MESSAGE.test(e.message)) return 'content_policy';
  return 'final';
}

/** Why a request moved to a fallback, as the log line names it. */
export type FallbackReason = 'error' | 'context_window' | 'content_policy' | 'cooldown';

type ListKey = 'fallbacks' | 'context_window_fallbacks' | 'content_policy_fallbacks';

interface Entry {
  from: string;
  to: string[];
  /** Where the config writes it, for startup errors: `router_settings.fallbacks[0].gpt-4o`. */
  path: string;
}

/** The three lists, read from router_settings or, where it sets none, litellm_settings. */
export class FallbackTable {
  private readonly lists: Record<ListKey, Entry[]> = { fallbacks: [], context_window_fallbacks: [], content_policy_fallbacks: [] };

  static fromConfig(config: Pick<Config, 'router_settings' | 'litellm_settings'>): FallbackTable {
    const table = new FallbackTable();
    for (const key of ['fallbacks', 'context_window_fallbacks', 'content_policy_fallbacks'] as const) {
      const section = config.router_settings[key] ? 'router_settings' : 'litellm_settings';
      (config[section][key] ?? []).forEach((item, i) => {
        for (const [from, to] of Object.entries(item)) table.lists[key].push({ from, to, path: `${section}.${key}[${i}].${from}` });
      });
    }
    const section = config.router_settings.default_fallbacks ? 'router_settings' : 'litellm_settings';
    const defaults = config[section].default_fallbacks;
    if (defaults) table.lists.fallbacks.push({ from: '*', to: defaults, path: `${section}.default_fallbacks` });
    return table;
  }

  static empty(): FallbackTable {
    return new FallbackTable();
  }

  /**
   * The fallbacks for a group that failed for `reason`, by the first name in `names` (the requested
   * name, then its group's name) that has an entry, else the `*` entry (general errors only have
   * defaults in LiteLLM, and so here).
   */
  for(reason: FallbackReason, names: readonly string[]): readonly string[] {
    const list = this.lists[reason === 'context_window' ? 'context_window_fallbacks' : reason === 'content_policy' ? 'content_policy_fallbacks' : 'fallbacks'];
    for (const name of names) {
      const hit = list.find((e) => e.from === name);
      if (hit) return hit.to;
    }
    return list.find((e) => e.from === '*')?.to ?? [];
  }

  /** Every model name the lists refer to (keys and fallbacks), with where it is written. */
  references(): { name: string; path: string }[] {
    return Object.values(this.lists).flatMap((entries) =>
      entries.flatMap((e) => [...(e.from === '*' ? [] : [{ name: e.from, path: e.path }]), ...e.to.map((name, i) => ({ name, path: `${e.path}[${i}]` }))]),
    );
  }
}
