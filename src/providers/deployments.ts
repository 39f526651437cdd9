/**
 * Turns `model_list` entries into deployments: a provider client plus how to name the model upstream.
 */
import type { Config, LitellmParams } from '../config/schema.ts';
import { OPENAI_COMPATIBLE, PROVIDERS, type ProviderPrefix } from '../config/schema.ts';
import { AnthropicProvider } from './anthropic/provider.ts';
import { createAzure, createAzureAi } from './azure/provider.ts';
import { createBedrock } from './bedrock/provider.ts';
import { createGemini } from './gemini/provider.ts';
import { createVertex } from './vertex/provider.ts';
import { OpenAIChatProvider } from './openai-chat/provider.ts';
import { OpenAIResponsesProvider } from './openai-responses/provider.ts';
import type { CreatedProvider, Provider, ProviderContext } from './types.ts';
import { globToRegExp } from '../protocol/glob.ts';
import type { Prices } from '../access/cost.ts';

export interface Deployment {
  /** `model_name#index` in model_list, for logs. */
  readonly id: string;
  readonly modelName: string;
  /** For wildcard names (`openai/*`): matches a requested name and captures the `*` part. */
  readonly pattern: RegExp | null;
  /** The upstream model id, possibly with one `*` to fill from the requested name. */
  readonly upstreamModel: string;
  readonly provider: Provider;
  readonly maxRetries: number;
  /** The entry's prices (LiteLLM's `input_cost_per_token` and co.): what a call's usage costs. */
  readonly prices: Prices;
  inflight: number;
}

function splitProvider(model: string): { prefix: string | null; name: string } {
  const i = model.indexOf('/');
  if (i < 0) return { prefix: null, name: model };
  const prefix = model.slice(0, i);
  if ((PROVIDERS as readonly string[]).includes(prefix) || prefix in OPENAI_COMPATIBLE) return { prefix, name: model.slice(i + 1) };
  return { prefix: null, name: model };
}

const FACTORIES: Record<Exclude<ProviderPrefix, 'openai'>, (ctx: ProviderContext) => CreatedProvider> = {
  anthropic: createAnthropic,
  azure: createAzure,
  azure_ai: createAzureAi,
  gemini: createGemini,
  vertex_ai: createVertex,
  bedrock: createBedrock,
};

function createAnthropic({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  return {
    upstreamModel: name,
    provider: new AnthropicProvider({
      apiKey: p.api_key ?? env.ANTHROPIC_API_KEY ?? 'no-key',
      baseURL: p.api_base ?? 'https://api.anthropic.com',
      timeoutMs,
      streamIdleMs,
      defaultMaxTokens: p.max_tokens ?? 4096,
      headers,
    }),
  };
}

/** OpenAI itself and every server that speaks its Chat API under a LiteLLM prefix. */
function createOpenAI(prefix: string, { params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const defaultBase = prefix === 'openai' ? 'https://api.openai.com/v1' : OPENAI_COMPATIBLE[prefix];
  const baseURL = p.api_base ?? defaultBase;
  if (!baseURL) throw new Error(`${p.model}: api_base is required for ${prefix}/ models`);
  const apiKey = p.api_key ?? env[`${prefix.replace(/_chat$/, '').toUpperCase()}_API_KEY`] ?? 'no-key';
  const official = new URL(baseURL).hostname === 'api.openai.com';
  const mode = p.api_mode ?? (prefix === 'openai' && official ? 'responses' : 'chat');
  const opts = { apiKey, baseURL, timeoutMs, streamIdleMs, organization: p.organization, headers };
  return {
    upstreamModel: name,
    provider: mode === 'responses' ? new OpenAIResponsesProvider(opts) : new OpenAIChatProvider({ ...opts, owner: prefix.replace(/_chat$/, '') }),
  };
}

export function createProvider(p: LitellmParams, config: Config, env: NodeJS.ProcessEnv): CreatedProvider {
  const { prefix: explicit, name } = splitProvider(p.model);
  const prefix = explicit ?? (name.startsWith('claude') ? 'anthropic' : 'openai');
  const timeoutS = p.timeout ?? config.router_settings.timeout ?? config.litellm_settings.request_timeout ?? 600;
  const ctx: ProviderContext = {
    params: p,
    name,
    env,
    timeoutMs: timeoutS * 1000,
    streamIdleMs: (p.stream_timeout ?? timeoutS) * 1000,
    headers: p.extra_headers,
  };
  const factory = FACTORIES[prefix as keyof typeof FACTORIES];
  return factory ? factory(ctx) : createOpenAI(prefix, ctx);
}

export function buildDeployments(config: Config, env: NodeJS.ProcessEnv): Deployment[] {
  return config.model_list.map((entry, i) => {
    const { provider, upstreamModel } = createProvider(entry.litellm_params, config, env);
    return {
      id: `${entry.model_name}#${i}`,
      modelName: entry.model_name,
      pattern: entry.model_name.includes('*') ? globToRegExp(entry.model_name) : null,
      upstreamModel,
      provider,
      maxRetries: entry.litellm_params.max_retries ?? config.router_settings.num_retries ?? config.litellm_settings.num_retries ?? 2,
      prices: {
        input_cost_per_token: entry.litellm_params.input_cost_per_token,
        output_cost_per_token: entry.litellm_params.output_cost_per_token,
        cache_read_input_token_cost: entry.litellm_params.cache_read_input_token_cost,
      },
      inflight: 0,
    };
  });
}
