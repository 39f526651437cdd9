/** OpenAI Chat Completions: api.openai.com and every OpenAI-compatible server (vLLM, Ollama, Groq, ...). */
import { modelRequestToChat } from './request.ts';
import { ChatStreamDecoder, chatCompletionToOutput } from './decode.ts';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import { OpenAIProviderBase, type OpenAIClientOptions } from '../openai-base.ts';
import type { CallOptions, Provider } from '../types.ts';

export class OpenAIChatProvider extends OpenAIProviderBase implements Provider {
  readonly api = 'openai-chat' as const;
  readonly owner: string;
  private readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';

  constructor(o: OpenAIClientOptions & { owner: string }) {
    super(o);
    this.owner = o.owner;
    this.maxTokensField = new URL(o.baseURL).hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens';
  }

  stream(req: ModelRequest, opts: CallOptions) {
    const { body, calls } = modelRequestToChat(req, { maxTokensField: this.maxTokensField });
    return this.endpoint.stream('/chat/completions', body, mapDecoder(new ChatStreamDecoder(), calls), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const { body: streamed, calls } = modelRequestToChat(req, { maxTokensField: this.maxTokensField });
    const { stream_options: _, ...body } = streamed;
    const out = chatCompletionToOutput(await this.endpoint.post<ChatCompletion>('/chat/completions', { ...body, stream: false }, opts.signal));
    return mapOutput(out, calls);
  }
}
