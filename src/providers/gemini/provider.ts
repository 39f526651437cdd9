/**
 * The Gemini API's native generateContent / streamGenerateContent (`gemini/<model>`; ai.google.dev, API
 * reference: models.generateContent, models.streamGenerateContent, models.list), and the same codec on the
 * paths and credentials of Vertex AI (src/providers/vertex/).
 */
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { Endpoint, type RequestSigner } from '../endpoint.ts';
import type { CallOptions, CreatedProvider, Provider, ProviderContext } from '../types.ts';
import { GeminiStreamDecoder, geminiResponseToOutput } from './decode.ts';
import { modelRequestToGemini } from './request.ts';
import type { GenerateContentResponse } from './wire.ts';

const GEMINI_API = 'https://generativelanguage.googleapis.com';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent?alt=sse';

export interface GeminiOptions {
  baseURL: string;
  headers: Record<string, string>;
  timeoutMs: number;
  streamIdleMs: number;
  signer?: RequestSigner;
  owner: string;
  /** A call's path under the base URL (a promise while it waits on something: Vertex's project id). */
  path(model: string, method: GeminiMethod): string | Promise<string>;
  /** Whether `GET /v1beta/models` lists the models (the Gemini API; Vertex lists none here). */
  listsModels: boolean;
}

export class GeminiProvider implements Provider {
  readonly api = 'gemini' as const;
  readonly owner: string;
  private readonly endpoint: Endpoint;
  private readonly path: GeminiOptions['path'];
  private readonly listsModels: boolean;

  constructor(o: GeminiOptions) {
    this.owner = o.owner;
    this.path = o.path;
    this.listsModels = o.listsModels;
    this.endpoint = new Endpoint({ baseURL: o.baseURL, headers: o.headers, timeoutMs: o.timeoutMs, streamIdleMs: o.streamIdleMs, signer: o.signer });
  }

  async stream(req: ModelRequest, opts: CallOptions) {
    const converted = modelRequestToGemini(req);
    const path = await this.path(req.model, 'streamGenerateContent?alt=sse');
    return this.endpoint.stream(path, converted.body, mapDecoder(new GeminiStreamDecoder(), converted.calls), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const converted = modelRequestToGemini(req);
    const path = await this.path(req.model, 'generateContent');
    const res = await this.endpoint.post<GenerateContentResponse>(path, converted.body, opts.signal);
    return mapOutput(geminiResponseToOutput(res), converted.calls);
  }

  /** Every page of GET /v1beta/models, named without their `models/` prefix. */
  async listModels(signal: AbortSignal): Promise<string[]> {
    if (!this.listsModels) return [];
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const query = token ? `&pageToken=${encodeURIComponent(token)}` : '';
      const page = await this.endpoint.get<{ models?: { name: string }[]; nextPageToken?: string }>(`/v1beta/models?pageSize=1000${query}`, signal);
      for (const m of page.models ?? []) ids.push(m.name.replace(/^models\//, ''));
      token = page.nextPageToken || undefined;
    } while (token);
    return ids;
  }
}

export function createGemini({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const key = p.api_key ?? env.GEMINI_API_KEY;
  // An api_base given with the API version in it is accepted too.
  const baseURL = (p.api_base ?? GEMINI_API).replace(/\/+$/, '').replace(/\/v1beta$/, '');
  return {
    upstreamModel: name,
    provider: new GeminiProvider({
      baseURL,
      headers: { ...(key ? { 'x-goog-api-key': key } : {}), ...headers },
      timeoutMs,
      streamIdleMs,
      owner: 'google',
      path: (model, method) => `/v1beta/models/${model}:${method}`,
      listsModels: true,
    }),
  };
}
