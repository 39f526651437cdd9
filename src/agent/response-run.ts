/**
 * One response while it runs: the loop of model calls and MCP calls, the approvals it asks for, what
 * it stores, and how it ends (completed, incomplete, or failed as the failure taxonomy describes).
 */
import type { Logger } from 'pino';
import { clientDisconnected, describeFailure, isInternal, responseErrorOf } from '../protocol/errors.ts';
import type { ModelOutput, ResponseObject } from '../protocol/events.ts';
import { newId } from '../protocol/ids.ts';
import type { ModelInputItem, ModelRequest, ModelTool } from '../protocol/model-request.ts';
import type { FunctionTool, InputItem, ToolSearchCallItem, ToolSearchOutputItem } from '../protocol/responses.ts';
import type { ModelStream } from '../providers/types.ts';
import type { Answered } from '../providers/router.ts';
import type { Span } from '@opentelemetry/api';
import { endSpan, startSpan, withSpan } from '../telemetry/spans.ts';
import { toolCallEnded } from '../access/audit.ts';
import type { StoredResponse } from '../store/types.ts';
import type { AgentDeps, RunContext } from './context.ts';
import { callWithOutput, deniedOutput, SEARCH_FUNCTION, toModelInput } from './conversation.ts';
import type { ResponseEmitter } from './emitter.ts';
import type { Histories } from './history.ts';
import { McpCallRunner } from './mcp-calls.ts';
import { needsApproval } from './mcp-bindings.ts';
import { type ModelCall, ModelTurn } from './model-turn.ts';
import type { PreparedRun, RunRequest } from './prepare.ts';
import { ToolCatalog } from './tool-catalog.ts';
import { ToolSearch } from './tool-search.ts';
import type { ConvertedResult } from './tool-results.ts';

/** What a model call gives back: a stream of event batches, or a whole answer, who answered, and when it was asked. */
type ModelAnswer = Answered<ModelStream | ModelOutput> & { started: number; span: Span | undefined };

/** The request as stored: MCP credentials are not kept. */
function storableRequest(req: RunRequest): unknown {
  const { extras: _e, ...rest } = req;
  return { ...rest, tools: rest.tools?.map((t) => (t.type === 'mcp' ? { ...t, headers: undefined, authorization: undefined } : t)) };
}

/** The state of one response while it runs. */
export class ResponseRun {
  private readonly deps: AgentDeps;
  private readonly histories: Histories;
  private readonly p: PreparedRun;
  private readonly emitter: ResponseEmitter;
  private readonly ctx: RunContext;
  private readonly log: Logger;
  /** Aborts everything the run started: when the client goes, at the deadline, or when the run ends early. */
  private readonly abort = new AbortController();
  private readonly signal = this.abort.signal;
  private timedOut = false;
  private shutDown = false;
  private readonly catalog: ToolCatalog;
  private readonly mcpCalls: McpCallRunner;
  private readonly approvals: StoredResponse['approvals'] = {};
  /** The response's tool search, when it has one (the request's `tool_search` tool, or deferral by the settings). */
  private search: ToolSearch | undefined;
  /** The search as the model is offered it (made once: its text lists the servers to search). */
  private searchDef: FunctionTool | undefined;

  constructor(deps: AgentDeps, histories: Histories, p: PreparedRun, emitter: ResponseEmitter, ctx: RunContext) {
    this.deps = deps;
    this.histories = histories;
    this.p = p;
    this.emitter = emitter;
    this.ctx = ctx;
    this.log = ctx.log;
    this.catalog = new ToolCatalog(ctx.log, deps.settings.defer_loading_over);
    this.mcpCalls = new McpCallRunner(emitter, {
      concurrency: deps.settings.tool_concurrency,
      maxToolCalls: Math.min(p.request.max_tool_calls ?? Infinity, deps.settings.max_tool_calls),
      maxOutputChars: deps.settings.max_tool_output_chars,
      signal: this.signal,
      log: ctx.log,
      metrics: deps.metrics,
      meter: ctx.meter,
      audit: ctx.audit,
    });
  }

