/** OpenAI Chat Completions: api.openai.com, Azure, and every OpenAI-compatible server (vLLM, Ollama, Groq, Mistral, ...). */
import { modelRequestToChat, type ChatRequestOptions } from './request.ts';
import { ChatStreamDecoder, chatCompletionToOutput } from './decode.ts';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ModelRequest } from '../../protocol/model-request.ts';
import { mapDecoder, mapOutput } from '../../protocol/client-tools.ts';
import { OpenAIProviderBase, type OpenAIClientOptions } from '../openai-base.ts';
import type { CallOptions, Provider } from '../types.ts';

export interface ChatProviderOptions extends OpenAIClientOptions {
  /** Who serves it (LiteLLM's prefix): /v1/models `owned_by`, and the server's quirks (see request.ts). */
  owner: string;
  /** Default: `max_completion_tokens` for api.openai.com, `max_tokens` elsewhere. */
  maxTokensField?: ChatRequestOptions['maxTokensField'];
  /** Default: true (usage asked for in streams). */
  streamOptions?: boolean;
}

export class OpenAIChatProvider extends OpenAIProviderBase implements Provider {
  readonly api = 'openai-chat' as const;
  readonly owner: string;
  private readonly request: ChatRequestOptions;

  constructor(o: ChatProviderOptions) {
    super(o);
    this.owner = o.owner;
    const official = new URL(o.baseURL).hostname === 'api.openai.com';
    this.request = { maxTokensField: o.maxTokensField ?? (official ? 'max_completion_tokens' : 'max_tokens'), owner: o.owner, streamOptions: o.streamOptions };
  }

  stream(req: ModelRequest, opts: CallOptions) {
    const { body, calls } = modelRequestToChat(req, this.request);
    return this.endpoint.stream(this.paths.chat(req.model), body, mapDecoder(new ChatStreamDecoder(), calls), opts.signal);
  }

  async complete(req: ModelRequest, opts: CallOptions) {
    const { body: streamed, calls } = modelRequestToChat(req, this.request);
    const { stream_options: _, ...body } = streamed;
    const out = chatCompletionToOutput(await this.endpoint.post<ChatCompletion>(this.paths.chat(req.model), { ...body, stream: false }, opts.signal));
    return mapOutput(out, calls);
  }
}
