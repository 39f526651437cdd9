/**
 * A 2026-07-28 client's call through `/mcp/<server>` whose upstream asks questions back (sampling,
 * elicitation, roots). That revision has no server-to-client requests: a server answers `input_required`,
 * and the client calls again with `inputResponses` and the `requestState` it was given (multi round-trip).
 * A 2025 upstream asks with requests on its session; a 2026 one with `input_required` results, which the
 * SDK client turns into calls of the same handlers. Either way the question arrives here while the
 * upstream call is still running: the call is parked, the client gets the questions as `input_required`
 * (the state names the parked call), and its next call answers them and waits for what comes next.
 *
 * Such a call runs on an upstream connection of its own, declared with the client's capabilities (the
 * gateway's shared connection declares none, so its upstream cannot ask). Parked calls live in this
 * process: the client's next call must reach the same replica, or it is told the state expired and starts
 * over. A parked call nobody answers is abandoned after PARKED_MS.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, McpError, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { McpCall, McpHandler, McpMethod } from './handlers.ts';

/** The methods whose result may be `input_required` (2026-07-28). */
export const MRTR_METHODS = ['tools/call', 'prompts/get', 'resources/read'] as const satisfies readonly McpMethod[];
type MrtrMethod = (typeof MRTR_METHODS)[number];

/** Of a client's capabilities, those that let its server ask it things: sampling, elicitation, roots. */
export function askable(wanted: ClientCapabilities): ClientCapabilities {
  const capabilities: ClientCapabilities = {};
  if (wanted.sampling) capabilities.sampling = wanted.sampling;
  if (wanted.elicitation) capabilities.elicitation = wanted.elicitation;
  if (wanted.roots) capabilities.roots = wanted.roots;
  return capabilities;
}

/** How long a parked call waits for the client's answers (a person may be answering an elicitation). */
const PARKED_MS = 10 * 60_000;

interface Question {
  request: { method: string; params?: Record<string, unknown> };
  answer(result: Record<string, unknown>): void;
  fail(e: unknown): void;
}

/** The next thing a parked call has for its client: its result, its failure, or questions. */
type Turn = { result: Record<string, unknown> } | { error: unknown } | { questions: Map<string, Question> };

class ParkedCall {
  readonly id = randomUUID();
  readonly abort = new AbortController();
  /** The caller that made the call (`Caller.id`): only it may continue it. */
  readonly owner: string;
  private readonly waiting = new Map<string, Question>();
  private turn = Promise.withResolvers<Turn>();
  private gathering = false;
  private asked = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(owner: string) {
    this.owner = owner;
  }

  /** The upstream asks: the question waits for the client's answer. */
  ask(request: Question['request']): Promise<Record<string, unknown>> {
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
    this.waiting.set(`q${++this.asked}`, { request, answer: resolve, fail: reject });
    // Questions asked together go to the client together.
    if (!this.gathering) {
      this.gathering = true;
      setImmediate(() => {
        this.gathering = false;
        this.turn.resolve({ questions: new Map(this.waiting) });
      });
    }
    return promise;
  }

  ended(turn: { result: Record<string, unknown> } | { error: unknown }): void {
    this.turn.resolve(turn);
  }

  /** The client's answers, by question; then what comes next. */
  answer(responses: Record<string, unknown>): Promise<Turn> {
    this.turn = Promise.withResolvers();
    for (const [key, response] of Object.entries(responses)) {
      const q = this.waiting.get(key);
      if (!q) continue;
      this.waiting.delete(key);
      q.answer(response as Record<string, unknown>);
    }
    // Questions left unanswered are asked again.
    if (this.waiting.size) this.turn.resolve({ questions: new Map(this.waiting) });
    return this.turn.promise;
  }

  next(): Promise<Turn> {
    return this.turn.promise;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.abort.abort();
    for (const q of this.waiting.values()) q.fail(new McpError(ErrorCode.InternalError, 'the client did not answer in time'));
    this.waiting.clear();
  }
}

/** A connection of the call's own to the upstream, whose questions go to `ask`. */
export type OwnUpstream = (
  ask: (request: Question['request']) => Promise<Record<string, unknown>>,
  capabilities: ClientCapabilities,
) => {
  handler: McpHandler<MrtrMethod>;
  close(): Promise<void>;
};

export class InputBridge {
  private readonly parked = new Map<string, ParkedCall>();
  /** Calls that may wait at once (each holds an upstream connection of its own). */
  private readonly max: number;

  constructor(opts: { max: number }) {
    this.max = opts.max;
  }

  /**
   * A call of `method` on behalf of a 2026-07-28 client: a continuation of a parked call (by its
   * `requestState`), else a call on the shared connection (`direct`) when the client cannot be asked
   * anything, else a call on an upstream connection of its own.
   */
  async handle(params: object, call: McpCall, direct: McpHandler<MrtrMethod>, own: OwnUpstream): Promise<Record<string, unknown>> {
    if (call.requestState !== undefined) {
      const parked = this.parked.get(call.requestState);
      if (!parked || parked.owner !== call.scope.caller.id) throw new McpError(ErrorCode.InvalidParams, 'Invalid or expired requestState');
      return this.reply(parked, await parked.answer(call.inputResponses ?? {}));
    }
    const capabilities = askable(call.client?.capabilities ?? {});
    if (Object.keys(capabilities).length === 0) return direct(params as never, call);
    if (this.parked.size >= this.max)
      throw new McpError(ErrorCode.InternalError, `Too many calls are waiting for their clients' answers (the limit is ${this.max}); try again later.`);
    const parked = new ParkedCall(call.scope.caller.id);
    const upstream = own((request) => parked.ask(request), capabilities);
    void upstream
      .handler(params as never, { ...call, signal: parked.abort.signal })
      .then(
        (result) => parked.ended({ result: result as Record<string, unknown> }),
        (error: unknown) => parked.ended({ error }),
      )
      .finally(() => {
        this.drop(parked);
        void upstream.close();
      });
    return this.reply(parked, await parked.next());
  }

  /** The turn as the client's answer: the result, the failure, or `input_required` with the call parked. */
  private reply(parked: ParkedCall, turn: Turn): Record<string, unknown> {
    if ('result' in turn) return turn.result;
    if ('error' in turn) throw turn.error;
    this.parked.set(parked.id, parked);
    clearTimeout(parked.timer);
    parked.timer = setTimeout(() => this.drop(parked), PARKED_MS);
    parked.timer.unref();
    const inputRequests = Object.fromEntries([...turn.questions].map(([key, q]) => [key, q.request]));
    return { resultType: 'input_required', inputRequests, requestState: parked.id };
  }

  private drop(parked: ParkedCall): void {
    if (this.parked.get(parked.id) === parked) this.parked.delete(parked.id);
    parked.cancel();
  }

  close(): void {
    for (const p of this.parked.values()) this.drop(p);
  }
}
