/**
 * The admin API under LiteLLM's routes and fields (`/key/*`, `/team/*`, `/spend/logs`), so the scripts
 * people already have keep working. The master key may do everything; a virtual key may read its own
 * `/key/info`. Without a master key the admin API is off: there would be no one to trust with it.
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { hashKey, maskKey, newKey } from '../../access/keys.ts';
import {
  AuditQuery,
  durationMs,
  type Governed,
  KeyDeleteRequest,
  KeyGenerateRequest,
  KeyUpdateRequest,
  type KeyRecord,
  TeamDeleteRequest,
  TeamNewRequest,
  TeamUpdateRequest,
  type TeamRecord,
  ungoverned,
} from '../../protocol/admin.ts';
import { ApiError } from '../../protocol/errors.ts';
import type { KeyCache } from '../../access/key-cache.ts';
import type { Store } from '../../store/types.ts';
import { isMasterKey, presentedKey } from '../auth.ts';
import { parseBody } from '../errors.ts';

export interface AdminDeps {
  store: Store;
  keys: KeyCache;
  masterKey: string | undefined;
}

/** A key as a client names it: the key itself (`sk-...`) or its hash (LiteLLM's `token`). */
const tokenOf = (key: string) => (key.startsWith('sk-') ? hashKey(key) : key);

const later = (duration: string | null | undefined, from = Date.now()) => (duration ? new Date(from + durationMs(duration)).toISOString() : null);

function notFound(what: string, param: string): ApiError {
  return new ApiError(404, `${what} not found.`, { type: 'invalid_request_error', code: 'not_found', param });
}

/** The fields of a create or update body that a record holds, with a new budget period when one is set. */
function limitsOf(b: KeyGenerateRequest | TeamNewRequest): Partial<Governed> {
  const out: Partial<Governed> = {};
  if (b.models !== undefined) out.models = b.models ?? [];
  if (b.max_budget !== undefined) out.max_budget = b.max_budget;
  if (b.budget_duration !== undefined) {
    out.budget_duration = b.budget_duration;
    out.budget_reset_at = later(b.budget_duration);
  }
  if (b.rpm_limit !== undefined) out.rpm_limit = b.rpm_limit;
  if (b.tpm_limit !== undefined) out.tpm_limit = b.tpm_limit;
  if (b.metadata !== undefined) out.metadata = b.metadata ?? {};
  if (b.object_permission !== undefined) out.object_permission = b.object_permission;
  return out;
}

