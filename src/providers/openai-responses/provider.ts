/** OpenAI Responses API (api.openai.com, Azure OpenAI, or any server speaking it). */
import type { Response as UpstreamResponse } from 'openai/resources/responses/responses';
import { ResponsesStreamDecoder, responseToOutput } from './decode.ts';
import { modelRequestToResponses } from './request.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { OpenAIProviderBase, type OpenAIClientOptions } from '../openai-base.ts';
import type { CallOptions, Provider } from '../types.ts';

export class OpenAIResponsesProvider extends OpenAIProviderBase implements Provider {
  readonly api = 'openai-responses' as const;
  readonly owner: string;

  constructor(o: OpenAIClientOptions & { owner?: string }) {
    super(o);
    this.owner = o.owner ?? 'openai';
  }

  stream(req: ModelRequest, opts: CallOptions) {
    return this.endpoint.stream(this.paths.responses, modelRequestToResponses(req), new ResponsesStreamDecoder(), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const body = { ...modelRequestToResponses(req), stream: false };
    return responseToOutput(await this.endpoint.post<UpstreamResponse>(this.paths.responses, body, opts.signal));
  }
}
