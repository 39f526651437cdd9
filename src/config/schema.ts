/**
 * The config file: a LiteLLM-compatible subset (`model_list`, `general_settings`, `router_settings`,
 * `litellm_settings`, `environment_variables`) plus toolgate's own keys. Objects are strict so that
 * unknown keys can be reported (as warnings, see load.ts).
 */
import { z } from 'zod';

const seconds = z.number().positive();

/** Provider prefixes with a client of their own (the rest of LiteLLM's prefixes below speak OpenAI's Chat API). */
export const PROVIDERS = ['openai', 'anthropic', 'azure', 'azure_ai', 'gemini', 'vertex_ai', 'bedrock'] as const;
export type ProviderPrefix = (typeof PROVIDERS)[number];

/** LiteLLM provider prefixes that speak the OpenAI Chat API, with their default api_base. */
export const OPENAI_COMPATIBLE: Record<string, string | null> = {
  hosted_vllm: null,
  vllm: null,
  ollama: 'http://localhost:11434/v1',
  ollama_chat: 'http://localhost:11434/v1',
  lm_studio: 'http://localhost:1234/v1',
  groq: 'https://api.groq.com/openai/v1',
  deepseek: 'https://api.deepseek.com/v1',
  // Mistral's own API is OpenAI's Chat with stricter validation: the Chat request builder's quirk table sends
  // only the fields it takes (random_seed, 9-character tool call ids, no stream_options or $schema).
  mistral: 'https://api.mistral.ai/v1',
  // Cohere's Compatibility API rather than its native v2 chat: chat, streamed usage, strict tools, json_schema
  // and reasoning in OpenAI's form, without a second wire format. Lost: documents with citations, connectors,
  // safety_mode.
  cohere: 'https://api.cohere.ai/compatibility/v1',
  cohere_chat: 'https://api.cohere.ai/compatibility/v1',
  together_ai: 'https://api.together.xyz/v1',
  fireworks_ai: 'https://api.fireworks.ai/inference/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  xai: 'https://api.x.ai/v1',
  perplexity: 'https://api.perplexity.ai',
};

export const LitellmParams = z.strictObject({
  model: z
    .string()
    .min(1)
    .refine(
      (m) => {
        const i = m.indexOf('/');
        if (i < 0) return true;
        const p = m.slice(0, i);
        return (PROVIDERS as readonly string[]).includes(p) || p in OPENAI_COMPATIBLE;
      },
      { message: `unknown provider prefix; use ${[...PROVIDERS, ...Object.keys(OPENAI_COMPATIBLE)].map((p) => `${p}/`).join(', ')}` },
    ),
  api_key: z.string().optional(),
  api_base: z.url({ protocol: /^https?$/ }).optional(),
  api_mode: z.enum(['responses', 'chat']).optional(),
  timeout: seconds.optional(),
  stream_timeout: seconds.optional(),
  max_retries: z.int().min(0).max(10).optional(),
  /** Anthropic needs max_tokens on every request; used when the client sets none. */
  max_tokens: z.int().positive().optional(),
  organization: z.string().optional(),
  extra_headers: z.record(z.string(), z.string()).optional(),
  /** Azure OpenAI: the API version (`AZURE_API_VERSION`); an Entra ID token instead of the key (`AZURE_AD_TOKEN`). */
  api_version: z.string().min(1).optional(),
  azure_ad_token: z.string().min(1).optional(),
  /** Vertex AI: project, region, and a service account (a JSON file's path or its text; else Application Default Credentials). */
  vertex_project: z.string().min(1).optional(),
  vertex_location: z.string().min(1).optional(),
  vertex_credentials: z.string().min(1).optional(),
  /** LiteLLM's other spellings of vertex_project and vertex_location. */
  vertex_ai_project: z.string().min(1).optional(),
  vertex_ai_location: z.string().min(1).optional(),
  /** Amazon Bedrock: the region and static credentials (else the AWS default credential chain). */
  aws_region_name: z.string().min(1).optional(),
  aws_access_key_id: z.string().min(1).optional(),
  aws_secret_access_key: z.string().min(1).optional(),
  aws_session_token: z.string().min(1).optional(),
  aws_profile_name: z.string().min(1).optional(),
  aws_bedrock_runtime_endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Prices in dollars per token, as LiteLLM names them: what spend and budgets count. */
  input_cost_per_token: z.number().min(0).optional(),
  output_cost_per_token: z.number().min(0).optional(),
  cache_read_input_token_cost: z.number().min(0).optional(),
  // LiteLLM routing hints, accepted for compatibility
  rpm: z.number().optional(),
  tpm: z.number().optional(),
  weight: z.number().positive().optional(),
});
export type LitellmParams = z.infer<typeof LitellmParams>;

