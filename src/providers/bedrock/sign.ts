/**
 * How Bedrock requests are authorised (Amazon Bedrock User Guide: "Authenticate with API keys"; AWS
 * IAM User Guide: "AWS Signature Version 4 for API requests"). A Bedrock API key goes out as a Bearer
 * token, unsigned. Otherwise each request is signed with SigV4 for the service `bedrock` over its exact
 * body, by Smithy's SignatureV4 with a SHA-256 from @aws-crypto, with static keys from the config or
 * else the AWS default credential chain (environment, profile, SSO, web identity, container, IMDS). The
 * libraries load on the first request; chain credentials are kept until five minutes before they expire.
 */
import type { SignatureV4 } from '@smithy/signature-v4';
import { ProviderError } from '../../protocol/errors.ts';
import type { OutgoingRequest, RequestSigner } from '../endpoint.ts';
import { unlessAborted } from '../http.ts';

const SERVICE = 'bedrock';
const REFRESH_BEFORE_MS = 5 * 60_000;

/** AWS credentials as the signer takes them (`AwsCredentialIdentity`). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

export interface SigV4Options {
  region: string;
  /** Static keys; without them, the default chain (with `profile`, if given). */
  credentials?: AwsCredentials | undefined;
  profile?: string | undefined;
}

/** Signs every request with SigV4; the signing itself is asynchronous (Smithy's hashing is). */
export class SigV4Auth {
  private readonly options: SigV4Options;
  private signerPromise: Promise<SignatureV4> | null = null;
  private cached: AwsCredentials | null = null;
  private refreshing: Promise<AwsCredentials> | null = null;
  private chain: Promise<() => Promise<AwsCredentials>> | null = null;

  constructor(options: SigV4Options) {
    this.options = options;
  }

  readonly signer: RequestSigner = (req, signal) => unlessAborted(this.sign(req), signal);

  private async sign(req: OutgoingRequest): Promise<Record<string, string>> {
    this.signerPromise ??= this.load();
    const signer = await this.signerPromise;
    const url = new URL(req.url);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      // The host is signed, so it is sent as signed (with its port, as undici would send it).
      headers: { ...req.headers, host: url.host },
      body: req.body,
    });
    return signed.headers;
  }

  private async load(): Promise<SignatureV4> {
    const [{ SignatureV4 }, { Sha256 }] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')]);
    const fixed = this.options.credentials;
    return new SignatureV4({
      service: SERVICE,
      region: this.options.region,
      credentials: fixed ?? (() => this.credentials()),
      sha256: Sha256,
      applyChecksum: false,
    });
  }

  /** The chain's credentials: the cached ones while they have more than five minutes left. */
  private credentials(): Promise<AwsCredentials> {
    const c = this.cached;
    if (c && (!c.expiration || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS)) return Promise.resolve(c);
    this.refreshing ??= this.fromChain().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async fromChain(): Promise<AwsCredentials> {
    this.chain ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) =>
      defaultProvider(this.options.profile ? { profile: this.options.profile } : {}),
    );
    const provider = await this.chain;
    try {
      this.cached = await provider();
    } catch (e) {
      throw new ProviderError(`no AWS credentials for Bedrock: ${(e as Error).message}`, { kind: 'http', status: 401, type: 'authentication_error' });
    }
    return this.cached;
  }
}

/** A Bedrock API key: one fixed header, no signing. */
export function bearerHeaders(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}` };
}
