/** The admin API over real HTTP, as LiteLLM's scripts call it: keys and teams made, read, changed, listed and deleted. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { forwardedHeaders } from '../src/mcp-client/headers.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const MASTER = 'sk-master-admin-test';
let t: TestGateway;

before(async () => {
  t = await startTestGateway({ general_settings: { master_key: MASTER } });
});
after(() => t.close());

async function call(method: 'GET' | 'POST', path: string, body?: unknown, key: string | null = MASTER) {
  const res = await fetch(`${t.gw.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('keys', () => {
  test('generate shows the key once and stores only its hash; info by key, by token, and by the key itself for its own', async () => {
    const made = await call('POST', '/key/generate', {
      key_alias: 'ci-agent',
      models: ['c/*'],
      max_budget: 5,
      budget_duration: '30d',
      rpm_limit: 60,
      object_permission: { mcp_servers: ['fixture'] },
      metadata: { owner: 'ci' },
    });
    assert.equal(made.status, 200);
    const { key, token } = made.json;
    assert.match(key, /^sk-/);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(made.json.key_name, `sk-...${key.slice(-4)}`);
    assert.ok(Date.parse(made.json.budget_reset_at) > Date.now() + 29 * 86_400_000);

    for (const asked of [key, token]) {
      const info = await call('GET', `/key/info?key=${encodeURIComponent(asked)}`);
      assert.equal(info.status, 200);
      assert.equal(info.json.key, token);
      assert.deepEqual([info.json.info.key_alias, info.json.info.models, info.json.info.rpm_limit, info.json.info.spend], ['ci-agent', ['c/*'], 60, 0]);
      assert.deepEqual(info.json.info.object_permission, { mcp_servers: ['fixture'] });
      assert.equal(JSON.stringify(info.json).includes(key), false, 'the key itself is never shown again');
    }
    const own = await call('GET', '/key/info', undefined, key);
    assert.equal(own.status, 200);
    assert.equal(own.json.info.key_alias, 'ci-agent');
    const other = await call('GET', `/key/info?key=${'0'.repeat(64)}`, undefined, key);
    assert.equal(other.status, 403);
  });

  test('update changes only what it names; delete removes the key everywhere it is asked for', async () => {
    const { json: made } = await call('POST', '/key/generate', { key_alias: 'temp', tpm_limit: 1000 });
    const updated = await call('POST', '/key/update', { key: made.key, rpm_limit: 4 });
    assert.equal(updated.status, 200);
    assert.deepEqual([updated.json.rpm_limit, updated.json.tpm_limit, updated.json.key_alias], [4, 1000, 'temp']);
    const deleted = await call('POST', '/key/delete', { keys: [made.key] });
    assert.deepEqual(deleted.json, { deleted_keys: [made.key] });
    assert.equal((await call('GET', `/key/info?key=${made.token}`)).status, 404);
    assert.equal((await call('POST', '/key/update', { key: made.token, rpm_limit: 1 })).status, 404);
    assert.equal((await call('POST', '/key/delete', { keys: [made.key] })).status, 404);
  });

  test('only the master key may administer: a virtual key gets 403, none 401, a bad body 400 in OpenAI shape', async () => {
    const { json: made } = await call('POST', '/key/generate', {});
    assert.equal((await call('POST', '/key/generate', {}, made.key)).status, 403);
    assert.equal((await call('POST', '/key/generate', {}, null)).status, 401);
    const bad = await call('POST', '/key/generate', { budget_duration: 'a month' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'budget_duration');
    assert.equal((await call('POST', '/key/generate', { team_id: 'no-such-team' })).status, 404);
  });
});

describe('teams', () => {
  test('new, info with its keys, update, list, keys listed by team, delete', async () => {
    const made = await call('POST', '/team/new', { team_alias: 'platform', models: ['c/*', 'a/*'], tpm_limit: 5000 });
    assert.equal(made.status, 200);
    const teamId = made.json.team_id;
    assert.equal((await call('POST', '/team/new', { team_id: teamId })).status, 400);
    const { json: key } = await call('POST', '/key/generate', { team_id: teamId, key_alias: 'platform-ci' });
    const info = await call('GET', `/team/info?team_id=${teamId}`);
    assert.deepEqual(
      [info.json.team_info.team_alias, info.json.team_info.models, info.json.keys.map((k: any) => k.token)],
      ['platform', ['c/*', 'a/*'], [key.token]],
    );
    const updated = await call('POST', '/team/update', { team_id: teamId, max_budget: 100 });
    assert.deepEqual([updated.json.max_budget, updated.json.tpm_limit], [100, 5000]);
    assert.ok((await call('GET', '/team/list')).json.some((x: any) => x.team_id === teamId));
    const listed = await call('GET', `/key/list?team_id=${teamId}`);
    assert.deepEqual(listed.json, { keys: [key.token], total_count: 1, current_page: 1, total_pages: 1 });
    assert.deepEqual((await call('POST', '/team/delete', { team_ids: [teamId] })).json, { deleted_teams: [teamId] });
    assert.equal((await call('GET', `/team/info?team_id=${teamId}`)).status, 404);
  });

  test('key/list pages: size and page, counted in the store', async () => {
    const { json: team } = await call('POST', '/team/new', {});
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push((await call('POST', '/key/generate', { team_id: team.team_id })).json.token);
    const page1 = await call('GET', `/key/list?team_id=${team.team_id}&size=2&page=1`);
    const page2 = await call('GET', `/key/list?team_id=${team.team_id}&size=2&page=2`);
    assert.deepEqual({ ...page2.json, keys: page2.json.keys.length }, { keys: 1, total_count: 3, current_page: 2, total_pages: 2 });
    assert.deepEqual([...page1.json.keys, ...page2.json.keys].sort(), [...tokens].sort());
  });

  test('spend logs answer (empty until requests are priced)', async () => {
    const logs = await call('GET', '/spend/logs');
    assert.equal(logs.status, 200);
    assert.ok(Array.isArray(logs.json));
  });
});

describe('virtual keys on /v1', () => {
  test('a key sees and uses only its models: others are answered as if they did not exist', async () => {
    const { json: made } = await call('POST', '/key/generate', { models: ['c/*'] });
    const ask = (model: string) => call('POST', '/v1/responses', { model, input: 'hi' }, made.key);
    const ok = await ask('c/granted-model');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.output_text ?? ok.json.output[0].content[0].text, 'echo: hi');
    const hidden = await ask('a/claude-hidden');
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.error.code, 'model_not_found');
    const chat = await call('POST', '/v1/chat/completions', { model: 'r/hidden', messages: [{ role: 'user', content: 'x' }] }, made.key);
    assert.equal(chat.status, 404);
    const models = await call('GET', '/v1/models', undefined, made.key);
    assert.ok(models.json.data.length > 0);
    assert.ok(
      models.json.data.every((m: any) => m.id.startsWith('c/')),
      JSON.stringify(models.json.data),
    );
    assert.equal((await call('GET', '/v1/models/a%2Fclaude-x', undefined, made.key)).status, 404);
    assert.equal(
      (await call('GET', '/v1/models', undefined, MASTER)).json.data.some((m: any) => m.id.startsWith('a/')),
      true,
    );
  });

  test("a team's models bound its keys; an unknown, deleted or expired key is refused with 401", async () => {
    const { json: team } = await call('POST', '/team/new', { models: ['c/team-*'] });
    const { json: key } = await call('POST', '/key/generate', { team_id: team.team_id });
    const ask = (model: string, k = key.key) => call('POST', '/v1/responses', { model, input: 'x' }, k);
    assert.equal((await ask('c/team-model')).status, 200);
    assert.equal((await ask('c/other-model')).status, 404);
    assert.equal((await ask('c/team-model', 'sk-not-a-key')).status, 401);
    const { json: expired } = await call('POST', '/key/generate', { duration: '0s' });
    assert.equal((await ask('c/team-model', expired.key)).status, 401);
    await call('POST', '/key/delete', { keys: [key.key] });
    assert.equal((await ask('c/team-model')).status, 401);
  });
});

test('the caller key never reaches an MCP upstream, virtual or master', () => {
  const request = { authorization: 'Bearer sk-virtual-1', 'x-mcp-github-authorization': 'Bearer gh-token', 'x-trace': 'sk-virtual-1 rides along' };
  assert.deepEqual(forwardedHeaders('github', ['x-trace'], request, 'sk-master'), { authorization: 'Bearer gh-token' });
  // a server configured to take the client's Authorization gets nothing when that is the gateway key
  assert.deepEqual(forwardedHeaders('jira', ['authorization'], request, 'sk-master'), {});
  // without gateway auth, a client's Authorization may be meant for the upstream
  assert.deepEqual(forwardedHeaders('jira', ['authorization'], request, undefined), { authorization: 'Bearer sk-virtual-1' });
});
