/**
 * A LiteLLM config.yaml naming one model of every provider prefix, in the form LiteLLM's documentation
 * gives, loads unchanged (no warnings, no errors) and routes each model to its provider's client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import { buildDeployments } from '../src/providers/deployments.ts';
import { serviceAccountKeys } from './support/vertex.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/litellm-providers.yaml', import.meta.url));

function environment(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-vertex-'));
  const credentials = join(dir, 'service_account.json');
  writeFileSync(
    credentials,
    JSON.stringify({
      type: 'service_account',
      project_id: 'project-id',
      private_key_id: 'k1',
      private_key: serviceAccountKeys().privateKey,
      client_email: 'sa@project-id.iam.gserviceaccount.com',
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
  );
  return {
    AZURE_API_KEY_EU: 'az-eu',
    AZURE_API_BASE: 'https://my-endpoint.openai.azure.com',
    AZURE_API_KEY: 'az',
    AZURE_AI_API_KEY: 'azai',
    GEMINI_API_KEY: 'gem',
    VERTEX_FILE_PATH_ENV_VAR: credentials,
    CUSTOM_AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    CUSTOM_AWS_SECRET_ACCESS_KEY: 'secret',
    CUSTOM_AWS_REGION_NAME: 'us-west-2',
    MISTRAL_API_KEY: 'mi',
    COHERE_API_KEY: 'co',
  };
}

test('the documented forms of every provider load without a warning and route to their own clients', () => {
  const env = environment();
  const loaded = loadConfig({ path: CONFIG, env });
  assert.deepEqual(loaded.warnings, []);
  const deployments = buildDeployments(loaded.config, env);
  const routed = Object.fromEntries(deployments.map((d) => [d.modelName, [d.provider.api, d.provider.owner, d.upstreamModel]]));
  assert.deepEqual(routed, {
    'gpt-4o': ['openai-chat', 'azure', 'gpt-4o-eu'],
    'gpt-4o-responses': ['openai-responses', 'azure', 'gpt-4o-eu'],
    'mistral-large-azure': ['openai-chat', 'azure_ai', 'mistral-large-latest'],
    'gemini-2.5-flash': ['gemini', 'google', 'gemini-2.5-flash'],
    'gemini-vertex': ['gemini', 'google', 'gemini-2.5-pro'],
    'claude-vertex': ['anthropic', 'google', 'claude-sonnet-4@20250514'],
    'bedrock-claude-v1': ['bedrock-converse', 'amazon', 'anthropic.claude-3-5-sonnet-20240620-v1:0'],
    'nova-converse': ['bedrock-converse', 'amazon', 'us.amazon.nova-pro-v1:0'],
    'mistral-small-latest': ['openai-chat', 'mistral', 'mistral-small-latest'],
    'command-a': ['openai-chat', 'cohere', 'command-a-03-2025'],
  });
  const { router_settings: r, litellm_settings: l } = loaded.config;
  assert.deepEqual(r.fallbacks, [{ 'gpt-4o': ['gemini-2.5-flash'] }]);
  assert.deepEqual(r.model_group_alias, { 'gpt-4': 'gpt-4o' });
  assert.deepEqual([r.allowed_fails, r.cooldown_time], [3, 30]);
  assert.deepEqual(l.content_policy_fallbacks, [{ 'claude-vertex': ['bedrock-claude-v1'] }]);
});

test('a provider prefix toolgate does not serve is refused at startup, naming the prefixes it does', () => {
  assert.throws(
    () => loadConfig({ raw: { model_list: [{ model_name: 'x', litellm_params: { model: 'sagemaker/my-endpoint' } }] }, env: {} }),
    (e: Error) => /unknown provider prefix; use openai\/, anthropic\/, azure\/, azure_ai\/, gemini\/, vertex_ai\/, bedrock\//.test(e.message),
  );
});
