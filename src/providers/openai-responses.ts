/** OpenAI Responses API (api.openai.com or any server speaking it). */
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { modelRequestToResponses } from '../protocol/convert/responses.ts';
import { responsesEventsToEvents } from '../protocol/convert/responses-stream.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { fromOpenAIError } from './errors.ts';
import { OpenAIProviderBase } from './openai-base.ts';
import { guardStream } from './stream-guard.ts';
import type { CallOptions, Provider } from './types.ts';

export class OpenAIResponsesProvider extends OpenAIProviderBase implements Provider {
  readonly api = 'openai-responses' as const;
  readonly owner = 'openai';

  async open(req: ModelRequest, opts: CallOptions) {
    const abort = new AbortController();
    const signal = AbortSignal.any([opts.signal, abort.signal]);
    let stream: AsyncIterable<ResponseStreamEvent>;
    try {
      stream = await this.client.responses.create(modelRequestToResponses(req), { signal });
    } catch (e) {
      throw fromOpenAIError(e);
    }
    return guardStream(responsesEventsToEvents(stream), this.streamIdleMs, abort);
  }
}
