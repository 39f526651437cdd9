/** OpenAI Chat Completions: api.openai.com and every OpenAI-compatible server (vLLM, Ollama, Groq, ...). */
import { modelRequestToChat } from '../protocol/convert/chat-request.ts';
import { ChatStreamDecoder, chatCompletionToOutput } from '../protocol/convert/decode-chat.ts';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ModelRequest } from '../protocol/model-request.ts';
import { OpenAIProviderBase, type OpenAIClientOptions } from './openai-base.ts';
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

  private body(req: ModelRequest, opts: CallOptions) {
    const { body, dropped } = modelRequestToChat(req, { maxTokensField: this.maxTokensField });
    if (dropped.length) opts.log.warn({ dropped, api: this.api }, 'request features the provider cannot serve were dropped');
    return body;
  }

  stream(req: ModelRequest, opts: CallOptions) {
    return this.endpoint.stream('/chat/completions', this.body(req, opts), new ChatStreamDecoder(), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const { stream_options: _, ...streamed } = this.body(req, opts);
    const body = { ...streamed, stream: false };
    return chatCompletionToOutput(await this.endpoint.post<ChatCompletion>('/chat/completions', body, opts.signal));
  }
}
