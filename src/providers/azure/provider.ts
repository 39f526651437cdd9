/**
 * Azure OpenAI (`azure/<deployment>`) and Azure AI Foundry's OpenAI-compatible models (`azure_ai/<model>`):
 * OpenAI's Chat and Responses APIs under Azure's paths and credentials (Microsoft Learn: Azure OpenAI
 * REST API reference, "API version lifecycle" for the v1 API; Azure AI Model Inference API reference).
 * LiteLLM's parameter names and environment variables.
 */
import { OpenAIChatProvider } from '../openai-chat/provider.ts';
import { OpenAIResponsesProvider } from '../openai-responses/provider.ts';
import { OPENAI_PATHS, type OpenAIPaths } from '../openai-base.ts';
import type { CreatedProvider, ProviderContext } from '../types.ts';

/** The GA version of the deployment-path API (the one LiteLLM's Azure docs use). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';
/** Azure AI Model Inference requires an api-version on Foundry's `/models` endpoint. */
export const AZURE_AI_DEFAULT_API_VERSION = '2024-05-01-preview';

/** `v1`, `latest` and `preview` name Azure's v1 API (OpenAI's paths under /openai/v1, the deployment as `model`). */
const V1_VERSIONS = new Set(['v1', 'latest', 'preview']);

export function isV1(version: string): boolean {
  return V1_VERSIONS.has(version);
}

/**
 * Where each call goes for an API version. The dated API names the deployment in the path, except
 * Responses (deployment as `model`); the v1 API is OpenAI's own paths. `preview` opts the v1 API into
 * preview features with `api-version=preview`; `v1` and `latest` send none (v1 is GA).
 */
export function azurePaths(version: string): OpenAIPaths {
  if (isV1(version)) {
    const q = version === 'preview' ? '?api-version=preview' : '';
    return {
      chat: () => `/openai/v1/chat/completions${q}`,
      responses: `/openai/v1/responses${q}`,
      models: null,
      embeddings: () => `/openai/v1/embeddings${q}`,
      images: () => `/openai/v1/images/generations${q}`,
    };
  }
  const q = `?api-version=${encodeURIComponent(version)}`;
  const deployment = (d: string) => `/openai/deployments/${encodeURIComponent(d)}`;
  return {
    chat: (d) => `${deployment(d)}/chat/completions${q}`,
    responses: `/openai/responses${q}`,
    // GET /openai/models lists the resource's base models, not its deployments: nothing it names can be called.
    models: null,
    embeddings: (d) => `${deployment(d)}/embeddings${q}`,
    images: (d) => `${deployment(d)}/images/generations${q}`,
  };
}

/**
 * What the Chat body may carry on an API version. `max_completion_tokens` wherever Azure knows it:
 * o-series and GPT-5 deployments reject `max_tokens`, and Azure added the field with them in
 * 2024-09-01-preview; the GA versions up to 2024-10-21 predate those models, so they keep `max_tokens`,
 * which every model they serve takes. `stream_options` (usage in streams) from 2024-09-01-preview and
 * in 2024-10-21: older versions answer 400 "Unknown parameter: 'stream_options'".
 */
export function azureChatFeatures(version: string): { maxTokensField: 'max_tokens' | 'max_completion_tokens'; streamOptions: boolean } {
  const m = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(version);
  if (!m) return { maxTokensField: 'max_completion_tokens', streamOptions: true };
  const date = m[1]!;
  const newer = date >= '2024-09-01';
  return { maxTokensField: newer && (m[2] !== undefined || date > '2024-10-21') ? 'max_completion_tokens' : 'max_tokens', streamOptions: newer };
}

/** The resource's root: an api_base given with `/openai` or `/openai/v1` (as the openai SDK wants it) works too. */
function resourceRoot(base: string): string {
  return base.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '');
}

/**
 * An API key goes in `api-key`, an Entra ID token in `Authorization: Bearer`. The entry's own
 * credential wins over the environment's; a key over a token.
 */
