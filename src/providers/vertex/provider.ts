/**
 * Vertex AI (`vertex_ai/<model>`; Google Cloud: "Generate content with the Gemini API in Vertex AI", and
 * "Use Anthropic's Claude models" for `:rawPredict` / `:streamRawPredict`): Gemini models through the Gemini
 * codec, Anthropic's Claude models (`vertex_ai/claude-...`) through the Anthropic provider's cloud form.
 * Both call `{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/...`
 * with the same OAuth token; LiteLLM's parameters name the project, location and credentials.
 */
import { AnthropicProvider } from '../anthropic/provider.ts';
import { GeminiProvider } from '../gemini/provider.ts';
import type { CallOptions, CreatedProvider, Provider, ProviderContext } from '../types.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { VertexAuth } from './auth.ts';

const OWNER = 'google';
/** The `anthropic_version` Claude on Vertex AI takes in the body. */
const ANTHROPIC_VERTEX_VERSION = 'vertex-2023-10-16';

function host(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

/**
 * A Claude provider whose project is known only once Application Default Credentials say it: made on
 * the first call, the same one after.
 */
function deferredClaude(project: Promise<string>, make: (project: string) => AnthropicProvider): Provider {
  let made: Promise<AnthropicProvider> | null = null;
  const provider = () => {
    made ??= project.then(make).catch((e: unknown) => {
      made = null;
      throw e;
    });
    return made;
  };
  return {
    api: 'anthropic',
    owner: OWNER,
    stream: async (req: ModelRequest, opts: CallOptions) => (await provider()).stream(req, opts),
    complete: async (req: ModelRequest, opts: CallOptions) => (await provider()).complete(req, opts),
    listModels: async () => [],
  };
}

export function createVertex({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const auth = new VertexAuth(p.vertex_credentials, env);
  const location = p.vertex_location ?? p.vertex_ai_location ?? env.VERTEXAI_LOCATION ?? 'us-central1';
  const project = p.vertex_project ?? p.vertex_ai_project ?? env.VERTEXAI_PROJECT ?? auth.credentialsProject;
  const baseURL = p.api_base ?? host(location);
  const publishers = (projectId: string) => `/v1/projects/${projectId}/locations/${location}/publishers`;

  if (name.startsWith('claude')) {
    const claude = (projectId: string) =>
      new AnthropicProvider({
        apiKey: '',
        baseURL,
        timeoutMs,
        streamIdleMs,
        defaultMaxTokens: p.max_tokens ?? 4096,
        headers,
        cloud: {
          path: (model, stream) => `${publishers(projectId)}/anthropic/models/${model}:${stream ? 'streamRawPredict' : 'rawPredict'}`,
          anthropicVersion: ANTHROPIC_VERTEX_VERSION,
          signer: auth.signer,
          owner: OWNER,
        },
      });
    return { upstreamModel: name, provider: project ? claude(project) : deferredClaude(auth.projectId(), claude) };
  }

  return {
    upstreamModel: name,
    provider: new GeminiProvider({
      baseURL,
      headers: { ...headers },
      timeoutMs,
      streamIdleMs,
      signer: auth.signer,
      owner: OWNER,
      path: (model, method) => {
        const path = (projectId: string) => `${publishers(projectId)}/google/models/${model}:${method}`;
        return project ? path(project) : auth.projectId().then(path);
      },
      listsModels: false,
    }),
  };
}
