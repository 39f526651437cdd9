/**
 * Who sent a request, as the edges and the agent need it: what it may use (its grant), what limits it
 * (its key's and its team's rpm, tpm and budget), and what its spend is recorded under.
 */
import type { KeyRecord, TeamRecord } from '../protocol/admin.ts';
import type { LimitSubject } from '../limits/index.ts';
import { effectiveGrant, type Grant } from './grants.ts';

export interface Caller {
  /** Binds an MCP session to whoever opened it: `master` (the master key, or anyone on a gateway without one) or a key's token. */
  id: string;
  /** How logs, the audit trail and refusals name it: the key's alias (else the masked key), or `master`. Never the key. */
  name: string;
  /** How metrics and refusals name its team: the team's alias, else its id. */
  teamName?: string;
  /** Absent: every model, server and tool. */
  grant?: Grant;
  key?: KeyRecord;
  team?: TeamRecord | null;
  /** The key and its team, for the limiter; empty for the master key. */
  subjects: LimitSubject[];
}

/** The master key's (and an open gateway's) caller: unrestricted, unlimited. */
export const MASTER: Caller = Object.freeze({ id: 'master', name: 'master', subjects: Object.freeze([]) as unknown as LimitSubject[] });

/** A virtual key's caller, computed once each time the key is read from the store. */
export function keyCaller(key: KeyRecord, team: TeamRecord | null): Caller {
  const name = key.key_alias ?? key.key_name;
  const teamName = team ? (team.team_alias ?? team.team_id) : undefined;
  const subjects: LimitSubject[] = [subjectOf(`key:${key.token}`, `key ${name}`, key)];
  if (team) subjects.push(subjectOf(`team:${team.team_id}`, `team ${teamName}`, team));
  return { id: key.token, name, ...(teamName ? { teamName } : {}), grant: effectiveGrant(key, team), key, team, subjects };
}

function subjectOf(id: string, label: string, g: KeyRecord | TeamRecord): LimitSubject {
  const s: LimitSubject = { id, label };
  if (g.rpm_limit != null) s.rpm = g.rpm_limit;
  if (g.tpm_limit != null) s.tpm = g.tpm_limit;
  if (g.max_budget != null) {
    const endsAt = g.budget_reset_at ? Date.parse(g.budget_reset_at) : undefined;
    s.budget = { max: g.max_budget, spent: g.spend, period: g.budget_reset_at ?? 'total', endsAt };
  }
  return s;
}