  /** What the store keeps of this response. Its parts are the live objects, so it is built once and saved as often as needed. */
  private stored: StoredResponse | undefined;

  /** Saves the response as it is now; resolves when the store has committed it (undefined when it is not stored). */
  private persist(): Promise<void> | undefined {
    if (!this.p.store) return undefined;
    this.stored ??= { response: this.emitter.response, inputItems: this.p.input, request: storableRequest(this.p.request), approvals: this.approvals };
    const stored = this.stored;
    const saved = this.deps.store.saveResponse(stored);
    if (stored.response.status !== 'in_progress') this.histories.remember(stored, this.p.history.link);
    return saved;
  }

  /**
   * The final save, awaited: the run resolves (and so the answer, or a stream's terminal event, goes
   * out) only once the response is committed, so a client may continue it at once on any replica.
   * A store that fails then costs the client nothing but that: the response is answered all the same.
   */
  private async persistFinal(): Promise<void> {
    const saved = this.persist();
    if (!saved) return;
    try {
      await saved;
    } catch (e) {
      this.log.error({ err: (e as Error)?.message ?? String(e) }, 'the response could not be stored');
    }
  }

  async run(): Promise<ResponseObject> {
    // A plain timer and listener, both removed when the run ends (AbortSignal.timeout and AbortSignal.any
    // would keep every run's state alive until its deadline passed, and cost more per run).
    const deadline = setTimeout(() => {
      this.timedOut = true;
      this.abort.abort();
    }, this.deps.settings.run_timeout_seconds * 1000);
    const clientGone = () => this.abort.abort();
    const stopping = () => {
      this.shutDown = true;
      this.abort.abort();
    };
    const shutdown = this.deps.shutdown;
    this.ctx.signal.addEventListener('abort', clientGone);
    shutdown?.addEventListener('abort', stopping);
    if (this.ctx.signal.aborted) clientGone();
    if (shutdown?.aborted) stopping();
    try {
      return await this.runLoop();
    } finally {
      clearTimeout(deadline);
      this.ctx.signal.removeEventListener('abort', clientGone);
      shutdown?.removeEventListener('abort', stopping);
    }
  }

