/**
 * What one client request used: every model call's tokens and cost, counted against its caller's tpm and
 * budget as each call ends (so the next request, on any replica, sees them), and one spend log when the
 * request is over.
 */
import type { Limiter } from '../limits/index.ts';
import type { SpendLog } from '../protocol/admin.ts';
import type { Usage } from '../protocol/responses.ts';
import type { Caller } from './caller.ts';
import { costOf, type Prices } from './cost.ts';

/** What the agent and the model calls report to: each finished model call once, and each MCP call it ran. */
export interface UsageMeter {
  /** `model`: the name that answered; `prices`: its deployment's. */
  record(model: string, usage: MeteredUsage, prices: Prices): void;
  toolCalled(): void;
}

/** What a call's cost is computed from (an embedding has no output, nor cached input). */
export type MeteredUsage = Pick<Usage, 'input_tokens' | 'output_tokens'> & Partial<Pick<Usage, 'input_tokens_details'>>;

/** Where finished requests' spend logs go (written in batches). */
export interface SpendSink {
  add(log: SpendLog): void;
}

export class Meter implements UsageMeter {
  /** Dollars, over every model call so far. */
  cost = 0;
  promptTokens = 0;
  completionTokens = 0;
  toolCalls = 0;
  /** The first model that answered. */
  model: string | undefined;
  private readonly started = new Date();
  private readonly caller: Caller;
  private readonly limiter: Limiter;
  private readonly sink: SpendSink;
  private readonly requestId: string;

  constructor(caller: Caller, limiter: Limiter, sink: SpendSink, requestId: string) {
    this.caller = caller;
    this.limiter = limiter;
    this.sink = sink;
    this.requestId = requestId;
  }

  record(model: string, usage: MeteredUsage, prices: Prices): void {
    const cost = costOf(usage, prices);
    this.model ??= model;
    this.cost += cost;
    this.promptTokens += usage.input_tokens;
    this.completionTokens += usage.output_tokens;
    const { subjects } = this.caller;
    if (!subjects.length) return;
    this.limiter.recordTokens(subjects, usage.input_tokens + usage.output_tokens);
    this.limiter.recordSpend(subjects, cost);
  }

  toolCalled(): void {
    this.toolCalls++;
  }

  /** The request is over: its spend log, for a virtual key that made a model call. */
  end(): void {
    const { key, team } = this.caller;
    if (!key || this.model === undefined) return;
    this.sink.add({
      request_id: this.requestId,
      api_key: key.token,
      team_id: team?.team_id ?? null,
      model: this.model,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      spend: this.cost,
      startTime: this.started.toISOString(),
      endTime: new Date().toISOString(),
    });
  }
}