export const ModelEntry = z.strictObject({
  model_name: z.string().min(1),
  litellm_params: LitellmParams,
  model_info: z.record(z.string(), z.unknown()).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const GeneralSettings = z.strictObject({
  master_key: z.string().min(1).optional(),
  max_request_size_mb: z.number().positive().default(32),
  /**
   * The store: `sqlite:<path>` (the embedded default), `sqlite::memory:`, or a PostgreSQL URL
   * (`postgresql://user@host:5432/db`, `?schema=<name>` for a schema of its own) that replicas share.
   */
  database_url: z
    .string()
    .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'use sqlite:<path> or postgresql://user@host:port/database')
    .default('sqlite:.toolgate/toolgate.db'),
  /** Redis that replicas share for limits and cache invalidation (`redis://host:6379`); without it, both stay in process. */
  redis_url: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Before every Redis key and channel, so that deployments (or test runs) can share one Redis. */
  redis_prefix: z.string().min(1).default('toolgate:'),
  /** Seconds between SSE comment keep-alives while the model is silent. */
  sse_keepalive_seconds: seconds.default(15),
  /** Days the tool-call audit trail keeps a record. */
  audit_retention_days: z.number().positive().default(30),
  /** /metrics without a key (with a master key, it otherwise takes the master key). */
  metrics_public: z.boolean().default(false),
  /** On SIGTERM/SIGINT: seconds open responses and streams get to finish before they end `incomplete` (reason `shutdown`). */
  shutdown_grace_seconds: z.number().min(0).default(30),
});

/** LiteLLM's fallback lists: `[{model_a: [model_b, ...]}, ...]`, tried in order once model_a's own deployments failed. */
const Fallbacks = z.array(z.record(z.string(), z.array(z.string().min(1))));

/** Keys LiteLLM accepts in both router_settings and litellm_settings (router_settings wins). */
const FallbackSettings = {
  fallbacks: Fallbacks.optional(),
  /** Tried when a model rejects the request as longer than its context window. */
  context_window_fallbacks: Fallbacks.optional(),
  /** Tried when a model refuses the request by its content policy. */
  content_policy_fallbacks: Fallbacks.optional(),
  /** Tried for any model without fallbacks of its own. */
  default_fallbacks: z.array(z.string().min(1)).optional(),
};

export const RouterSettings = z.strictObject({
  num_retries: z.int().min(0).max(10).optional(),
  timeout: seconds.optional(),
  routing_strategy: z.string().optional(),
  /** LiteLLM's way to name the shared Redis (general_settings.redis_url wins). */
  redis_host: z.string().min(1).optional(),
  redis_port: z.coerce.number().int().positive().optional(),
  redis_password: z.string().optional(),
  ...FallbackSettings,
  /** Failures a deployment may have within a minute before it cools down (LiteLLM's default: 3). */
  allowed_fails: z.int().min(0).optional(),
  /** Seconds a deployment past allowed_fails is skipped (LiteLLM's default: 5). */
  cooldown_time: z.number().min(0).optional(),
  /** Another name for a model group: `{alias: group}` or `{alias: {model: group, hidden: true}}` (hidden from /v1/models). */
  model_group_alias: z
    .record(z.string(), z.union([z.string().min(1), z.strictObject({ model: z.string().min(1), hidden: z.boolean().optional() })]))
    .optional(),
});

export const LitellmSettings = z.strictObject({
  /** What a provider cannot take is dropped (default, listed in x-toolgate-dropped-params); false: a 400 naming it. */
  drop_params: z.boolean().optional(),
  request_timeout: seconds.optional(),
  num_retries: z.int().min(0).max(10).optional(),
  ...FallbackSettings,
});

/** Server names: `<server>-<tool>` and `x-mcp-<server>-<header>` must always parse, so no `-`. */
export const SERVER_NAME = /^[A-Za-z0-9_]{1,32}$/;

export const McpServerEntry = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }).optional(),
    transport: z.enum(['http', 'sse', 'stdio']).optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
    /** Fixed headers sent upstream. */
    static_headers: z.record(z.string(), z.string()).optional(),
    /** Names of client request headers forwarded to this server. */
    extra_headers: z.array(z.string()).optional(),
    auth_type: z.enum(['none', 'bearer_token', 'api_key', 'basic', 'authorization', 'token']).optional(),
    authentication_token: z.string().optional(),
    auth_value: z.string().optional(),
    allowed_tools: z.array(z.string()).optional(),
    disallowed_tools: z.array(z.string()).optional(),
    description: z.string().optional(),
    /** Seconds a tool call may take (default: mcp_settings.tool_timeout_seconds). */
    timeout: seconds.optional(),
    /** The server's tools wait for a tool search before a model is offered them (a request's `defer_loading` wins). */
    defer_loading: z.boolean().optional(),
    /**
     * The MCP generation to speak: `auto` (the default) asks `server/discover` and speaks 2026-07-28 when the
     * server offers it, else `initialize`s a 2025-era session; a version pins one (a stdio server is then
     * spawned once, without the probe's extra process).
     */
    protocol_version: z.enum(['auto', '2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']).optional(),
  })
  .superRefine((s, ctx) => {
    const transport = s.transport ?? (s.command ? 'stdio' : 'http');
    if (transport === 'stdio' && !s.command) ctx.addIssue({ code: 'custom', path: ['command'], message: 'required for transport stdio' });
    if (transport !== 'stdio' && !s.url) ctx.addIssue({ code: 'custom', path: ['url'], message: `required for transport ${transport}` });
    if (s.auth_type && s.auth_type !== 'none' && !(s.authentication_token ?? s.auth_value))
      ctx.addIssue({ code: 'custom', path: ['authentication_token'], message: `required for auth_type ${s.auth_type}` });
  });