  private async runLoop(): Promise<ResponseObject> {
    const { p, emitter } = this;
    let conversation: ModelInputItem[] | null = null;
    let first: Promise<ModelAnswer> | null = null;
    if (!p.bindings.length && !p.approvals.length) {
      // With no MCP work to show first, the model is called before anything is sent, so that a
      // provider that is down is an HTTP error rather than a failed stream.
      conversation = this.modelInput(this.setUpSearch([...p.history.items, ...p.input]));
      first = this.callModel(this.modelTools(), this.toolChoice(), conversation);
      await first;
    }
    try {
      // A streamed response is stored as in progress, and committed, before its first event is queued,
      // so a client that has the id can always read it, from any replica, even after a crash. (A store
      // that cannot take it fails the request with an HTTP error: nothing was sent yet.)
      if (emitter.streaming) await this.persist();
      emitter.start();
      conversation ??= await this.startConversation();
      for (let rounds = 0; ; rounds++) {
        const limited = rounds >= this.deps.settings.max_iterations || this.mcpCalls.exhausted;
        // A forced tool choice applies to the first call only, or the loop would never end.
        const toolChoice = limited ? 'none' : rounds === 0 ? this.toolChoice() : p.base.tool_choice === 'none' ? 'none' : 'auto';
        // Each round offers what searches have loaded so far.
        const answer = first ?? this.callModel(this.modelTools(), toolChoice, conversation);
        first = null;
        const running: Promise<ConvertedResult & { callId: string; name: string; arguments: string }>[] = [];
        const searched: (ToolSearchCallItem | ToolSearchOutputItem)[] = [];
        let approvalsAsked = 0;
        let clientSearches = 0;
        const turn = new ModelTurn(
          emitter,
          (fn) => this.catalog.has(fn) || fn === this.search?.fn,
          (call) => {
            if (call.name === this.search?.fn) {
              if (this.searchCall(call, searched)) clientSearches++;
              return;
            }
            const o = this.catalog.get(call.name)!;
            if (!limited && needsApproval(o.binding.entry, o.tool)) {
              approvalsAsked++;
              const id = newId('mcpr');
              this.approvals[id] = { server: o.server.name, tool: o.tool.name };
              this.ctx.audit?.record({
                server: o.server.name,
                tool: o.tool.name,
                arguments: call.arguments,
                outcome: 'approval_requested',
                responseId: emitter.response.id,
                approvalRequestId: id,
              });
              emitter.completeItem({ id, type: 'mcp_approval_request', server_label: o.binding.label, name: o.tool.name, arguments: call.arguments });
              return;
            }
            // Each call starts as soon as the model has finished its arguments.
            running.push(this.mcpCalls.run(o, call.arguments, null, limited).then((result) => ({ ...result, ...call })));
          },
        );
        const answered = await answer;
        let firstEventAt: number | undefined;
        try {
          firstEventAt = await this.readAnswer(answered.answer, turn);
        } catch (e) {
          endSpan(answered.span, undefined, e);
          throw e;
        }
        endSpan(answered.span, {
          'gen_ai.response.model': answered.model,
          ...(turn.usage ? { 'gen_ai.usage.input_tokens': turn.usage.input_tokens, 'gen_ai.usage.output_tokens': turn.usage.output_tokens } : {}),
        });
        if (turn.usage) this.ctx.meter?.record(answered.model, turn.usage, answered.deployment.prices);
        this.deps.metrics?.modelCall(
          answered.deployment.modelName,
          answered.deployment.provider.owner,
          (performance.now() - answered.started) / 1000,
          firstEventAt === undefined ? undefined : (firstEventAt - answered.started) / 1000,
          turn.usage && { input: turn.usage.input_tokens, output: turn.usage.output_tokens },
        );
        const results = await Promise.all(running);
        conversation.push(...turn.items);
        for (const r of results) conversation.push(...callWithOutput(r.callId, r.name, r.arguments, r.modelOutput));
        if (searched.length) conversation.push(...this.modelInput(searched));
        if (turn.status === 'incomplete') return await this.finish('incomplete', { reason: turn.reason });
        if (approvalsAsked || turn.clientCalls || clientSearches || (!results.length && !searched.length) || limited) return await this.finish('completed');
      }
    } catch (e) {
      return await this.fail(e);
    } finally {
      // A model stream opened but never read (the run failed first) is cancelled, not left open.
      if (first) this.abort.abort();
    }
  }

  /**
   * Feeds a model's answer into the turn: batch by batch, waiting only when the client is full. Resolves
   * with when a stream's first batch came (undefined for a whole answer).
   */
  private async readAnswer(answer: ModelAnswer['answer'], turn: ModelTurn): Promise<number | undefined> {
    if ('items' in answer) {
      turn.output(answer);
      return undefined;
    }
    let first: number | undefined;
    for await (const batch of answer) {
      first ??= performance.now();
      for (const ev of batch) turn.event(ev);
      const full = this.emitter.drain();
      if (full) await full;
    }
    return first;
  }

  /**
   * The response's tool search, set up once the catalog is known: the request's `tool_search` tool, or
   * one the gateway adds when its settings deferred tools. What the conversation's searches loaded is
   * loaded again. Returns `prior`.
   */
  private setUpSearch(prior: InputItem[]): InputItem[] {
    const { p } = this;
    if (!p.searchTool && !this.catalog.deferredBySettings) return prior;
    const taken = this.clientFunctionNames();
    let fn = SEARCH_FUNCTION;
    for (let n = 2; taken.has(fn); n++) fn = `${SEARCH_FUNCTION}_${n}`;
    this.search = new ToolSearch(fn, p.searchTool, this.catalog, p.clientTools, p.deferredTools);
    for (const it of prior) if (it.type === 'tool_search_output') this.search.load(it);
    this.searchDef = this.search.definition();
    return prior;
  }

