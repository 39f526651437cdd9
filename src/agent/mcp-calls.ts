/**
 * Runs MCP calls as `mcp_call` items: each announced with its arguments, run with bounded concurrency
 * and the per-call timeout, then completed or failed. Counts calls against the response's limit.
 */
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { failureOutcome, toUpstreamError } from '../mcp-client/errors.ts';
import { mcpCallNotRun, RpcCode } from '../protocol/errors.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { endSpan, startSpan, withSpan } from '../telemetry/spans.ts';
import type { UsageMeter } from '../access/meter.ts';
import { type ToolAudit, toolCallEnded } from '../access/audit.ts';
import type { AuditOutcome } from '../protocol/admin.ts';
import { newId } from '../protocol/ids.ts';
import type { McpCallItem } from '../protocol/responses.ts';
import type { ResponseEmitter } from './emitter.ts';
import type { OfferedTool } from './tool-catalog.ts';
import { convertToolFailure, convertToolResult, type ConvertedResult } from './tool-results.ts';

export interface McpCallOptions {
  concurrency: number;
  maxToolCalls: number;
  maxOutputChars: number;
  signal: AbortSignal;
  log: Logger;
  metrics?: Pick<Metrics, 'toolCall'> | undefined;
  /** The request's meter: counts the calls made. */
  meter?: UsageMeter | undefined;
  /** Where each call is recorded (the audit trail). */
  audit?: ToolAudit | undefined;
}

/** What a call came to: its result for the model and the response, and how it ended. */
type Executed = ConvertedResult & { outcome: AuditOutcome; ms?: number };

function parseArguments(args: string): Record<string, unknown> | null {
  try {
    const v = args.trim() === '' ? {} : JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export class McpCallRunner {
  /** Made with the first call: most responses make none. */
  private queue: PQueue | undefined;
  private readonly o: McpCallOptions;
  private readonly emitter: ResponseEmitter;
  private count = 0;

  constructor(emitter: ResponseEmitter, o: McpCallOptions) {
    this.emitter = emitter;
    this.o = o;
  }

  /** Whether the response has used up its tool calls. */
  get exhausted(): boolean {
    return this.count >= this.o.maxToolCalls;
  }

  /** One call, start to finish. `skip` records it as not run (a limit was reached). */
  async run(t: OfferedTool, args: string, approvalRequestId: string | null, skip = false): Promise<ConvertedResult> {
    const { emitter } = this;
    const id = newId('mcp');
    const index = emitter.nextIndex;
    const base: McpCallItem = {
      id,
      type: 'mcp_call',
      server_label: t.binding.label,
      name: t.tool.name,
      arguments: '',
      output: null,
      error: null,
      status: 'in_progress',
      approval_request_id: approvalRequestId,
    };
    emitter.item({ type: 'response.output_item.added', sequence_number: 0, output_index: index, item: base });
    emitter.item({ type: 'response.mcp_call.in_progress', sequence_number: 0, output_index: index, item_id: id });
    if (args) emitter.item({ type: 'response.mcp_call_arguments.delta', sequence_number: 0, output_index: index, item_id: id, delta: args });
    emitter.item({ type: 'response.mcp_call_arguments.done', sequence_number: 0, output_index: index, item_id: id, arguments: args });
    const result = await this.execute(t, args, skip || ++this.count > this.o.maxToolCalls);
    toolCallEnded(this.o, {
      server: t.server.name,
      tool: t.tool.name,
      arguments: args,
      outcome: result.outcome,
      durationMs: result.ms,
      responseId: emitter.response.id,
      approvalRequestId,
    });
    const item: McpCallItem = { ...base, arguments: args, output: result.output, error: result.error, status: result.error ? 'failed' : 'completed' };
    emitter.item({ type: result.error ? 'response.mcp_call.failed' : 'response.mcp_call.completed', sequence_number: 0, output_index: index, item_id: id });
    emitter.item({ type: 'response.output_item.done', sequence_number: 0, output_index: index, item });
    return result;
  }

  private async execute(t: OfferedTool, args: string, skip: boolean): Promise<Executed> {
    if (skip)
      return {
        ...convertToolFailure(mcpCallNotRun(`Not run: this response reached its tool-call limit (${this.o.maxToolCalls}).`, RpcCode.ConnectionClosed)),
        outcome: 'not_run',
      };
    const parsed = parseArguments(args);
    // Arguments that are not a JSON object go back to the model as an error, never silently as {}.
    if (!parsed)
      return {
        ...convertToolFailure(
          mcpCallNotRun(`Invalid arguments for '${t.tool.name}': expected a JSON object, got ${JSON.stringify(args.slice(0, 200))}`, RpcCode.InvalidParams),
        ),
        outcome: 'not_run',
      };
    const started = performance.now();
    const { log, signal } = this.o;
    this.o.meter?.toolCalled();
    // One span per call (MCP semantic conventions), active while the call is sent: the server gets its context.
    const session = t.server.session;
    const span = startSpan(`tools/call ${t.tool.name}`, 'client', {
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': t.tool.name,
      'server.address': t.server.name,
      ...(session?.id ? { 'mcp.session.id': session.id } : {}),
      ...(session?.protocolVersion ? { 'mcp.protocol.version': session.protocolVersion } : {}),
    });
    try {
      this.queue ??= new PQueue({ concurrency: this.o.concurrency });
      const result = await this.queue.add(() =>
        withSpan(span, () => t.server.callTool(t.tool.name, parsed, { signal, headers: t.binding.headers.get(t.server.name) })),
      );
      endSpan(span, undefined, result.isError ? 'tool_error' : undefined);
      const ms = performance.now() - started;
      log.info({ mcp_server: t.server.name, tool: t.tool.name, ms: Math.round(ms), is_error: result.isError === true }, 'mcp tool call');
      return { ...convertToolResult(result, this.o.maxOutputChars), outcome: result.isError ? 'tool_error' : 'ok', ms };
    } catch (e) {
      if (signal.aborted) {
        endSpan(span, undefined, 'cancelled');
        throw e;
      }
      const err = toUpstreamError(e, t.server.name);
      const outcome = failureOutcome(err);
      endSpan(span, undefined, outcome);
      log.warn({ mcp_server: t.server.name, tool: t.tool.name, err: err.message }, 'mcp tool call failed');
      return { ...convertToolFailure(err), outcome, ms: performance.now() - started };
    }
  }
}