export function adminRoutes(deps: AdminDeps): Router {
  const router = new Router();
  const { store } = deps;

  /** Only the master key passes; a virtual key gets 403, no key 401. */
  const master = async (ctx: Context, next: () => Promise<unknown>) => {
    if (!deps.masterKey)
      throw new ApiError(403, 'The admin API needs general_settings.master_key to be set.', { type: 'invalid_request_error', code: 'admin_disabled' });
    const key = presentedKey(ctx);
    if (!key) throw new ApiError(401, 'You did not provide an API key.', { type: 'invalid_request_error', code: 'invalid_api_key' });
    if (!isMasterKey(key, deps.masterKey)) throw new ApiError(403, 'Only the master key may do this.', { type: 'invalid_request_error', code: 'forbidden' });
    await next();
  };

  router.post('/key/generate', master, async (ctx: Context) => {
    const b = parseBody(KeyGenerateRequest, ctx.request.body);
    if (b.team_id && !(await store.getTeam(b.team_id))) throw notFound(`Team '${b.team_id}'`, 'team_id');
    const key = newKey();
    const record: KeyRecord = {
      token: hashKey(key),
      key_name: maskKey(key),
      key_alias: b.key_alias ?? null,
      team_id: b.team_id ?? null,
      ...ungoverned(),
      expires: later(b.duration),
      created_at: new Date().toISOString(),
      ...limitsOf(b),
    };
    await store.createKey(record);
    // The key itself is shown this once.
    ctx.body = { ...record, key };
  });

  router.get('/key/info', async (ctx: Context) => {
    const presented = presentedKey(ctx);
    const asked = typeof ctx.query.key === 'string' ? ctx.query.key : undefined;
    const isMaster = !!deps.masterKey && !!presented && isMasterKey(presented, deps.masterKey);
    if (!isMaster) {
      // A virtual key may read its own info (and nothing else).
      if (!deps.masterKey) throw new ApiError(403, 'The admin API needs general_settings.master_key to be set.', { code: 'admin_disabled' });
      const own = presented ? await store.getKey(hashKey(presented)) : null;
      if (!own) throw new ApiError(401, 'Incorrect API key provided.', { type: 'invalid_request_error', code: 'invalid_api_key' });
      if (asked && tokenOf(asked) !== own.token) throw new ApiError(403, 'A key may read only its own info.', { code: 'forbidden' });
      ctx.body = { key: own.token, info: own };
      return;
    }
    if (!asked) throw new ApiError(400, "Missing required parameter: 'key'.", { param: 'key', code: 'missing_required_parameter' });
    const found = await store.getKey(tokenOf(asked));
    if (!found) throw notFound('Key', 'key');
    ctx.body = { key: found.token, info: found };
  });

  router.post('/key/update', master, async (ctx: Context) => {
    const b = parseBody(KeyUpdateRequest, ctx.request.body);
    const patch: Partial<KeyRecord> = { ...limitsOf(b) };
    if (b.key_alias !== undefined) patch.key_alias = b.key_alias;
    if (b.team_id !== undefined) {
      if (b.team_id && !(await store.getTeam(b.team_id))) throw notFound(`Team '${b.team_id}'`, 'team_id');
      patch.team_id = b.team_id;
    }
    if (b.duration !== undefined) patch.expires = later(b.duration);
    const updated = await store.updateKey(tokenOf(b.key), patch);
    deps.keys.changed(tokenOf(b.key));
    if (!updated) throw notFound('Key', 'key');
    ctx.body = updated;
  });

  router.post('/key/delete', master, async (ctx: Context) => {
    const b = parseBody(KeyDeleteRequest, ctx.request.body);
    const tokens = b.keys.map(tokenOf);
    const deleted = await store.deleteKeys(tokens);
    for (const token of tokens) deps.keys.changed(token);
    if (deleted === 0) throw notFound('No key of those', 'keys');
    ctx.body = { deleted_keys: b.keys };
  });

  router.get('/key/list', master, async (ctx: Context) => {
    const size = Math.min(Math.max(Number(ctx.query.size) || 10, 1), 100);
    const page = Math.max(Number(ctx.query.page) || 1, 1);
    const teamId = typeof ctx.query.team_id === 'string' ? ctx.query.team_id : undefined;
    const team = teamId ? { team_id: teamId } : {};
    const [slice, total] = await Promise.all([store.listKeys({ ...team, limit: size, offset: (page - 1) * size }), store.countKeys(team)]);
    const full = ctx.query.return_full_object === 'true';
    ctx.body = { keys: full ? slice : slice.map((k) => k.token), total_count: total, current_page: page, total_pages: Math.ceil(total / size) };
  });

  router.post('/team/new', master, async (ctx: Context) => {
    const b = parseBody(TeamNewRequest, ctx.request.body);
    const teamId = b.team_id ?? randomUUID();
    if (await store.getTeam(teamId))
      throw new ApiError(400, `Team '${teamId}' already exists.`, { type: 'invalid_request_error', code: 'team_exists', param: 'team_id' });
    const record: TeamRecord = {
      team_id: teamId,
      team_alias: b.team_alias ?? null,
      ...ungoverned(),
      created_at: new Date().toISOString(),
      ...limitsOf(b),
    };
    await store.createTeam(record);
    ctx.body = record;
  });

  router.get('/team/info', master, async (ctx: Context) => {
    const teamId = typeof ctx.query.team_id === 'string' ? ctx.query.team_id : '';
    const team = teamId ? await store.getTeam(teamId) : null;
    if (!team) throw notFound('Team', 'team_id');
    ctx.body = { team_id: team.team_id, team_info: team, keys: await store.listKeys({ team_id: team.team_id, limit: 1000, offset: 0 }) };
  });

  router.post('/team/update', master, async (ctx: Context) => {
    const b = parseBody(TeamUpdateRequest, ctx.request.body);
    const patch: Partial<TeamRecord> = { ...limitsOf(b) };
    if (b.team_alias !== undefined) patch.team_alias = b.team_alias;
    const updated = await store.updateTeam(b.team_id, patch);
    deps.keys.changed(`team:${b.team_id}`); // its keys' grants change with it
    if (!updated) throw notFound('Team', 'team_id');
    ctx.body = updated;
  });

  router.post('/team/delete', master, async (ctx: Context) => {
    const b = parseBody(TeamDeleteRequest, ctx.request.body);
    const deleted = await store.deleteTeams(b.team_ids);
    for (const id of b.team_ids) deps.keys.changed(`team:${id}`);
    if (deleted === 0) throw notFound('No team of those', 'team_ids');
    ctx.body = { deleted_teams: b.team_ids };
  });

  router.get('/team/list', master, async (ctx: Context) => {
    ctx.body = await store.listTeams();
  });

  router.get('/spend/logs', master, async (ctx: Context) => {
    const q = ctx.query;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const apiKey = str(q.api_key);
    ctx.body = await store.listSpend({
      ...(apiKey ? { api_key: tokenOf(apiKey) } : {}),
      ...(str(q.team_id) ? { team_id: str(q.team_id)! } : {}),
      ...(str(q.start_date) ? { start: str(q.start_date)! } : {}),
      ...(str(q.end_date) ? { end: str(q.end_date)! } : {}),
      limit: Math.min(Number(q.limit) || 100, 1000),
    });
  });

  // The tool-call audit trail, newest first: `server`, `tool`, `outcome`, `start`/`end` (ISO), `limit`, `after`.
  router.get('/audit/tool_calls', master, async (ctx: Context) => {
    const q = parseBody(AuditQuery, ctx.query);
    const rows = await store.listAudit({ ...q, limit: q.limit + 1 });
    const data = rows.slice(0, q.limit);
    const more = rows.length > q.limit;
    ctx.body = { object: 'list', data, has_more: more, next_cursor: more ? data.at(-1)!.id : null };
  });

  return router;
}
