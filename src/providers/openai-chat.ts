/** OpenAI Chat Completions: api.openai.com and every OpenAI-compatible server (vLLM, Ollama, Groq, ...). */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { modelRequestToChat } from '../protocol/convert/chat-request.ts';
import { chatChunksToEvents } from '../protocol/convert/chat-stream.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { fromOpenAIError } from './errors.ts';
import { OpenAIProviderBase, type OpenAIClientOptions } from './openai-base.ts';
import { guardStream } from './stream-guard.ts';
import type { CallOptions, Provider } from './types.ts';

export class OpenAIChatProvider extends OpenAIProviderBase implements Provider {
  readonly api = 'openai-chat' as const;
  readonly owner: string;
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';

  constructor(o: OpenAIClientOptions & { owner: string }) {
    super(o);
    this.owner = o.owner;
    this.maxTokensField = new URL(o.baseURL).hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens';
  }

  async open(req: ModelRequest, opts: CallOptions) {
    const { body, dropped } = modelRequestToChat(req, { maxTokensField: this.maxTokensField });
    if (dropped.length) opts.log.warn({ dropped, api: this.api }, 'request features the provider cannot serve were dropped');
    const abort = new AbortController();
    const signal = AbortSignal.any([opts.signal, abort.signal]);
    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await this.client.chat.completions.create(body, { signal });
    } catch (e) {
      throw fromOpenAIError(e);
    }
    return guardStream(chatChunksToEvents(stream), this.streamIdleMs, abort);
  }
}