function azureAuth(model: string, p: ProviderContext['params'], env: NodeJS.ProcessEnv): { key: string; auth: Record<string, string> } {
  const token = p.azure_ad_token ?? (p.api_key ? undefined : env.AZURE_AD_TOKEN);
  const key = p.api_key ?? (p.azure_ad_token ? undefined : (env.AZURE_API_KEY ?? env.AZURE_OPENAI_API_KEY));
  if (key) return { key, auth: { 'api-key': key } };
  if (token?.startsWith('oidc/'))
    throw new Error(`${model}: azure_ad_token "oidc/..." (LiteLLM's OIDC token exchange) is not supported; give an Entra ID token or an api_key`);
  if (token) return { key: token, auth: { authorization: `Bearer ${token}` } };
  return { key: '', auth: {} };
}

export function createAzure({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const base = p.api_base ?? env.AZURE_API_BASE;
  if (!base) throw new Error(`${p.model}: api_base (or AZURE_API_BASE) is required for azure/ models`);
  const mode = p.api_mode ?? 'chat';
  const version = p.api_version ?? env.AZURE_API_VERSION ?? (mode === 'responses' ? 'v1' : AZURE_DEFAULT_API_VERSION);
  const { key, auth } = azureAuth(p.model, p, env);
  const opts = { apiKey: key, auth, baseURL: resourceRoot(base), timeoutMs, streamIdleMs, headers, paths: azurePaths(version), owner: 'azure' };
  return {
    upstreamModel: name,
    provider: mode === 'responses' ? new OpenAIResponsesProvider(opts) : new OpenAIChatProvider({ ...opts, ...azureChatFeatures(version) }),
  };
}

/**
 * Where an `azure_ai/` api_base sends its calls. Foundry's resource endpoint (`*.services.ai.azure.com`)
 * serves the models under /models and requires an api-version; it and Azure OpenAI hosts take the key in
 * `api-key`, serverless endpoints (and anything else) as a bearer token: what LiteLLM sends.
 */
export function azureAiEndpoint(given: string, version: string | undefined): { baseURL: string; query: string; apiKeyHeader: boolean } {
  let baseURL = given.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
  const host = new URL(baseURL).hostname;
  const foundry = host.endsWith('.services.ai.azure.com');
  if (foundry && !baseURL.endsWith('/models')) baseURL += '/models';
  const v = version ?? (foundry ? AZURE_AI_DEFAULT_API_VERSION : undefined);
  return { baseURL, query: v ? `?api-version=${encodeURIComponent(v)}` : '', apiKeyHeader: foundry || host.endsWith('.openai.azure.com') };
}

export function createAzureAi({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const given = p.api_base ?? env.AZURE_AI_API_BASE;
  if (!given) throw new Error(`${p.model}: api_base (or AZURE_AI_API_BASE) is required for azure_ai/ models`);
  const { baseURL, query: q, apiKeyHeader } = azureAiEndpoint(given, p.api_version);
  const key = p.api_key ?? env.AZURE_AI_API_KEY ?? '';
  return {
    upstreamModel: name,
    provider: new OpenAIChatProvider({
      apiKey: key,
      auth: apiKeyHeader ? { 'api-key': key } : { authorization: `Bearer ${key}` },
      baseURL,
      timeoutMs,
      streamIdleMs,
      // Parameters the Model Inference API does not define (stream_options, parallel_tool_calls, ...) go to
      // the model as they are, the way an OpenAI-compatible server takes them; its default is a 400.
      headers: { 'extra-parameters': 'pass-through', ...headers },
      paths: {
        ...OPENAI_PATHS,
        chat: () => `/chat/completions${q}`,
        // Foundry has no list of the models an endpoint serves
        models: null,
        embeddings: () => `/embeddings${q}`,
        images: () => `/images/generations${q}`,
      },
      owner: 'azure_ai',
    }),
  };
}
