/**
 * One contract for every store: the same behaviours run against SQLite (a temporary file) and
 * PostgreSQL (a schema of its own in database `test` at 127.0.0.1:5432, dropped after), then what only
 * PostgreSQL's replicas add (heartbeats, failing only a stopped replica's responses, schemas).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { hashKey, maskKey, newKey } from '../src/access/keys.ts';
import type { KeyRecord, SpendLog, TeamRecord, ToolCallAudit } from '../src/protocol/admin.ts';
import type { ResponseObject } from '../src/protocol/events.ts';
import { newResponseObject } from '../src/protocol/response-object.ts';
import { openStore } from '../src/store/open.ts';
import { parseDatabaseUrl, type PostgresStore, type PostgresStoreOptions } from '../src/store/postgres.ts';
import type { Store, StoredResponse } from '../src/store/types.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test';
const INTERRUPTED = { code: 'server_error', message: 'The gateway stopped while this response was in progress.' };

const hex = () => randomBytes(6).toString('hex');
let seq = 0;
const newRespId = () => `resp_${hex()}${seq++}`;

/** A response as the gateway stores it, with content that must come back byte for byte. */
function stored(id = newRespId(), over: Partial<ResponseObject> = {}, items = 1): StoredResponse {
  const response = { ...newResponseObject(id, { model: 'm', input: 'x' } as never, { model: 'm', store: true }), ...over };
  const inputItems = Array.from({ length: items }, (_, i) => ({
    id: `msg_${id}_${i}`,
    type: 'message',
    role: 'user',
    content: i === 0 ? 'quotes " and \\ and \u0000 and 🦜 and \u2028' : `item ${i}`,
  })) as StoredResponse['inputItems'];
  return { response, inputItems, request: { model: 'm', input: 'x', zeta: 1, alpha: { nested: [1, 'two', null] } }, approvals: {} };
}

