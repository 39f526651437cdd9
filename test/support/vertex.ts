/** A Vertex AI service account for tests: a key made once per process, its token exchange pointed at the mock. */
import { generateKeyPairSync } from 'node:crypto';
import type { MockProvider } from '../../fixtures/mock-provider.ts';

let keys: { privateKey: string; publicKey: string } | undefined;

/** The test service account's key pair (PEM). */
export function serviceAccountKeys(): { privateKey: string; publicKey: string } {
  keys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return keys;
}

/** The service account JSON, as `vertex_credentials` takes it (its text). */
export function vertexCredentials(mock: MockProvider): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'proj',
    private_key_id: 'mock-key-1',
    private_key: serviceAccountKeys().privateKey,
    client_email: 'gateway@proj.iam.gserviceaccount.com',
    client_id: '1234567890',
    token_uri: `${mock.url}/token`,
  });
}
