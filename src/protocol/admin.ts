/**
 * The admin API's request bodies, as LiteLLM names them (its `/key/*` and `/team/*` routes), so the
 * scripts people already have keep working. Unknown fields are kept (LiteLLM accepts many the gateway
 * does not act on); what the gateway acts on is checked.
 */
import { z } from 'zod';

/** LiteLLM's durations: `30s`, `30m`, `30h`, `30d`, `1mo` (a calendar month counted as 30 days). */
export const DURATION = /^(\d+)(s|m|h|d|mo)$/;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, mo: 30 * 86_400_000 };

/** A LiteLLM duration in milliseconds. */
export function durationMs(duration: string): number {
  const m = DURATION.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

const Duration = z.string().regex(DURATION, 'a duration such as 30s, 30m, 30h, 30d or 1mo');
const Names = z.array(z.string().min(1));

export const ObjectPermission = z.looseObject({
  mcp_servers: Names.nullish(),
  mcp_tool_permissions: z.record(z.string(), Names).nullish(),
  /** `/mcp` offers `mcp_tool_search` and `mcp_tool_call` instead of every upstream tool. */
  mcp_tool_search_enabled: z.boolean().nullish(),
});

/** What keys and teams share: their grant and their limits. */
const Limits = {
  models: Names.nullish(),
  max_budget: z.number().min(0).nullish(),
  budget_duration: Duration.nullish(),
  rpm_limit: z.int().min(0).nullish(),
  tpm_limit: z.int().min(0).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  object_permission: ObjectPermission.nullish(),
};

export const KeyGenerateRequest = z.looseObject({
  key_alias: z.string().min(1).nullish(),
  team_id: z.string().min(1).nullish(),
  /** How long the key lives (a duration); absent: until deleted. */
  duration: Duration.nullish(),
  ...Limits,
});
export type KeyGenerateRequest = z.infer<typeof KeyGenerateRequest>;

export const KeyUpdateRequest = KeyGenerateRequest.extend({ key: z.string().min(1) });
export type KeyUpdateRequest = z.infer<typeof KeyUpdateRequest>;

export const KeyDeleteRequest = z.looseObject({ keys: Names.min(1) });

export const TeamNewRequest = z.looseObject({
  team_id: z.string().min(1).nullish(),
  team_alias: z.string().min(1).nullish(),
  ...Limits,
});
export type TeamNewRequest = z.infer<typeof TeamNewRequest>;

export const TeamUpdateRequest = TeamNewRequest.extend({ team_id: z.string().min(1) });

export const TeamDeleteRequest = z.looseObject({ team_ids: Names.min(1) });

/** What keys and teams both hold: their grant, their limits and their budget with its spend. */
export interface Governed {
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  /** When the budget's spend starts again from zero (ISO time), with budget_duration. */
  budget_reset_at: string | null;
  spend: number;
  rpm_limit: number | null;
  tpm_limit: number | null;
  metadata: Record<string, unknown>;
  object_permission: z.infer<typeof ObjectPermission> | null;
}

/** A new key's or team's (a fresh object each time): every model, no limit, no budget, nothing spent. */
export const ungoverned = (): Governed => ({
  models: [],
  max_budget: null,
  budget_duration: null,
  budget_reset_at: null,
  spend: 0,
  rpm_limit: null,
  tpm_limit: null,
  metadata: {},
  object_permission: null,
});

/** A key as stored (never the key itself: its SHA-256) and as `/key/info` shows it. */
export interface KeyRecord extends Governed {
  /** SHA-256 of the key, hex: what LiteLLM calls the key's `token`. */
  token: string;
  /** `sk-...` with all but the last four characters hidden. */
  key_name: string;
  key_alias: string | null;
  team_id: string | null;
  /** ISO time; null: does not expire. */
  expires: string | null;
  created_at: string;
}

export interface TeamRecord extends Governed {
  team_id: string;
  team_alias: string | null;
  created_at: string;
}

/** One request's spend, as `/spend/logs` lists it. */
export interface SpendLog {
  request_id: string;
  api_key: string;
  team_id: string | null;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  spend: number;
  startTime: string;
  endTime: string;
}

/**
 * How a tool call ended, as the audit trail and the metrics name it: the call's own end, or an approval
 * asked for or refused (`approval_requested`, `denied`).
 */
export const AUDIT_OUTCOMES = ['ok', 'tool_error', 'protocol_error', 'http_error', 'timeout', 'denied', 'approval_requested', 'not_run'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One MCP tool call the gateway made, was asked to approve, or was refused: never its arguments or result. */
export interface ToolCallAudit {
  /** `aud_...`: the record's own id (the cursor pages by it). */
  id: string;
  /** When the call started, or the approval was asked for or answered (ISO time). */
  time: string;
  request_id: string;
  response_id: string | null;
  /** The virtual key's alias (or masked key), or `master`. */
  caller: string;
  team_id: string | null;
  server: string;
  tool: string;
  arguments_bytes: number;
  /** SHA-256 of the arguments as sent, hex. */
  arguments_sha256: string;
  outcome: AuditOutcome;
  duration_ms: number | null;
  /** The approval request this call answered (an approved call), if any. */
  approval_request_id: string | null;
}

/** Query of `GET /audit/tool_calls`: newest first. */
export const AuditQuery = z.strictObject({
  server: z.string().min(1).optional(),
  tool: z.string().min(1).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  /** From this time (inclusive), ISO. */
  start: z.iso.datetime({ offset: true }).optional(),
  /** Up to this time (exclusive), ISO. */
  end: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `next_cursor` of the page before. */
  after: z.string().min(1).optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;
