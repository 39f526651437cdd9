/**
 * The agent: runs one response. Resolves the model and the request's MCP servers, lists their tools,
 * calls the model with them as function tools, runs the MCP calls it makes (in parallel, bounded),
 * feeds the results back, and goes on until the model answers in text, a call needs approval, a
 * client-side function is called, or a limit is reached. Everything it produces goes out through the
 * emitter as Responses items and events, and is stored when the request asks for it.
 *
 * `prepare` (prepare.ts) makes every check that can be made before anything is sent; `run`
 * (response-run.ts) is the loop.
 */
import type { ResponseObject } from '../protocol/events.ts';
import { newId } from '../protocol/ids.ts';
import { newResponseObject } from '../protocol/response-object.ts';
import type { AgentDeps, RunContext } from './context.ts';
import { ResponseEmitter, type EventSink } from './emitter.ts';
import { Histories } from './history.ts';
import { prepareRun, type PreparedRun, type RunRequest } from './prepare.ts';
import { ResponseRun } from './response-run.ts';

export type { AgentDeps, PreparedRun, RunContext, RunRequest };

export class Agent {
  private readonly deps: AgentDeps;
  private readonly histories: Histories;
  constructor(deps: AgentDeps) {
    this.deps = deps;
    this.histories = new Histories(deps.store);
  }

  prepare(req: RunRequest, ctx: RunContext, opts: { approvals?: boolean } = {}): Promise<PreparedRun> {
    return prepareRun(this.deps, this.histories, req, ctx, opts);
  }

  /**
   * Runs the prepared request, sending its events to `sink` (none: only the final response is wanted,
   * and the model is called without streaming). A failure before the first event propagates (the
   * caller answers with an HTTP error); after it, the response ends with `response.failed`.
   */
  async run(p: PreparedRun, ctx: RunContext, sink: EventSink | null = null): Promise<ResponseObject> {
    const emitter = new ResponseEmitter(newResponseObject(newId('resp'), p.request, { model: p.request.model, store: p.store }), sink);
    return new ResponseRun(this.deps, this.histories, p, emitter, ctx).run();
  }
}