/** A key as the admin API makes it, every field set to something that must come back as it was. */
function keyRecord(over: Partial<KeyRecord> = {}): KeyRecord {
  const key = newKey();
  return {
    token: hashKey(key),
    key_name: maskKey(key),
    key_alias: `ci-${hex()}`,
    team_id: null,
    models: ['gpt-4o', 'claude'],
    max_budget: 5,
    budget_duration: '30d',
    budget_reset_at: '2030-01-01T00:00:00.000Z',
    spend: 0,
    rpm_limit: 60,
    tpm_limit: null,
    metadata: { zeta: 1, alpha: { nested: [1, 'two', null] }, text: 'quotes " and \\ and 🦜' },
    object_permission: { mcp_servers: ['files'], mcp_tool_permissions: { git: ['status', 'log'] } },
    expires: null,
    created_at: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function teamRecord(over: Partial<TeamRecord> = {}): TeamRecord {
  return {
    team_id: `team_${hex()}${seq++}`,
    team_alias: 'platform',
    models: [],
    max_budget: null,
    budget_duration: null,
    budget_reset_at: null,
    spend: 0,
    rpm_limit: null,
    tpm_limit: 100_000,
    metadata: {},
    object_permission: null,
    created_at: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function spendLog(api_key: string, team_id: string | null, startTime: string, over: Partial<SpendLog> = {}): SpendLog {
  return {
    request_id: `req_${hex()}${seq++}`,
    api_key,
    team_id,
    model: 'gpt-4o',
    prompt_tokens: 10,
    completion_tokens: 5,
    spend: 0.125,
    startTime,
    endTime: new Date(new Date(startTime).getTime() + 1500).toISOString(),
    ...over,
  };
}

/** A copy, as a reader gets it (the saved objects stay live). */
const snapshot = <T>(x: T): T => JSON.parse(JSON.stringify(x));

interface Database {
  url: string;
  /** The migration versions recorded in it. */
  versions(): Promise<number[]>;
  drop(): Promise<void>;
}

interface Kind {
  name: string;
  /** A new, empty database. */
  fresh(): Promise<Database>;
}

const sqlite: Kind = {
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-store-'));
    const file = join(dir, 'toolgate.db');
    return {
      url: `sqlite:${file}`,
      async versions() {
        const db = new DatabaseSync(file);
        const { user_version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
        db.close();
        return Array.from({ length: user_version }, (_, i) => i + 1);
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const admin = postgres(PG_BASE, { max: 2, onnotice: () => {} });
after(() => admin.end({ timeout: 5 }));
const pg: Kind = {
  name: 'postgres',
  async fresh() {
    const schema = `toolgate_test_${hex()}`;
    return {
      url: `${PG_BASE}?schema=${schema}`,
      async versions() {
        const rows = await admin<{ version: number }[]>`SELECT version FROM ${admin(schema)}.toolgate_migrations ORDER BY version`;
        return rows.map((r) => r.version);
      },
      async drop() {
        await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
      },
    };
  },
};

/** Opens stores on databases made for one describe block; everything is closed and dropped after it. */
function harness(kind: Kind) {
  const stores: Store[] = [];
  const databases: Database[] = [];
  return {
    async fresh() {
      const db = await kind.fresh();
      databases.push(db);
      return db;
    },
    async open(url: string, opts?: PostgresStoreOptions) {
      const store = await openStore(url, opts);
      stores.push(store);
      return store;
    },
    async cleanup() {
      for (const s of stores) await s.close();
      for (const db of databases) await db.drop();
    },
  };
}

/** Opens the store in a worker thread, every worker released at the same instant, and saves one response there. */
function inWorker(url: string, r: StoredResponse, gate: Int32Array): { ready: Promise<void>; done: Promise<void> } {
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     (async () => {
       const { openStore } = await import(workerData.module);
       parentPort.postMessage('ready');
       Atomics.wait(workerData.gate, 0, 0);
       const store = await openStore(workerData.url);
       await store.saveResponse(workerData.r);
       await store.close();
       parentPort.postMessage('done');
     })().catch((e) => parentPort.postMessage(String((e && e.stack) || e)));`,
    { eval: true, workerData: { module: new URL('../src/store/open.ts', import.meta.url).href, url, r, gate } },
  );
  let ready!: () => void;
  const readyP = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => {
      if (m === 'ready') ready();
      else if (m === 'done') resolve();
      else reject(new Error(m));
    });
    worker.on('error', reject);
  });
  return { ready: readyP, done };
}

for (const kind of [sqlite, pg]) {
  describe(`store contract: ${kind.name}`, () => {
    const h = harness(kind);
    let url: string;
    let store: Store;
    before(async () => {
      url = (await h.fresh()).url;
      store = await h.open(url);
    });
    after(() => h.cleanup());

    test('a saved response reads back as it was saved: content, key order, status', async () => {
      const r = stored(undefined, {}, 2);
      await store.saveResponse(r);
      const got = await store.getResponse(r.response.id);
      assert.deepEqual(got, snapshot(r));
      assert.deepEqual(Object.keys(got!.response), Object.keys(r.response), 'keys keep their order');
      assert.deepEqual(Object.keys(got!.request as object), ['model', 'input', 'zeta', 'alpha']);
      assert.equal(await store.responseStatus(r.response.id), 'in_progress');
    });

    test('an unknown id: no response, no status, no items, nothing deleted', async () => {
      assert.equal(await store.getResponse('resp_unknown'), null);
      assert.equal(await store.responseStatus('resp_unknown'), null);
      assert.equal(await store.listInputItems('resp_unknown', { limit: 20, order: 'asc' }), null);
      assert.equal(await store.deleteResponse('resp_unknown'), false);
    });

    test('a later save replaces the response, its status and approvals; request and input items stay as first saved', async () => {
      const r = stored();
      await store.saveResponse(r);
      const first = snapshot(r);
      const later: StoredResponse = {
        ...r,
        response: { ...r.response, status: 'completed', output: [{ type: 'message', id: 'msg_out', role: 'assistant', status: 'completed', content: [] }] },
        inputItems: [],
        request: { changed: true },
        approvals: { mcpr_1: { server: 's', tool: 't' } },
      };
      await store.saveResponse(later);
      const got = await store.getResponse(r.response.id);
      assert.deepEqual(got, { ...snapshot(later), inputItems: first.inputItems, request: first.request });
      assert.equal(await store.responseStatus(r.response.id), 'completed');
    });

    test('saves in one turn are written once, as the response is at the end of the turn', async () => {
      const r = stored();
      const saves = [store.saveResponse(r)];
      r.response.status = 'completed';
      r.response.output = [{ type: 'message', id: 'msg_late', role: 'assistant', status: 'completed', content: [] }] as never;
      saves.push(store.saveResponse(r));
      await Promise.all(saves);
      const other = await h.open(url);
      assert.equal(await other.responseStatus(r.response.id), 'completed');
      assert.deepEqual((await other.getResponse(r.response.id))!.response.output, snapshot(r.response.output));
    });

    test('every read sees the saves before it, awaited or not', async () => {
      const a = stored();
      const b = stored();
      void store.saveResponse(a);
      assert.equal(await store.responseStatus(a.response.id), 'in_progress');
      void store.saveResponse(b);
      assert.deepEqual(await store.getResponse(b.response.id), snapshot(b));
      const c = stored(undefined, {}, 3);
      void store.saveResponse(c);
      assert.equal((await store.listInputItems(c.response.id, { limit: 20, order: 'asc' }))!.data.length, 3);
      const d = stored();
      void store.saveResponse(d);
      assert.equal(await store.deleteResponse(d.response.id), true);
      assert.equal(await store.getResponse(d.response.id), null);
    });

    test('delete removes the response once', async () => {
      const r = stored();
      await store.saveResponse(r);
      assert.equal(await store.deleteResponse(r.response.id), true);
      assert.equal(await store.deleteResponse(r.response.id), false);
      assert.equal(await store.getResponse(r.response.id), null);
      assert.equal(await store.responseStatus(r.response.id), null);
      assert.equal(await store.listInputItems(r.response.id, { limit: 20, order: 'desc' }), null);
    });

    test('input items page in order, both ways, after an id, up to a limit', async () => {
      const r = stored(undefined, {}, 5);
      await store.saveResponse(r);
      const id = r.response.id;
      const ids = r.inputItems.map((i) => i.id);
      const page = async (q: { after?: string; limit: number; order: 'asc' | 'desc' }) => {
        const p = (await store.listInputItems(id, q))!;
        return { ids: p.data.map((i) => i.id), first: p.first_id, last: p.last_id, more: p.has_more };
      };
      assert.deepEqual(await page({ limit: 2, order: 'asc' }), { ids: ids.slice(0, 2), first: ids[0], last: ids[1], more: true });
      assert.deepEqual(await page({ after: ids[1], limit: 2, order: 'asc' }), { ids: ids.slice(2, 4), first: ids[2], last: ids[3], more: true });
      assert.deepEqual(await page({ after: ids[3], limit: 2, order: 'asc' }), { ids: [ids[4]], first: ids[4], last: ids[4], more: false });
      assert.deepEqual(await page({ limit: 3, order: 'desc' }), { ids: [ids[4], ids[3], ids[2]], first: ids[4], last: ids[2], more: true });
      assert.deepEqual(await page({ after: ids[2], limit: 5, order: 'desc' }), { ids: [ids[1], ids[0]], first: ids[1], last: ids[0], more: false });
      assert.deepEqual(await page({ limit: 5, order: 'asc' }), { ids, first: ids[0], last: ids[4], more: false });
      assert.deepEqual(await page({ after: 'msg_unknown', limit: 5, order: 'asc' }), { ids: [], first: null, last: null, more: false });
      assert.deepEqual((await store.listInputItems(id, { limit: 1, order: 'asc' }))!.data, [snapshot(r.inputItems[0])]);
    });

    test('approvals are kept with their response', async () => {
      const r = stored();
      r.approvals = { mcpr_a: { server: 'files', tool: 'write' }, mcpr_b: { server: 'git', tool: 'push' } };
      await store.saveResponse(r);
      assert.deepEqual((await store.getResponse(r.response.id))!.approvals, r.approvals);
    });

    test('a second store on the same database (another replica) sees the first one’s saves once they resolve', async () => {
      const other = await h.open(url);
      const r = stored();
      await store.saveResponse(r);
      assert.deepEqual(await other.getResponse(r.response.id), snapshot(r));
      r.response.status = 'completed';
      await store.saveResponse(r);
      assert.equal(await other.responseStatus(r.response.id), 'completed');
      assert.equal(await other.deleteResponse(r.response.id), true);
      assert.equal(await store.getResponse(r.response.id), null);
    });

    test('a save that cannot be written rejects; one nobody waits for is not an unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        const bad = stored(undefined, { created_at: null as never });
        await assert.rejects(store.saveResponse(bad));
        assert.equal(await store.getResponse(bad.response.id), null);
        const ignored = stored(undefined, { created_at: null as never });
        void store.saveResponse(ignored);
        assert.equal(await store.getResponse(ignored.response.id), null);
        const good = stored();
        await store.saveResponse(good);
        assert.equal(await store.responseStatus(good.response.id), 'in_progress');
        await sleep(50);
        assert.deepEqual(unhandled, []);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    test('failInterrupted fails what a stopped store left in progress or queued, and nothing else', async () => {
      const db = await h.fresh();
      const first = await h.open(db.url);
      const running = stored();
      const queued = stored(undefined, { status: 'queued' });
      const done = stored(undefined, { status: 'completed' });
      for (const r of [running, queued, done]) void first.saveResponse(r);
      await first.close();
      const next = await h.open(db.url);
      assert.equal(await next.failInterrupted(), 2);
      const failed = (await next.getResponse(running.response.id))!;
      assert.deepEqual(failed.response, { ...snapshot(running.response), status: 'failed', error: INTERRUPTED });
      assert.deepEqual(failed.inputItems, snapshot(running.inputItems));
      assert.equal(await next.responseStatus(queued.response.id), 'failed');
      assert.deepEqual(await next.getResponse(done.response.id), snapshot(done));
      assert.equal(await next.failInterrupted(), 0);
    });

    test('close: ready() turns false, and saves and reads are refused', async () => {
      const s = await h.open(url);
      assert.equal(await s.ready(), true);
      await s.close();
      assert.equal(await s.ready(), false);
      await assert.rejects(s.saveResponse(stored()), /closed/);
      await assert.rejects(s.getResponse('resp_x'), /closed/);
      await s.close(); // twice is harmless
    });

    test('close commits the saves still queued', async () => {
      const s = await h.open(url);
      const r = stored();
      void s.saveResponse(r);
      await s.close();
      assert.deepEqual(await store.getResponse(r.response.id), snapshot(r));
    });

    test('stores opening a new database at once migrate it once, and all work', async () => {
      const db = await h.fresh();
      const stores = await Promise.all([h.open(db.url), h.open(db.url), h.open(db.url)]);
      assert.deepEqual(await db.versions(), [1, 2, 3]);
      const r = stored();
      await stores[0]!.saveResponse(r);
      for (const s of stores) assert.equal(await s.responseStatus(r.response.id), 'in_progress');
      const again = await h.open(db.url);
      assert.deepEqual(await db.versions(), [1, 2, 3], 'a reopened database is not migrated again');
      assert.equal(await again.responseStatus(r.response.id), 'in_progress');
    });

    test('four threads opening a new database at the same instant migrate it once', async () => {
      const db = await h.fresh();
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const rs = [stored(), stored(), stored(), stored()];
      const workers = rs.map((r) => inWorker(db.url, r, gate));
      await Promise.all(workers.map((w) => w.ready));
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await Promise.all(workers.map((w) => w.done));
      assert.deepEqual(await db.versions(), [1, 2, 3]);
      const s = await h.open(db.url);
      for (const r of rs) assert.deepEqual(await s.getResponse(r.response.id), snapshot(r));
    });

    test('keys: created, read back as made, updated field by field, deleted once', async () => {
      const k = keyRecord();
      await store.createKey(k);
      const got = await store.getKey(k.token);
      assert.deepEqual(got, k);
      assert.deepEqual(Object.keys(got!.metadata), ['zeta', 'alpha', 'text'], 'JSON keeps its key order');
      await assert.rejects(store.createKey(keyRecord({ token: k.token })), 'a token is unique');
      const updated = await store.updateKey(k.token, {
        token: 'ignored',
        key_alias: null,
        models: [],
        max_budget: 0.5,
        object_permission: null,
        expires: '2031-02-03T04:05:06.789Z',
        metadata: { owner: 'ci' },
      });
      const want = {
        ...k,
        key_alias: null,
        models: [],
        max_budget: 0.5,
        object_permission: null,
        expires: '2031-02-03T04:05:06.789Z',
        metadata: { owner: 'ci' },
      };
      assert.deepEqual(updated, want);
      assert.deepEqual(await store.getKey(k.token), want);
      assert.deepEqual(await store.updateKey(k.token, {}), want, 'an empty patch changes nothing');
      assert.equal(await store.getKey('ignored'), null);
      assert.equal(await store.updateKey('0'.repeat(64), { key_alias: 'x' }), null);
      assert.equal(await store.getKey('0'.repeat(64)), null);
      const other = keyRecord();
      await store.createKey(other);
      assert.equal(await store.deleteKeys([k.token, other.token, 'unknown']), 2);
      assert.equal(await store.deleteKeys([k.token]), 0);
      assert.equal(await store.deleteKeys([]), 0);
      assert.equal(await store.getKey(k.token), null);
    });

    test('keys list in order of creation, by team, a page at a time', async () => {
      const team = `team_${hex()}`;
      const made = [3, 1, 2, 0].map((i) => keyRecord({ team_id: team, created_at: `2025-01-0${i + 1}T00:00:00.000Z` }));
      for (const k of made) await store.createKey(k);
      await store.createKey(keyRecord({ team_id: `team_${hex()}` }));
      const inOrder = [...made].sort((a, b) => a.created_at.localeCompare(b.created_at));
      assert.deepEqual(await store.listKeys({ team_id: team, limit: 10, offset: 0 }), inOrder);
      assert.deepEqual(await store.listKeys({ team_id: team, limit: 2, offset: 1 }), inOrder.slice(1, 3));
      assert.deepEqual(await store.listKeys({ team_id: team, limit: 2, offset: 4 }), []);
      assert.equal(await store.countKeys({ team_id: team }), inOrder.length);
      assert.equal(await store.countKeys({ team_id: 'no-such-team' }), 0);
      assert.ok((await store.countKeys({})) >= inOrder.length);
      const all = await store.listKeys({ limit: 1000, offset: 0 });
      assert.ok(inOrder.every((k) => all.some((x) => x.token === k.token)));
      assert.ok(all.length > inOrder.length, 'without a team: every team’s keys');
    });

    test('teams: created, read back, updated, listed in order of creation, deleted once', async () => {
      const db = await h.fresh();
      const s = await h.open(db.url);
      const a = teamRecord({ created_at: '2025-02-01T00:00:00.000Z', object_permission: { mcp_servers: ['files'] }, metadata: { b: 1, a: 2 } });
      const b = teamRecord({ created_at: '2025-01-01T00:00:00.000Z' });
      await s.createTeam(a);
      await s.createTeam(b);
      await assert.rejects(s.createTeam(teamRecord({ team_id: a.team_id })));
      assert.deepEqual(await s.getTeam(a.team_id), a);
      assert.deepEqual(await s.listTeams(), [b, a]);
      const want = { ...a, team_alias: 'renamed', rpm_limit: 10, budget_duration: '1mo', budget_reset_at: '2025-03-01T00:00:00.000Z' };
      assert.deepEqual(
        await s.updateTeam(a.team_id, {
          team_id: 'moved',
          team_alias: 'renamed',
          rpm_limit: 10,
          budget_duration: '1mo',
          budget_reset_at: '2025-03-01T00:00:00.000Z',
        }),
        want,
      );
      assert.deepEqual(await s.getTeam(a.team_id), want);
      assert.equal(await s.getTeam('moved'), null);
      assert.equal(await s.updateTeam('team_unknown', { team_alias: 'x' }), null);
      assert.equal(await s.deleteTeams([a.team_id, 'team_unknown']), 1);
      assert.equal(await s.deleteTeams([a.team_id]), 0);
      assert.deepEqual(await s.listTeams(), [b]);
    });

    test('a key made or deleted through one store is so at once for another on the same database (another replica)', async () => {
      const other = await h.open(url);
      const k = keyRecord();
      await store.createKey(k);
      assert.deepEqual(await other.getKey(k.token), k);
      await other.updateKey(k.token, { rpm_limit: 4 });
      assert.equal((await store.getKey(k.token))!.rpm_limit, 4);
      assert.equal(await store.deleteKeys([k.token]), 1);
      assert.equal(await other.getKey(k.token), null);
    });

    test('recordSpend from two replicas at once loses no increment, and counts a request once', async () => {
      const team = teamRecord();
      const k = keyRecord({ team_id: team.team_id });
      const solo = keyRecord();
      await store.createTeam(team);
      await store.createKey(k);
      await store.createKey(solo);
      const other = await h.open(url);
      const t0 = Date.parse('2025-06-01T00:00:00.000Z');
      const at = (i: number) => new Date(t0 + i * 1000).toISOString();
      await Promise.all(
        [store, other].flatMap((s, r) =>
          Array.from({ length: 50 }, (_, i) => s.recordSpend([spendLog(k.token, team.team_id, at(r * 50 + i)), spendLog(solo.token, null, at(r * 50 + i))])),
        ),
      );
      assert.equal((await store.getKey(k.token))!.spend, 12.5);
      assert.equal((await other.getKey(solo.token))!.spend, 12.5);
      assert.equal((await other.getTeam(team.team_id))!.spend, 12.5);
      assert.equal((await store.listSpend({ api_key: k.token, limit: 1000 })).length, 100);
      // the same request again, in one batch twice and in a later batch: counted once
      const once = spendLog(k.token, team.team_id, at(500), { spend: 1 });
      await store.recordSpend([once, once]);
      await other.recordSpend([once]);
      await store.recordSpend([]);
      assert.equal((await store.getKey(k.token))!.spend, 13.5);
      assert.equal((await store.getTeam(team.team_id))!.spend, 13.5);
      assert.equal((await store.listSpend({ api_key: k.token, limit: 1000 })).length, 101);
    });

    test('audit: records read back as written, newest first, filtered, paged by cursor, written once, pruned by time', async () => {
      const db = await h.fresh();
      const s = await h.open(db.url);
      const server = `srv_${hex()}`;
      const record = (i: number, over: Partial<ToolCallAudit> = {}): ToolCallAudit => ({
        id: `aud_${hex()}${i}`,
        time: new Date(Date.UTC(2025, 4, 1, 12, 0, i % 5)).toISOString(),
        request_id: `req_${i}`,
        response_id: i % 2 ? `resp_${i}` : null,
        caller: 'ci-agent',
        team_id: i % 2 ? 'team_a' : null,
        server,
        tool: i % 3 ? 'search' : 'write',
        arguments_bytes: 10 + i,
        arguments_sha256: 'ab'.repeat(32),
        outcome: i % 4 ? 'ok' : 'tool_error',
        duration_ms: i % 2 ? 12.5 : null,
        approval_request_id: i === 3 ? 'mcpr_1' : null,
        ...over,
      });
      const all = Array.from({ length: 12 }, (_, i) => record(i));
      await s.recordAudit(all);
      await s.recordAudit([all[0]!]); // written once
      const newest = [...all].sort((a, b) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1));
      assert.deepEqual(await s.listAudit({ server, limit: 100 }), newest, 'every field back as written');
      // paged: each page's last id is the next cursor, and the pages add up to the whole
      const pages: ToolCallAudit[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await s.listAudit({ server, limit: 5, ...(after ? { after } : {}) });
        pages.push(...page);
        if (page.length < 5) break;
        after = page.at(-1)!.id;
      }
      assert.deepEqual(pages, newest);
      assert.deepEqual(await s.listAudit({ server, limit: 5, after: 'aud_unknown' }), []);
      const ids = (xs: ToolCallAudit[]) => xs.map((x) => x.id).sort();
      assert.deepEqual(ids(await s.listAudit({ server, tool: 'write', limit: 100 })), ids(all.filter((r) => r.tool === 'write')));
      assert.deepEqual(ids(await s.listAudit({ server, outcome: 'tool_error', limit: 100 })), ids(all.filter((r) => r.outcome === 'tool_error')));
      const window = { start: '2025-05-01T12:00:01Z', end: '2025-05-01T12:00:03Z' };
      assert.deepEqual(
        ids(await s.listAudit({ server, ...window, limit: 100 })),
        ids(all.filter((r) => r.time >= '2025-05-01T12:00:01' && r.time < '2025-05-01T12:00:03')),
      );
      assert.equal(await s.pruneAudit(new Date('2025-05-01T12:00:02Z')), all.filter((r) => r.time < '2025-05-01T12:00:02').length);
      assert.ok((await s.listAudit({ server, limit: 100 })).every((r) => r.time >= '2025-05-01T12:00:02'));
    });

    test('listSpend: newest first, by key, by team, from start (inclusive) to end (exclusive), up to a limit', async () => {
      const [k1, k2] = [keyRecord().token, keyRecord().token];
      const team = `team_${hex()}`;
      const logs = [
        spendLog(k1, team, '2025-03-01T10:00:00.000Z', { prompt_tokens: 1234, completion_tokens: 56, spend: 0.0001234, model: 'claude' }),
        spendLog(k1, null, '2025-03-01T12:00:00.000Z'),
        spendLog(k2, team, '2025-03-01T11:00:00.000Z'),
        spendLog(k2, team, '2025-03-01T09:00:00.000Z'),
      ];
      await store.recordSpend(logs);
      const ids = (xs: SpendLog[]) => xs.map((l) => l.request_id);
      const [l0, l1, l2, l3] = logs as [SpendLog, SpendLog, SpendLog, SpendLog];
      assert.deepEqual(await store.listSpend({ api_key: k1, limit: 10 }), [l1, l0], 'exact fields back, newest first');
      assert.deepEqual(ids(await store.listSpend({ team_id: team, limit: 10 })), ids([l2, l0, l3]));
      assert.deepEqual(ids(await store.listSpend({ team_id: team, api_key: k2, limit: 10 })), ids([l2, l3]));
      assert.deepEqual(ids(await store.listSpend({ team_id: team, start: '2025-03-01T10:00:00.000Z', end: '2025-03-01T11:00:00.000Z', limit: 10 })), ids([l0]));
      assert.deepEqual(ids(await store.listSpend({ team_id: team, start: '2025-03-01T09:30:00Z', limit: 10 })), ids([l2, l0]));
      assert.deepEqual(ids(await store.listSpend({ team_id: team, end: '2025-03-01T11:00:00.001Z', limit: 2 })), ids([l2, l0]));
      assert.deepEqual(await store.listSpend({ api_key: 'nobody', limit: 10 }), []);
      const recent = await store.listSpend({ limit: 3 });
      assert.equal(recent.length, 3);
      assert.ok(recent.every((l, i) => i === 0 || recent[i - 1]!.startTime >= l.startTime));
    });

    test('resetBudgets resets only what is due, moves its reset time on by whole durations, and only once', async () => {
      const db = await h.fresh();
      const s = await h.open(db.url);
      const other = await h.open(db.url);
      const now = new Date('2025-05-10T12:00:00.000Z');
      const due = keyRecord({ spend: 3, budget_duration: '1d', budget_reset_at: '2025-05-10T12:00:00.000Z' });
      const longDue = keyRecord({ spend: 2, budget_duration: '30d', budget_reset_at: '2025-02-01T00:00:00.000Z' });
      const notYet = keyRecord({ spend: 1, budget_duration: '1d', budget_reset_at: '2025-05-10T12:00:00.001Z' });
      const noDuration = keyRecord({ spend: 1, budget_duration: null, budget_reset_at: '2025-01-01T00:00:00.000Z' });
      const never = keyRecord({ spend: 1, budget_duration: null, budget_reset_at: null });
      const teamDue = teamRecord({ spend: 7, budget_duration: '1h', budget_reset_at: '2025-05-10T11:30:00.000Z' });
      const teamNotYet = teamRecord({ spend: 7, budget_duration: '1h', budget_reset_at: '2025-05-10T13:00:00.000Z' });
      for (const k of [due, longDue, notYet, noDuration, never]) await s.createKey(k);
      for (const t of [teamDue, teamNotYet]) await s.createTeam(t);
      const [a, b] = await Promise.all([s.resetBudgets(now), other.resetBudgets(now)]);
      assert.deepEqual(
        { keys: [...a.keys, ...b.keys].sort(), teams: [...a.teams, ...b.teams] },
        { keys: [due.token, longDue.token].sort(), teams: [teamDue.team_id] },
        'each reset once across the two replicas',
      );
      assert.deepEqual(await s.getKey(due.token), { ...due, spend: 0, budget_reset_at: '2025-05-11T12:00:00.000Z' });
      // 2025-02-01 + 4 x 30 days: the first reset after now
      assert.deepEqual(await s.getKey(longDue.token), { ...longDue, spend: 0, budget_reset_at: '2025-06-01T00:00:00.000Z' });
      assert.deepEqual(await s.getTeam(teamDue.team_id), { ...teamDue, spend: 0, budget_reset_at: '2025-05-10T12:30:00.000Z' });
      for (const k of [notYet, noDuration, never]) assert.deepEqual(await s.getKey(k.token), k);
      assert.deepEqual(await s.getTeam(teamNotYet.team_id), teamNotYet);
      assert.deepEqual(await s.resetBudgets(now), { keys: [], teams: [] });
    });
  });
}

describe('postgres: replicas, schemas and URLs', () => {
  const h = harness(pg);
  after(() => h.cleanup());

  test('a live replica’s responses in progress are not failed by another replica starting', async () => {
    const db = await h.fresh();
    const a = await h.open(db.url);
    const r = stored();
    await a.saveResponse(r);
    const b = await h.open(db.url);
    assert.equal(await b.failInterrupted(), 0);
    assert.equal(await b.responseStatus(r.response.id), 'in_progress');
    r.response.status = 'completed';
    await a.saveResponse(r);
    assert.equal(await b.responseStatus(r.response.id), 'completed');
  });

  test('a replica that stops beating has its responses failed by another’s sweep; if it comes back and finishes, it wins', async () => {
    const db = await h.fresh();
    // `a` beats once, when it opens: for `b`, which expects a beat every 50 ms, it stops at once.
    const a = await h.open(db.url, { heartbeatMs: 3_600_000 });
    const r = stored();
    await a.saveResponse(r);
    const b = await h.open(db.url, { heartbeatMs: 50, staleMs: 300 });
    assert.equal(await b.responseStatus(r.response.id), 'in_progress');
    const t0 = Date.now();
    while ((await b.responseStatus(r.response.id)) === 'in_progress' && Date.now() - t0 < 5_000) await sleep(25);
    assert.deepEqual((await b.getResponse(r.response.id))!.response, { ...snapshot(r.response), status: 'failed', error: INTERRUPTED });
    assert.ok(Date.now() - t0 >= 200, `failed after ${Date.now() - t0} ms, before the replica was stale`);
    // b's own response in progress is never its own sweep's
    const own = stored();
    await b.saveResponse(own);
    await sleep(400);
    assert.equal(await b.responseStatus(own.response.id), 'in_progress');
    r.response.status = 'completed';
    await a.saveResponse(r);
    assert.equal(await b.responseStatus(r.response.id), 'completed');
  });

  test('a replica that closes leaves the replica table, and its responses in progress are failed by the next sweep', async () => {
    const db = await h.fresh();
    const a = (await h.open(db.url)) as PostgresStore;
    const r = stored();
    await a.saveResponse(r);
    const b = await h.open(db.url);
    const schema = parseDatabaseUrl(db.url).schema!;
    const replicas = async () => (await admin<{ id: string }[]>`SELECT id FROM ${admin(schema)}.toolgate_replicas ORDER BY id`).map((x) => x.id);
    assert.ok((await replicas()).includes(a.replicaId));
    await a.close();
    assert.ok(!(await replicas()).includes(a.replicaId));
    assert.equal(await b.failInterrupted(), 1);
    assert.equal(await b.responseStatus(r.response.id), 'failed');
  });

  test('?schema= puts the tables in that schema; another schema does not see them', async () => {
    const one = await h.fresh();
    const two = await h.fresh();
    const a = await h.open(one.url);
    const b = await h.open(two.url);
    const r = stored();
    await a.saveResponse(r);
    assert.equal(await b.getResponse(r.response.id), null);
    const schema = parseDatabaseUrl(one.url).schema!;
    const tables = await admin<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`;
    assert.deepEqual(
      tables.map((t) => t.table_name),
      ['api_keys', 'responses', 'spend_logs', 'teams', 'tool_audit', 'toolgate_migrations', 'toolgate_replicas'],
    );
    const [row] = await admin<{ status: string; replica: string }[]>`SELECT status, replica FROM ${admin(schema)}.responses WHERE id = ${r.response.id}`;
    assert.deepEqual({ ...row }, { status: 'in_progress', replica: (a as PostgresStore).replicaId });
  });

  test('search_path in the URL is passed to the server as it is', async () => {
    const db = await h.fresh();
    const schema = parseDatabaseUrl(db.url).schema!;
    await h.open(db.url); // creates the schema
    const viaPath = await h.open(`${PG_BASE}?search_path=${schema}`);
    const r = stored();
    await viaPath.saveResponse(r);
    const [row] = await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM ${admin(schema)}.responses WHERE id = ${r.response.id}`;
    assert.equal(row!.n, 1);
  });

  test('the URL: toolgate’s schema parameter is taken out, the description has no password', () => {
    assert.deepEqual(parseDatabaseUrl('postgresql://app:s3cret@db.internal:5432/gw?schema=team_a&max=4&sslmode=require'), {
      url: 'postgresql://app:s3cret@db.internal:5432/gw?max=4&sslmode=require',
      schema: 'team_a',
      lockName: 'team_a',
      description: 'postgresql://app@db.internal:5432/gw?schema=team_a',
    });
    assert.deepEqual(parseDatabaseUrl('postgres://db/gw'), { url: 'postgres://db/gw', schema: null, lockName: '', description: 'postgres://db/gw' });
    assert.throws(() => parseDatabaseUrl('postgres://db/gw?schema=a;drop'), /plain identifier/);
  });

  test('an unreachable database fails the open, with nothing left running', async () => {
    await assert.rejects(openStore('postgres://postgres@127.0.0.1:1/test?connect_timeout=2'), /ECONNREFUSED|connect/);
  });

  test('description names the database without credentials', async () => {
    const db = await h.fresh();
    const s = await h.open(db.url.replace('postgres://postgres@', 'postgres://postgres:pw@'));
    assert.equal(s.description, db.url);
  });
});

/** A TCP proxy to 127.0.0.1:`port` that delays everything, both ways, by `ms`. */
async function slowLink(port: number, ms: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), ms));
      from.on('close', () => setTimeout(() => to.destroy(), ms));
      from.on('error', () => {});
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('two gateways on one PostgreSQL (replicas behind a balancer)', () => {
  const h = harness(pg);
  let a: TestGateway;
  let b: TestGateway;
  let proxy: { port: number; close(): Promise<void> };
  before(async () => {
    const db = await h.fresh();
    // A reaches the database through a link slow enough that a client would always beat A's commits to B
    // if A let an event out before the commit it depends on.
    proxy = await slowLink(5432, 40);
    a = await startTestGateway({ general_settings: { database_url: db.url.replace(':5432/', `:${proxy.port}/`) } });
    b = await startTestGateway({ general_settings: { database_url: db.url } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await proxy?.close();
    await h.cleanup();
  });

  const post = (gw: TestGateway, body: unknown) =>
    fetch(`${gw.gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('a stream is readable on the other replica from its first event, and continued there as soon as it ends', async () => {
    a.mock.enqueue('pg-slow', { text: 'one two three four five six seven eight', chunkDelayMs: 20 });
    const res = await post(a, { model: 'c/pg-slow', input: 'count', stream: true });
    assert.equal(res.status, 200);
    const decoder = new TextDecoder();
    let buffered = '';
    let id: string | undefined;
    let ended = false;
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let cut = buffered.indexOf('\n\n'); cut >= 0; cut = buffered.indexOf('\n\n')) {
        const frame = buffered.slice(0, cut);
        buffered = buffered.slice(cut + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const ev = JSON.parse(data.slice(6));
        if (ev.type === 'response.created') {
          id = ev.response.id;
          const seen = await fetch(`${b.gw.url}/v1/responses/${id}`);
          assert.equal(seen.status, 200);
          assert.equal(((await seen.json()) as any).status, 'in_progress');
        }
        if (ev.type === 'response.completed') {
          ended = true;
          // at once, with no retry: the terminal event went out after the row was committed
          b.mock.enqueue('pg-next', { text: 'nine' });
          const next = await post(b, { model: 'c/pg-next', input: 'go on', previous_response_id: id });
          assert.equal(next.status, 200, await next.clone().text());
        }
      }
    }
    assert.ok(id && ended);
    const messages = b.mock.requestsFor('pg-next').at(-1)!.body.messages;
    assert.deepEqual(
      messages.map((m: any) => [m.role, m.content]),
      [
        ['user', [{ type: 'text', text: 'count' }]],
        ['assistant', 'one two three four five six seven eight'],
        ['user', [{ type: 'text', text: 'go on' }]],
      ],
    );
  });

  test('non-stream answers are continued on the other replica at once, turn after turn, alternating', async () => {
    let previous: string | null = null;
    for (let i = 0; i < 10; i++) {
      const gw = i % 2 ? b : a;
      gw.mock.enqueue(`pg-alt-${i}`, { text: `answer ${i}` });
      const res = await post(gw, { model: `c/pg-alt-${i}`, input: `turn ${i}`, previous_response_id: previous });
      const body = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(body));
      previous = body.id;
    }
    assert.equal(b.mock.requestsFor('pg-alt-9').at(-1)!.body.messages.length, 19);
    const deleted = await fetch(`${a.gw.url}/v1/responses/${previous}`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.equal((await fetch(`${b.gw.url}/v1/responses/${previous}`)).status, 404);
  });

  test('readiness asks the database', async () => {
    const res = await fetch(`${a.gw.url}/health/readiness`);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as any).store, { status: 'open', backend: parseDatabaseUrl(a.gw.gateway.store.description).description });
  });
});
