/** Config loading and model routing (unit level). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { buildDeployments } from '../src/providers/deployments.ts';
import { Router } from '../src/providers/router.ts';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-config-'));
  const p = join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
}

describe('config', () => {
  test('a LiteLLM config loads unchanged, with os.environ/ values resolved', () => {
    const path = file(`
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/MY_OPENAI_KEY
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/MY_ANTHROPIC_KEY
      timeout: 30
      max_retries: 3
  - model_name: local
    litellm_params:
      model: openai/llama3
      api_base: http://localhost:8000/v1
general_settings:
  master_key: os.environ/MASTER
litellm_settings:
  drop_params: true
`);
    const { config, warnings } = loadConfig({ path, env: { MY_OPENAI_KEY: 'sk-1', MY_ANTHROPIC_KEY: 'sk-2', MASTER: 'mk' } });
    assert.deepEqual(warnings, []);
    assert.equal(config.model_list[0]!.litellm_params.api_key, 'sk-1');
    assert.equal(config.general_settings.master_key, 'mk');
    assert.equal(config.general_settings.max_request_size_mb, 32);
    const d = buildDeployments(config, {});
    assert.deepEqual(
      d.map((x) => x.provider.api),
      ['openai-responses', 'anthropic', 'openai-chat'],
    );
    assert.equal(d[1]!.maxRetries, 3);
  });

  test('a missing environment variable is a startup error naming it and its key', () => {
    const path = file(`model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_key: os.environ/NOPE_KEY}\n`);
    assert.throws(
      () => loadConfig({ path, env: {} }),
      (e: Error) => e instanceof ConfigError && /model_list\[0\]\.litellm_params\.api_key: environment variable NOPE_KEY is not set/.test(e.message),
    );
  });

  test('invalid values fail with the path of each bad key', () => {
    const path = file(`
model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: b
    litellm_params: {model: openai/b}
  - model_name: c
    litellm_params: {model: nosuchprovider/c, timeout: -1}
general_settings:
  max_request_size_mb: lots
`);
    assert.throws(
      () => loadConfig({ path, env: {} }),
      (e: Error) =>
        /model_list\[2\]\.litellm_params\.model: unknown provider prefix/.test(e.message) &&
        /model_list\[2\]\.litellm_params\.timeout/.test(e.message) &&
        /general_settings\.max_request_size_mb/.test(e.message),
    );
  });

  test('unknown keys are warnings, once each, not errors', () => {
    const path = file(`
model_list:
  - model_name: a
    litellm_params: {model: openai/a, frobnicate: 1}
router_settings:
  routing_strategy: simple-shuffle
  enable_pre_call_checks: true
callbacks: [langfuse]
`);
    const { warnings, config } = loadConfig({ path, env: {} });
    assert.deepEqual(warnings.sort(), [
      'callbacks: unknown key, ignored',
      'model_list[0].litellm_params.frobnicate: unknown key, ignored',
      'router_settings.enable_pre_call_checks: unknown key, ignored',
    ]);
    assert.equal(config.model_list.length, 1);
  });

  test('MCP server names with a dash are a startup error that says why', () => {
    const path = file(`mcp_servers:\n  my-server: {url: "http://127.0.0.1:9/mcp"}\n  ok_name: {command: node}\n  bad_http: {transport: http}\n`);
    assert.throws(
      () => loadConfig({ path, env: {} }),
      (e: Error) =>
        /mcp_servers\.my-server: server names must match \^\[A-Za-z0-9_\]\{1,32\}\$ \(no '-'/.test(e.message) &&
        /mcp_servers\.bad_http\.url: required for transport http/.test(e.message),
    );
  });

  test('a missing file and broken YAML are one-line errors', () => {
    assert.throws(() => loadConfig({ path: '/nonexistent/toolgate.yaml' }), /config file not found: \/nonexistent\/toolgate.yaml/);
    assert.throws(() => loadConfig({ path: file('model_list: [\n') }), /invalid YAML/);
  });

  test('zero config: OPENAI_API_KEY routes any name, ANTHROPIC_API_KEY routes claude-*', () => {
    const { config } = loadConfig({ env: { OPENAI_API_KEY: 'sk-o', ANTHROPIC_API_KEY: 'sk-a', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
    const router = new Router(buildDeployments(config, {}));
    const claude = router.resolve('claude-sonnet-4-5')!;
    assert.equal(claude.candidates[0]!.deployment.provider.api, 'anthropic');
    assert.equal(claude.candidates[0]!.upstreamModel, 'claude-sonnet-4-5');
    const gpt = router.resolve('gpt-4.1-mini')!;
    assert.equal(gpt.candidates[0]!.upstreamModel, 'gpt-4.1-mini');
    assert.equal(gpt.candidates[0]!.deployment.provider.api, 'openai-chat', 'a non-OpenAI base URL defaults to Chat');
    const none = loadConfig({ env: {} });
    assert.equal(new Router(buildDeployments(none.config, {})).resolve('gpt-4o'), null);
  });

  test('wildcards: the most specific pattern wins and fills in the upstream name', () => {
    const { config } = loadConfig({
      raw: {
        model_list: [
          { model_name: '*', litellm_params: { model: 'openai/*' } },
          { model_name: 'groq/*', litellm_params: { model: 'groq/*' } },
          { model_name: 'fast-*', litellm_params: { model: 'openai/gpt-4o-mini' } },
          { model_name: 'exact', litellm_params: { model: 'anthropic/claude-x' } },
        ],
      },
      env: {},
    });
    const r = new Router(buildDeployments(config, {}));
    assert.equal(r.resolve('groq/llama-3.3-70b')!.candidates[0]!.upstreamModel, 'llama-3.3-70b');
    assert.equal(r.resolve('fast-anything')!.candidates[0]!.upstreamModel, 'gpt-4o-mini');
    assert.equal(r.resolve('exact')!.candidates[0]!.deployment.provider.api, 'anthropic');
    assert.equal(r.resolve('o3')!.candidates[0]!.upstreamModel, 'o3');
  });
});
