/**
 * Vertex AI's credentials (Google Cloud: "Authenticate to Vertex AI"; google-auth-library): a credential
 * JSON (`vertex_credentials`, as a file's path or its text, else the file GOOGLE_APPLICATION_CREDENTIALS
 * names), or else Application Default Credentials; exchanged for OAuth access tokens of scope cloud-platform
 * by google-auth-library, loaded on first use. A service account or user credential gets its own client
 * type (the library's advice for credential files, rather than `GoogleAuth`'s deprecated `credentials`);
 * other types and ADC go through `GoogleAuth`. A request is signed synchronously while the last token has
 * more than five minutes left; one refresh at a time runs otherwise, and every request waiting on it gets it.
 */
import { readFileSync } from 'node:fs';
import type { AnyAuthClient, GoogleAuth } from 'google-auth-library';

type Library = typeof import('google-auth-library');
import { ProviderError } from '../../protocol/errors.ts';
import type { OutgoingRequest, RequestSigner } from '../endpoint.ts';
import { unlessAborted } from '../http.ts';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const REFRESH_BEFORE_MS = 5 * 60_000;
/** Where google-auth-library (its bundled gtoken) always sends the service-account token exchange. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A token whose expiry the library did not report is kept this long (Google's are valid for an hour). */
const UNKNOWN_LIFETIME_MS = 10 * 60_000;

/** The fields of a credential JSON the gateway reads itself; the library reads the whole. */
interface CredentialJson {
  type?: string;
  project_id?: string;
  token_uri?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  quota_project_id?: string;
  [key: string]: unknown;
}

/** A credential JSON given as its text or as the path of its file. */
function readCredentials(value: string, what: string): CredentialJson {
  let text = value;
  if (!value.trimStart().startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (e) {
      throw new Error(`${what}: cannot read the credentials file ${value}: ${(e as Error).message}`);
    }
  }
  try {
    const json = JSON.parse(text);
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as CredentialJson;
  } catch {
    // reported below
  }
  throw new Error(`${what} is not a credentials JSON object (a service account key file, or its text)`);
}

/** Credential types given a client of their own (`VertexAuth.ownClient`). */
function hasOwnClient(c: CredentialJson): boolean {
  return c.type === 'service_account' || c.type === 'authorized_user';
}

export class VertexAuth {
  /** The project the credentials belong to (a service account's `project_id`), when they say. */
  readonly credentialsProject: string | undefined;
  private readonly credentials: CredentialJson | undefined;
  private token: { value: string; expiresAt: number } | null = null;
  private refreshing: Promise<string> | null = null;
  private auth: Promise<GoogleAuth> | null = null;
  private client: Promise<AnyAuthClient> | null = null;
  private project: Promise<string> | null = null;

  /** `credentials`: vertex_credentials (a path or JSON text); `env` for GOOGLE_APPLICATION_CREDENTIALS. */
  constructor(credentials: string | undefined, env: NodeJS.ProcessEnv) {
    const adcFile = env.GOOGLE_APPLICATION_CREDENTIALS;
    this.credentials = credentials
      ? readCredentials(credentials, 'vertex_credentials')
      : adcFile
        ? readCredentials(adcFile, 'GOOGLE_APPLICATION_CREDENTIALS')
        : undefined;
    this.credentialsProject = typeof this.credentials?.project_id === 'string' ? this.credentials.project_id : undefined;
  }

  /** Authorises a request with a Bearer token: synchronously while the cached one serves. */
  readonly signer: RequestSigner = (req: OutgoingRequest, signal: AbortSignal) => {
    const t = this.token;
    if (t && t.expiresAt - Date.now() > REFRESH_BEFORE_MS) return { ...req.headers, authorization: `Bearer ${t.value}` };
    return unlessAborted(this.refresh(), signal).then((token) => ({ ...req.headers, authorization: `Bearer ${token}` }));
  };

  /** The project to call when the config names none: the credentials', else what Application Default Credentials say. */
  projectId(): Promise<string> {
    if (this.credentialsProject) return Promise.resolve(this.credentialsProject);
    this.project ??= this.googleAuth()
      .then((auth) => auth.getProjectId())
      .catch((e: Error) => {
        this.project = null;
        throw new ProviderError(`no Vertex AI project: set vertex_project or VERTEXAI_PROJECT (${e.message})`, {
          kind: 'http',
          status: 401,
          type: 'authentication_error',
        });
      });
    return this.project;
  }

  private refresh(): Promise<string> {
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async fetchToken(): Promise<string> {
    const client = await this.authClient();
    // The library returns its cached token until it is within REFRESH_BEFORE_MS of expiry, then refreshes.
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('Google returned no access token');
    const expiry = client.credentials.expiry_date;
    this.token = { value: token, expiresAt: typeof expiry === 'number' ? expiry : Date.now() + UNKNOWN_LIFETIME_MS };
    return token;
  }

  private library(): Promise<Library> {
    return import('google-auth-library');
  }

  /** For Application Default Credentials, and credential types without a client of their own here. */
  private googleAuth(): Promise<GoogleAuth> {
    const c = this.credentials;
    this.auth ??= this.library().then(
      ({ GoogleAuth }) =>
        new GoogleAuth({
          scopes: [SCOPE],
          ...(c && !hasOwnClient(c) ? { credentials: c } : {}),
          clientOptions: { eagerRefreshThresholdMillis: REFRESH_BEFORE_MS },
        }),
    );
    return this.auth;
  }

  private authClient(): Promise<AnyAuthClient> {
    this.client ??= this.library()
      .then(async (lib) => {
        const client = this.ownClient(lib) ?? (await (await this.googleAuth()).getClient());
        this.honourTokenUri(client);
        return client;
      })
      .catch((e: unknown) => {
        this.client = null;
        throw e;
      });
    return this.client;
  }

  /** A service account's or a user's credentials, in the client type made for them. */
  private ownClient(lib: Library): AnyAuthClient | null {
    const c = this.credentials;
    const common = { eagerRefreshThresholdMillis: REFRESH_BEFORE_MS, ...(c?.quota_project_id ? { quotaProjectId: c.quota_project_id } : {}) };
    if (c?.type === 'service_account') return new lib.JWT({ ...common, email: c.client_email, key: c.private_key, keyId: c.private_key_id, scopes: [SCOPE] });
    if (c?.type === 'authorized_user')
      return new lib.UserRefreshClient({ ...common, clientId: c.client_id, clientSecret: c.client_secret, refreshToken: c.refresh_token });
    return null;
  }

  /**
   * google-auth-library ignores a service account's `token_uri` (its gtoken posts to Google's token URL,
   * fixed in the code); its supported hook is the client's transporter (a Gaxios instance), whose request
   * interceptors may rewrite the URL. Only that exchange is redirected; the signed JWT keeps its audience.
   */
  private honourTokenUri(client: AnyAuthClient): void {
    const uri = this.credentials?.type === 'service_account' ? this.credentials.token_uri : undefined;
    if (typeof uri !== 'string' || uri === GOOGLE_TOKEN_URL) return;
    const target = new URL(uri);
    client.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (config.url.href === GOOGLE_TOKEN_URL) config.url = target;
        return config;
      },
    });
  }
}