  /** The names of the client's own functions, offered or deferred: no gateway function may take them. */
  private clientFunctionNames(): Set<string> {
    const { p } = this;
    return new Set([...p.clientTools, ...p.deferredTools.map((d) => d.tool)].flatMap((t) => (t.type === 'function' ? [(t as FunctionTool).name] : [])));
  }

  /** Items as the model reads them (MCP tools by their function names, searches as calls of the search function). */
  private modelInput(items: InputItem[]): ModelInputItem[] {
    return toModelInput(items, (label, tool) => this.catalog.functionNameOf(label, tool), this.search?.fn);
  }

  /** The tools of the next model call: the client's, the search, and the MCP tools offered or loaded. */
  private modelTools(): ModelTool[] {
    const search = this.search;
    if (!search) return this.catalog.size ? [...this.p.clientTools, ...this.catalog.functionDefs()] : this.p.clientTools;
    return [...search.clientTools(), this.searchDef!, ...this.catalog.functionDefs()];
  }

  /**
   * A call of the search function. Run by the gateway: its call and output items are added to the
   * response (and to `searched`, for the model's next call). Run by the client: its call is added and
   * the response ends there (returns true).
   */
  private searchCall(call: ModelCall, searched: (ToolSearchCallItem | ToolSearchOutputItem)[]): boolean {
    const search = this.search!;
    if (search.execution === 'client') {
      let args: unknown;
      try {
        args = JSON.parse(call.arguments || '{}');
      } catch {
        args = call.arguments;
      }
      const item: ToolSearchCallItem = {
        id: newId('tsc'),
        type: 'tool_search_call',
        call_id: call.callId,
        arguments: args,
        execution: 'client',
        status: 'completed',
      };
      this.addItem(item);
      return true;
    }
    const items = search.run(call.callId, call.arguments);
    for (const item of items) this.addItem(item);
    searched.push(...items);
    return false;
  }

  /** A finished item with a status: added in progress, done as it is. */
  private addItem(item: ToolSearchCallItem | ToolSearchOutputItem): void {
    const { emitter } = this;
    if (!emitter.streaming) {
      emitter.completeItem(item);
      return;
    }
    const output_index = emitter.nextIndex;
    emitter.item({ type: 'response.output_item.added', sequence_number: 0, output_index, item: { ...item, status: 'in_progress' } });
    emitter.item({ type: 'response.output_item.done', sequence_number: 0, output_index, item });
  }

  private toolChoice(): ModelRequest['tool_choice'] {
    const tc = this.p.base.tool_choice;
    if (tc && typeof tc === 'object' && tc.type === 'tool_search' && this.search) return { type: 'function', name: this.search.fn };
    if (tc && typeof tc === 'object' && tc.type === 'mcp') {
      const label = (tc as { server_label: string }).server_label;
      const name = (tc as { name?: string | null }).name;
      const fns = this.catalog
        .all()
        .filter((o) => o.binding.label === label && (!name || o.tool.name === name))
        .map((o) => ({ type: 'function', name: o.fn }));
      return fns.length ? { type: 'allowed_tools', mode: 'required', tools: fns } : 'required';
    }
    return tc;
  }

