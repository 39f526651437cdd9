/**
 * The audit of one request's MCP tool calls: each call the gateway makes, each approval it asks for and each
 * refusal becomes a record (when, which request and response, who called, server, tool, the arguments' size
 * and SHA-256, outcome, duration). Never the arguments or the result themselves.
 */
import { createHash } from 'node:crypto';
import type { AuditOutcome, ToolCallAudit } from '../protocol/admin.ts';
import { newId } from '../protocol/ids.ts';
import type { Caller } from './caller.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface AuditedCall {
  server: string;
  tool: string;
  /** As sent to the server (or as the model wrote them), JSON text. */
  arguments: string;
  outcome: AuditOutcome;
  durationMs?: number | undefined;
  responseId?: string | null | undefined;
  approvalRequestId?: string | null | undefined;
}

/** What the agent and the MCP edge report each tool call to. */
export interface ToolAudit {
  record(call: AuditedCall): void;
}

/**
 * A tool call ended (or an approval was asked for, or refused): the audit trail records every one, the
 * metrics count the calls made and refused. The one place the agent and both MCP edges report to.
 */
export function toolCallEnded(sinks: { metrics?: Pick<Metrics, 'toolCall'> | undefined; audit?: ToolAudit | undefined }, call: AuditedCall): void {
  if (call.outcome !== 'approval_requested' && call.outcome !== 'not_run')
    sinks.metrics?.toolCall(call.server, call.tool, call.outcome, call.durationMs === undefined ? undefined : call.durationMs / 1000);
  sinks.audit?.record(call);
}

export class RequestAudit implements ToolAudit {
  private readonly sink: { add(record: ToolCallAudit): void };
  private readonly requestId: string;
  private readonly caller: string;
  private readonly teamId: string | null;

  constructor(sink: { add(record: ToolCallAudit): void }, requestId: string, caller: Caller) {
    this.sink = sink;
    this.requestId = requestId;
    this.caller = caller.name;
    this.teamId = caller.team?.team_id ?? null;
  }

  record(call: AuditedCall): void {
    const durationMs = call.durationMs ?? null;
    this.sink.add({
      id: newId('aud'),
      time: new Date(Date.now() - (durationMs ?? 0)).toISOString(),
      request_id: this.requestId,
      response_id: call.responseId ?? null,
      caller: this.caller,
      team_id: this.teamId,
      server: call.server,
      tool: call.tool,
      arguments_bytes: Buffer.byteLength(call.arguments),
      arguments_sha256: createHash('sha256').update(call.arguments).digest('hex'),
      outcome: call.outcome,
      duration_ms: durationMs === null ? null : Math.round(durationMs * 1000) / 1000,
      approval_request_id: call.approvalRequestId ?? null,
    });
  }
}
