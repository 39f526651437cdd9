/**
 * Runs one response: resolves the model, calls it through the router and streams what it produces
 * through the emitter. (The MCP tool loop builds on this.)
 */
import type { Logger } from 'pino';
import { ApiError } from '../protocol/errors.ts';
import type { ResponseObject } from '../protocol/events.ts';
import { UpstreamStreamError } from '../protocol/events.ts';
import type { ModelInputItem, ModelRequest, ModelTool } from '../protocol/model-request.ts';
import type { ResponsesRequest } from '../protocol/responses.ts';
import type { Route, Router } from '../providers/router.ts';
import type { ResponseEmitter } from './emitter.ts';

export interface RunContext {
  signal: AbortSignal;
  log: Logger;
}

/** A request that passed every check that can be made before anything is sent. */
export interface PreparedRun {
  route: Route;
  model: Omit<ModelRequest, 'model'>;
}

export type RunRequest = ResponsesRequest & { extras?: ModelRequest['extras'] };

function toModelInput(input: ResponsesRequest['input']): ModelInputItem[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return input.map((item, i) => {
    switch (item.type) {
      case 'message':
      case 'function_call':
      case 'function_call_output':
      case 'reasoning':
        return item;
      default:
        throw new ApiError(400, `Input items of type '${item.type}' are not supported by this gateway yet.`, {
          param: `input[${i}]`,
          code: 'unsupported_value',
        });
    }
  });
}

export class Agent {
  private readonly router: Router;
  constructor(router: Router) {
    this.router = router;
  }

  prepare(req: RunRequest): PreparedRun {
    const route = this.router.resolve(req.model);
    if (!route)
      throw new ApiError(404, `The model '${req.model}' does not exist or you do not have access to it.`, {
        param: 'model',
        code: 'model_not_found',
      });
    const tools: ModelTool[] = [];
    for (const [i, t] of (req.tools ?? []).entries()) {
      if (t.type === 'mcp')
        throw new ApiError(400, 'MCP tools are not supported by this gateway yet.', { param: `tools[${i}]`, code: 'unsupported_value' });
      tools.push(t as ModelTool);
    }
    const input = toModelInput(req.input);
    if (!input.length) throw new ApiError(400, "Missing required parameter: 'input'.", { param: 'input', code: 'missing_required_parameter' });
    return {
      route,
      model: {
        instructions: req.instructions ?? null,
        input,
        tools,
        tool_choice: req.tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        max_output_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        top_logprobs: req.top_logprobs,
        text: req.text,
        reasoning: req.reasoning,
        metadata: req.metadata,
        include: req.include,
        truncation: req.truncation,
        user: req.user,
        safety_identifier: req.safety_identifier,
        prompt_cache_key: req.prompt_cache_key,
        service_tier: req.service_tier,
        extras: req.extras,
      },
    };
  }

  /**
   * Runs the prepared request. Errors before the first event propagate (the caller answers with an
   * HTTP error); after it, the response ends with `response.failed`.
   */
  async run(prepared: PreparedRun, emitter: ResponseEmitter, ctx: RunContext): Promise<ResponseObject> {
    const stream = await this.router.open(prepared.route, prepared.model, ctx);
    await emitter.start();
    try {
      const base = emitter.nextIndex;
      let status: 'completed' | 'incomplete' = 'completed';
      let reason: string | undefined;
      for await (const ev of stream) {
        if (ev.type === 'model.end') {
          emitter.addUsage(ev.usage);
          status = ev.status;
          reason = ev.incomplete_reason;
          continue;
        }
        await emitter.item({ ...ev, output_index: ev.output_index + base });
      }
      return await emitter.finish(status, { reason });
    } catch (e) {
      if (ctx.signal.aborted) return await emitter.finish('failed', { error: { code: 'client_disconnected', message: 'The client closed the connection' } });
      const code = e instanceof UpstreamStreamError ? e.code : 'server_error';
      ctx.log.warn({ err: (e as Error).message, code }, 'model stream failed');
      return await emitter.finish('failed', { error: { code, message: (e as Error).message } });
    }
  }
}
