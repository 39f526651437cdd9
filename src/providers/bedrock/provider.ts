/**
 * Amazon Bedrock's Converse and ConverseStream APIs (`bedrock/<model-id>`; Amazon Bedrock API Reference:
 * Converse, ConverseStream). The model id (a foundation model, a cross-region inference profile, or an
 * inference-profile ARN) is named in the path; the region from `aws_region_name` or the environment.
 */
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { Endpoint, type RequestSigner } from '../endpoint.ts';
import type { CallOptions, CreatedProvider, Provider, ProviderContext } from '../types.ts';
import { BedrockStreamDecoder, converseResponseToOutput } from './decode.ts';
import { eventStreamFraming } from './framing.ts';
import { converseModelId, modelRequestToConverse } from './request.ts';
import { bearerHeaders, SigV4Auth } from './sign.ts';
import type { ConverseResponse } from './wire.ts';

export interface BedrockOptions {
  baseURL: string;
  headers: Record<string, string>;
  signer: RequestSigner | undefined;
  timeoutMs: number;
  streamIdleMs: number;
  defaultMaxTokens: number | undefined;
}

/** A path label as the AWS SDKs encode it: every reserved character, `:` and `/` of an ARN included. */
function pathLabel(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export class BedrockProvider implements Provider {
  readonly api = 'bedrock-converse' as const;
  readonly owner = 'amazon';
  private readonly endpoint: Endpoint;
  private readonly defaultMaxTokens: number | undefined;

  constructor(o: BedrockOptions) {
    this.defaultMaxTokens = o.defaultMaxTokens;
    this.endpoint = new Endpoint({ baseURL: o.baseURL, headers: o.headers, timeoutMs: o.timeoutMs, streamIdleMs: o.streamIdleMs, signer: o.signer });
  }

  private convert(req: ModelRequest) {
    const model = converseModelId(req.model);
    const converted = modelRequestToConverse({ ...req, model }, { defaultMaxTokens: this.defaultMaxTokens });
    return { path: `/model/${pathLabel(model)}`, converted };
  }

  async stream(req: ModelRequest, opts: CallOptions) {
    const { path, converted } = this.convert(req);
    const framing = await eventStreamFraming();
    return this.endpoint.stream(`${path}/converse-stream`, converted.body, mapDecoder(new BedrockStreamDecoder(), converted.calls), opts.signal, framing);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const { path, converted } = this.convert(req);
    const out = converseResponseToOutput(await this.endpoint.post<ConverseResponse>(`${path}/converse`, converted.body, opts.signal));
    return mapOutput(out, converted.calls);
  }

  /** Bedrock lists its models on another service (the control plane), not the runtime: none here. */
  async listModels(): Promise<string[]> {
    return [];
  }
}

export function createBedrock({ params: p, name, env, timeoutMs, streamIdleMs, headers }: ProviderContext): CreatedProvider {
  const region = p.aws_region_name ?? env.AWS_REGION_NAME ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`${p.model}: set aws_region_name (or AWS_REGION / AWS_DEFAULT_REGION) for bedrock/ models`);
  if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`${p.model}: aws_region_name '${region}' is not an AWS region`);
  if (!p.aws_access_key_id !== !p.aws_secret_access_key)
    throw new Error(`${p.model}: aws_access_key_id and aws_secret_access_key go together; set both, or neither for the AWS default credentials`);
  const baseURL = p.aws_bedrock_runtime_endpoint ?? p.api_base ?? `https://bedrock-runtime.${region}.amazonaws.com`;
  // Explicit config first: an api_key, then static keys; then the environment's Bedrock API key; then the default chain.
  const apiKey = p.api_key ?? (p.aws_access_key_id ? undefined : env.AWS_BEARER_TOKEN_BEDROCK);
  let signer: RequestSigner | undefined;
  if (!apiKey) {
    const credentials =
      p.aws_access_key_id && p.aws_secret_access_key
        ? { accessKeyId: p.aws_access_key_id, secretAccessKey: p.aws_secret_access_key, sessionToken: p.aws_session_token }
        : undefined;
    signer = new SigV4Auth({ region, credentials, profile: p.aws_profile_name }).signer;
  }
  return {
    upstreamModel: converseModelId(name),
    provider: new BedrockProvider({
      baseURL,
      headers: { ...(apiKey ? bearerHeaders(apiKey) : {}), ...headers },
      signer,
      timeoutMs,
      streamIdleMs,
      defaultMaxTokens: p.max_tokens,
    }),
  };
}