  /**
   * Calls the model: streamed when the client streams, one JSON answer when it does not. The response
   * names the model that answered (a fallback's name when the requested model failed).
   */
  private async callModel(tools: ModelTool[], toolChoice: ModelRequest['tool_choice'], input: ModelInputItem[]): Promise<ModelAnswer> {
    const req: Omit<ModelRequest, 'model'> = { ...this.p.base, input, tools, tool_choice: tools.length ? toolChoice : undefined };
    if (!tools.length) delete req.parallel_tool_calls;
    const opts = { signal: this.signal, log: this.log };
    const started = performance.now();
    // One span per model call (GenAI semantic conventions), active while the provider is called so the
    // request carries its trace context; it ends once the answer has been read.
    const span = startSpan(`chat ${this.p.request.model}`, 'client', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': this.p.request.model });
    let answered: Answered<ModelStream | ModelOutput>;
    try {
      answered = await withSpan(span, () =>
        this.emitter.streaming ? this.deps.router.stream(this.p.route, req, opts) : this.deps.router.complete(this.p.route, req, opts),
      );
    } catch (e) {
      endSpan(span, undefined, e);
      throw e;
    }
    span?.setAttribute('gen_ai.provider.name', answered.deployment.provider.owner);
    this.emitter.answeredBy(answered.model);
    return { ...answered, started, span };
  }

  /**
   * The conversation the first model call sees: every binding's tools listed (or a listing already in
   * the conversation reused), the history and input as the model reads them, and the calls approved in
   * this request run.
   */
  private async startConversation(): Promise<ModelInputItem[]> {
    const { p } = this;
    const prior = [...p.history.items, ...p.input];
    const taken = this.clientFunctionNames();
    await this.catalog.build(p.bindings, prior, taken, this.emitter);
    const conversation = this.modelInput(this.setUpSearch(prior));
    // Approvals answered in this request: run the approved calls; denied ones were shown as not run.
    for (const { request, response } of p.approvals) {
      if (response.approve) continue;
      const server = p.history.approvals[request.id]?.server ?? request.server_label;
      toolCallEnded(
        { metrics: this.deps.metrics, audit: this.ctx.audit },
        {
          server,
          tool: request.name,
          arguments: request.arguments,
          outcome: 'denied',
          responseId: this.emitter.response.id,
          approvalRequestId: request.id,
        },
      );
    }
    const ran = await Promise.all(
      p.approvals
        .filter((a) => a.response.approve)
        .map(async ({ request }) => {
          const o = this.catalog.find(request.server_label, request.name, p.history.approvals[request.id]?.server);
          const result = o
            ? await this.mcpCalls.run(o, request.arguments, request.id)
            : { modelOutput: deniedOutput(`the tool '${request.name}' is no longer available`) };
          return { request, result };
        }),
    );
    for (const { request, result } of ran)
      conversation.push(...callWithOutput(request.id, this.catalog.functionNameOf(request.server_label, request.name), request.arguments, result.modelOutput));
    return conversation;
  }

  private async finish(status: 'completed' | 'incomplete', detail?: { reason?: string }): Promise<ResponseObject> {
    const r = this.emitter.finish(status, detail);
    await this.persistFinal();
    return r;
  }

  private async fail(e: unknown): Promise<ResponseObject> {
    // Before the first event, the caller answers with an HTTP error; a stop answers with the response as it is.
    if (!this.emitter.isStarted && !this.shutDown) throw e;
    let r: ResponseObject;
    if (this.timedOut && !this.ctx.signal.aborted) {
      this.log.warn({ limit_s: this.deps.settings.run_timeout_seconds }, 'run deadline reached');
      r = this.emitter.finish('incomplete', { reason: 'run_timeout' });
    } else if (this.shutDown && !this.ctx.signal.aborted) {
      this.log.warn('the gateway is stopping: the response ends here');
      r = this.emitter.finish('incomplete', { reason: 'shutdown' });
    } else {
      const failure = describeFailure(this.ctx.signal.aborted ? clientDisconnected() : e);
      if (isInternal(failure)) this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'run failed');
      else this.log.warn({ err: failure.message, code: failure.code }, 'run failed');
      r = this.emitter.finish('failed', { error: responseErrorOf(failure) });
    }
    await this.persistFinal();
    return r;
  }
}