export type McpServerEntry = z.infer<typeof McpServerEntry>;

export const McpServers = z.record(z.string(), McpServerEntry).superRefine((servers, ctx) => {
  for (const name of Object.keys(servers))
    if (!SERVER_NAME.test(name))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `server names must match ^[A-Za-z0-9_]{1,32}$ (no '-': tools are exposed as <server>-<tool> and headers as x-mcp-<server>-<header>)`,
      });
});

export const McpSettings = z.strictObject({
  /** Hosts a request may name in an absolute `server_url` (`*.example.com` allowed). Default: none. */
  allowed_remote_hosts: z.array(z.string().min(1)).default([]),
  /** Model calls in one response before it must answer without tools. */
  max_iterations: z.int().min(1).max(100).default(10),
  /** Total tool calls in one response (a request's max_tool_calls may lower it). */
  max_tool_calls: z.int().min(1).max(1000).default(50),
  tool_timeout_seconds: seconds.default(60),
  /** The whole run's deadline; past it the response ends `incomplete`. */
  run_timeout_seconds: seconds.default(600),
  /** Longer tool outputs keep their head and tail. */
  max_tool_output_chars: z.int().min(1000).default(100_000),
  /** Tool calls of one model turn run in parallel, this many at once. */
  tool_concurrency: z.int().min(1).max(64).default(8),
  /** Seconds a tool listing is cached (list_changed invalidates it sooner). */
  tools_cache_seconds: seconds.default(300),
  /** Where the /mcp generate_image tool writes images it is given a file name for. */
  upload_dir: z.string().min(1).optional(),
  /** /mcp sessions: idle seconds before one is closed, and how many may be open at once. */
  session_idle_seconds: seconds.default(1800),
  max_sessions: z.int().min(1).default(1000),
  /**
   * A response whose MCP tools number more than this has those its request did not set `defer_loading`
   * on deferred, and gets a tool search (default: never).
   */
  defer_loading_over: z.int().min(0).optional(),
});
export type McpSettings = z.infer<typeof McpSettings>;

export const ConfigFile = z.strictObject({
  model_list: z.array(ModelEntry).default([]),
  general_settings: GeneralSettings.default(GeneralSettings.parse({})),
  router_settings: RouterSettings.default({}),
  litellm_settings: LitellmSettings.default({}),
  environment_variables: z.record(z.string(), z.string()).optional(),
  mcp_servers: McpServers.default({}),
  mcp_settings: McpSettings.default(McpSettings.parse({})),
});
export type Config = z.infer<typeof ConfigFile>;
