/** Access: key ∩ team grants (models, MCP servers and their tools, as LiteLLM's fields say them) and what a call costs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costOf } from '../src/access/cost.ts';
import { KeyCache } from '../src/access/key-cache.ts';
import { hashKey, maskKey, newKey } from '../src/access/keys.ts';
import { durationMs } from '../src/protocol/admin.ts';
import { allowsModel, allowsServer, allowsTool, effectiveGrant, UNRESTRICTED } from '../src/access/grants.ts';

test('no models listed means every model; a list (with * patterns) limits; a team limits its keys too', () => {
  assert.equal(allowsModel(UNRESTRICTED, 'gpt-4o'), true);
  assert.equal(allowsModel(effectiveGrant({ models: [] }), 'anything'), true);
  const key = effectiveGrant({ models: ['gpt-4o', 'claude-*'] });
  assert.deepEqual(
    ['gpt-4o', 'claude-sonnet', 'gpt-4o-mini'].map((m) => allowsModel(key, m)),
    [true, true, false],
  );
  const inTeam = effectiveGrant({ models: ['gpt-4o', 'claude-*'] }, { models: ['claude-sonnet', 'gpt-4o-mini'] });
  assert.deepEqual(
    ['gpt-4o', 'claude-sonnet', 'claude-opus', 'gpt-4o-mini'].map((m) => allowsModel(inTeam, m)),
    [false, true, false, false],
  );
  const teamOnly = effectiveGrant({ models: ['all-team-models'] }, { models: ['gpt-4o'] });
  assert.deepEqual(
    ['gpt-4o', 'o3'].map((m) => allowsModel(teamOnly, m)),
    [true, false],
  );
});

test('mcp_servers grants every tool of a server; mcp_tool_permissions only the tools it lists, even of a server also granted whole', () => {
  const g = effectiveGrant({
    object_permission: { mcp_servers: ['github', 'fixture'], mcp_tool_permissions: { fixture: ['add'], jira: ['search'] } },
  });
  assert.deepEqual(
    ['github', 'fixture', 'jira', 'slack'].map((s) => allowsServer(g, s)),
    [true, true, true, false],
  );
  assert.equal(allowsTool(g, 'github', 'create_issue'), true);
  assert.deepEqual([allowsTool(g, 'fixture', 'add'), allowsTool(g, 'fixture', 'echo')], [true, false]);
  assert.deepEqual([allowsTool(g, 'jira', 'search'), allowsTool(g, 'jira', 'delete')], [true, false]);
  assert.equal(allowsTool(g, 'slack', 'post'), false);
  assert.equal(allowsTool(effectiveGrant({ object_permission: {} }), 'slack', 'post'), true, 'an empty permission restricts nothing');
});

test("a key's MCP grant within its team's: servers both name, tools both allow", () => {
  const g = effectiveGrant(
    { object_permission: { mcp_servers: ['github', 'fixture'], mcp_tool_permissions: { jira: ['search', 'read'] } } },
    { object_permission: { mcp_servers: ['fixture', 'jira'], mcp_tool_permissions: { github: ['list_issues'] } } },
  );
  assert.deepEqual(
    ['github', 'fixture', 'jira', 'slack'].map((s) => allowsServer(g, s)),
    [true, true, true, false],
  );
  assert.deepEqual([allowsTool(g, 'github', 'list_issues'), allowsTool(g, 'github', 'create_issue')], [true, false]);
  assert.equal(allowsTool(g, 'fixture', 'anything'), true);
  assert.deepEqual([allowsTool(g, 'jira', 'search'), allowsTool(g, 'jira', 'delete')], [true, false]);
  const teamOnly = effectiveGrant({}, { object_permission: { mcp_servers: ['fixture'] } });
  assert.deepEqual([allowsServer(teamOnly, 'fixture'), allowsServer(teamOnly, 'github')], [true, false]);
});

test("a call's cost: uncached input, cached input at its own price (else as input), output", () => {
  const usage = { input_tokens: 1000, output_tokens: 200, input_tokens_details: { cached_tokens: 600 } };
  const prices = { input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001, cache_read_input_token_cost: 0.00000125 };
  assert.equal(Number(costOf(usage, prices).toFixed(10)), Number((400 * 0.0000025 + 600 * 0.00000125 + 200 * 0.00001).toFixed(10)));
  assert.equal(Number(costOf(usage, { input_cost_per_token: 0.000001 }).toFixed(10)), 0.001);
  assert.equal(costOf(usage, {}), 0);
});

test('keys: shown once, stored as their SHA-256 (hex), listed masked; durations as LiteLLM writes them', () => {
  const key = newKey();
  assert.match(key, /^sk-[A-Za-z0-9_-]{43}$/);
  assert.notEqual(newKey(), key);
  assert.equal(hashKey('sk-1234'), '88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b'); // as LiteLLM stores it
  assert.match(hashKey(key), /^[0-9a-f]{64}$/);
  assert.equal(maskKey('sk-abcdefgh1234'), 'sk-...1234');
  assert.deepEqual(['30s', '5m', '2h', '30d', '1mo'].map(durationMs), [30_000, 300_000, 7_200_000, 2_592_000_000, 2_592_000_000]);
  assert.throws(() => durationMs('5 minutes'));
});

test('the key cache reads a key at most once a second (concurrent lookups share the read), forgets on demand, and refuses an expired key', async () => {
  let now = 1_000_000;
  const reads: string[] = [];
  const base = { key_name: 'sk-...x', key_alias: null, models: ['c/*'], max_budget: null, budget_duration: null, budget_reset_at: null, spend: 0 };
  const more = { rpm_limit: null, tpm_limit: null, metadata: {}, object_permission: null, created_at: '2026-01-01T00:00:00Z' };
  const keys: Record<string, any> = {
    live: { token: 'live', team_id: 'T', expires: null, ...base, ...more },
    old: { token: 'old', team_id: null, expires: new Date(now + 500).toISOString(), ...base, ...more },
  };
  const store = {
    getKey: async (token: string) => {
      reads.push(token);
      return keys[token] ?? null;
    },
    getTeam: async () => ({ team_id: 'T', team_alias: null, ...base, models: ['c/team-*'], ...more }),
  };
  const cache = new KeyCache(store as never, { now: () => now });
  const [a, b] = await Promise.all([cache.lookup('live'), cache.lookup('live')]);
  assert.equal(a, b);
  assert.deepEqual(reads, ['live']);
  assert.deepEqual(
    ['c/team-1', 'c/other'].map((m) => allowsModel(a!.grant, m)),
    [true, false],
  );
  now += 999;
  await cache.lookup('live');
  assert.deepEqual(reads, ['live'], 'fresh for a second');
  now += 1;
  delete keys.live;
  assert.equal(await cache.lookup('live'), null, 'a deleted key is gone after a second');
  keys.live = { token: 'live', team_id: null, expires: null, ...base, ...more };
  cache.forget('live');
  assert.ok(await cache.lookup('live'), 'forget reads again at once');
  assert.equal(await cache.lookup('old'), null, 'expired');
  assert.equal(await cache.lookup('nope'), null);
});
