/** POST /v1/chat/completions: converted to the canonical form at the edge, run by the same agent. */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Agent } from '../../agent/agent.ts';
import { ChatRequest } from '../../protocol/chat.ts';
import { droppedHeader } from '../../protocol/dropped-params.ts';
import type { EventSink } from '../../agent/emitter.ts';
import { chatToResponses } from './chat-request.ts';
import { ChatChunkEncoder, responseToChatCompletion } from './chat-output.ts';
import { failedResponseError } from '../../protocol/errors.ts';
import { parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';
import { sseFor } from '../sse.ts';
import type { Metrics } from '../../telemetry/metrics.ts';

export function chatRoutes(deps: { agent: Agent; keepAliveMs: number; metrics: Metrics }): Router {
  const router = new Router();
  router.post('/v1/chat/completions', async (ctx: Context) => {
    const chat = parseBody(ChatRequest, ctx.request.body);
    const req = chatToResponses(chat);
    const run = runContext(ctx);
    const prepared = await deps.agent.prepare(req, run, { approvals: false });
    ctx.set(droppedHeader(prepared.dropped));
    if (chat.stream) {
      const sse = sseFor(ctx, deps.keepAliveMs, deps.metrics);
      const encoder = new ChatChunkEncoder(chat.stream_options?.include_usage === true);
      const sink: EventSink = {
        write(ev) {
          if (ev.type === 'response.failed') return sse.send(JSON.stringify(failedResponseError(ev.response.error).toBody()));
          let ok = true;
          for (const chunk of encoder.encode(ev)) ok = sse.send(chunk);
          if (ev.type === 'response.completed' || ev.type === 'response.incomplete') ok = sse.send('[DONE]');
          return ok;
        },
        drain: () => sse.drain(),
      };
      try {
        await deps.agent.run(prepared, run, sink);
      } finally {
        sse.end();
      }
      return;
    }
    const final = await deps.agent.run(prepared, run);
    if (final.status === 'failed') throw failedResponseError(final.error);
    ctx.body = responseToChatCompletion(final);
  });
  return router;
}
