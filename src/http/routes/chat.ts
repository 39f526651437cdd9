/** POST /v1/chat/completions: converted to the canonical form at the edge, run by the same agent. */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Agent } from '../../agent/run.ts';
import { ChatRequest } from '../../protocol/chat.ts';
import type { StreamEvent } from '../../protocol/events.ts';
import { chatToResponses } from '../../protocol/convert/chat-request.ts';
import { ChatChunkEncoder, responseToChatCompletion } from '../../protocol/convert/chat-stream.ts';
import { failedResponseError, parseBody } from '../errors.ts';
import { runContext } from '../request-context.ts';
import { SseWriter } from '../sse.ts';

export function chatRoutes(deps: { agent: Agent; keepAliveMs: number }): Router {
  const router = new Router();
  router.post('/v1/chat/completions', async (ctx: Context) => {
    const chat = parseBody(ChatRequest, ctx.request.body);
    const req = chatToResponses(chat);
    const run = runContext(ctx);
    const prepared = await deps.agent.prepare(req, run, { approvals: false });
    if (chat.stream) {
      const sse = new SseWriter(ctx, deps.keepAliveMs);
      const encoder = new ChatChunkEncoder(chat.stream_options?.include_usage === true);
      const sink = async (ev: StreamEvent) => {
        if (ev.type === 'response.failed') return sse.send(JSON.stringify(failedResponseError(ev.response).toBody()));
        for (const chunk of encoder.encode(ev)) await sse.send(JSON.stringify(chunk));
        if (ev.type === 'response.completed' || ev.type === 'response.incomplete') await sse.send('[DONE]');
      };
      try {
        await deps.agent.run(prepared, run, sink);
      } finally {
        sse.end();
      }
      return;
    }
    const final = await deps.agent.run(prepared, run);
    if (final.status === 'failed') throw failedResponseError(final);
    ctx.body = responseToChatCompletion(final);
  });
  return router;
}
