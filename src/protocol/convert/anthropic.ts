/**
 * Canonical Responses request -> Anthropic Messages request, and Anthropic stream -> Responses events
 * (openai-wire.md §7).
 */
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  TextBlockParam,
  Tool as AnthropicTool,
  ToolChoice as AnthropicToolChoice,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { OutputComposer } from '../compose.ts';
import { UpstreamStreamError, type ModelEnd, type ModelEvent } from '../events.ts';
import { contentText, type ModelRequest } from '../model-request.ts';
import { usageOf, type ContentPart, type Usage } from '../responses.ts';
import type { DroppedFeature } from './chat-request.ts';

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageBlock(url: string): ImageBlockParam {
  const m = DATA_URL.exec(url);
  if (m) {
    return {
      type: 'image',
      source: { type: 'base64', media_type: m[1] as 'image/png', data: m[2]! },
    };
  }
  return { type: 'image', source: { type: 'url', url } };
}

function partToBlock(p: ContentPart): ContentBlockParam | null {
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return p.text === '' ? null : { type: 'text', text: p.text };
    case 'refusal':
      return { type: 'text', text: p.refusal };
    case 'input_image':
      return p.image_url ? imageBlock(p.image_url) : null;
    case 'input_file': {
      const m = p.file_data ? DATA_URL.exec(p.file_data) : null;
      if (m && m[1] === 'application/pdf')
        return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: m[2]! } };
      if (p.file_url) return { type: 'document', source: { type: 'url', url: p.file_url } };
      return null;
    }
  }
}

function blocksOf(content: string | ContentPart[]): ContentBlockParam[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.map(partToBlock).filter((b): b is ContentBlockParam => b !== null);
}

function parseArgs(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v = JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : { value: v };
  } catch {
    return { _raw: args };
  }
}

export interface AnthropicRequestOptions {
  /** Anthropic requires max_tokens; used when the request gives none. */
  defaultMaxTokens: number;
}

export function modelRequestToAnthropic(
  req: ModelRequest,
  opts: AnthropicRequestOptions,
): { body: MessageCreateParamsStreaming; dropped: DroppedFeature[] } {
  const dropped: DroppedFeature[] = [];
  const system: TextBlockParam[] = [];
  if (req.instructions) system.push({ type: 'text', text: req.instructions });
  const messages: MessageParam[] = [];
  // Anthropic wants alternating turns: consecutive blocks of one role go into one message.
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (!blocks.length) return;
    const last = messages.at(-1);
    if (last && last.role === role) (last.content as ContentBlockParam[]).push(...blocks);
    else messages.push({ role, content: [...blocks] });
  };
  for (const item of req.input) {
    switch (item.type) {
      case 'message':
        if (item.role === 'system' || item.role === 'developer') {
          const text = contentText(item.content);
          if (text) system.push({ type: 'text', text });
        } else push(item.role, blocksOf(item.content));
        break;
      case 'function_call':
        push('assistant', [{ type: 'tool_use', id: item.call_id, name: item.name, input: parseArgs(item.arguments) }]);
        break;
      case 'function_call_output': {
        const content: ToolResultBlockParam['content'] =
          typeof item.output === 'string'
            ? item.output
            : item.output
                .map(partToBlock)
                .filter((b): b is TextBlockParam | ImageBlockParam => b !== null && (b.type === 'text' || b.type === 'image'));
        push('user', [{ type: 'tool_result', tool_use_id: item.call_id, content }]);
        break;
      }
      case 'reasoning':
        break; // reasoning from another model cannot be replayed to Claude
    }
  }

  const tools: AnthropicTool[] = [];
  for (const t of req.tools) {
    if (t.type !== 'function') {
      dropped.push(`tool type '${t.type}'`);
      continue;
    }
    const f = t as Extract<ModelRequest['tools'][number], { type: 'function'; name: string }>;
    tools.push({
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      input_schema: (f.parameters ?? { type: 'object', properties: {} }) as AnthropicTool['input_schema'],
      ...(f.strict ? { strict: true } : {}),
    });
  }

  const body: MessageCreateParamsStreaming = {
    model: req.model,
    max_tokens: req.max_output_tokens ?? opts.defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length) body.system = system;
  if (tools.length) {
    body.tools = tools;
    const tc = toolChoiceToAnthropic(req.tool_choice, req.parallel_tool_calls);
    if (tc) body.tool_choice = tc;
  }
  // Current SDK types no longer list sampling knobs; older Claude models still honour them when sent.
  const sampling = body as MessageCreateParamsStreaming & { temperature?: number; top_p?: number };
  if (req.temperature != null) sampling.temperature = Math.min(req.temperature, 1);
  if (req.top_p != null) sampling.top_p = req.top_p;
  const stop = req.extras?.stop;
  if (stop != null) body.stop_sequences = Array.isArray(stop) ? stop : [stop];
  const fmt = req.text?.format;
  if (fmt?.type === 'json_schema') body.output_config = { format: { type: 'json_schema', schema: fmt.schema } };
  else if (fmt?.type === 'json_object') dropped.push('text.format json_object');
  if (req.user) body.metadata = { user_id: req.user };
  for (const k of ['seed', 'presence_penalty', 'frequency_penalty', 'logit_bias'] as const)
    if (req.extras?.[k] != null) dropped.push(k);
  return { body, dropped };
}

function toolChoiceToAnthropic(tc: ModelRequest['tool_choice'], parallel: boolean | null | undefined): AnthropicToolChoice | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (tc == null || tc === 'auto') return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (tc === 'none') return { type: 'none' };
  if (tc === 'required') return { type: 'any', ...disable };
  if (tc.type === 'function' && 'name' in tc && typeof tc.name === 'string') return { type: 'tool', name: tc.name, ...disable };
  if (tc.type === 'allowed_tools' && 'mode' in tc) return { type: tc.mode === 'required' ? 'any' : 'auto', ...disable };
  return undefined;
}

// ---- stream -----------------------------------------------------------------------

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Anthropic counts cached tokens apart from input tokens; OpenAI counts them inside. */
export function anthropicUsageToUsage(u: AnthropicUsage): Usage {
  const cached = u.cache_read_input_tokens ?? 0;
  const input = (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0);
  return usageOf(input, u.output_tokens ?? 0, cached);
}

export async function* anthropicEventsToEvents(events: AsyncIterable<RawMessageStreamEvent>): AsyncGenerator<ModelEvent> {
  const composer = new OutputComposer();
  let usage: AnthropicUsage = {};
  let stop: string | null = null;
  let toolBlocks = new Set<number>();
  let stopped = false;
  for await (const ev of events) {
    switch (ev.type) {
      case 'message_start':
        usage = { ...ev.message.usage };
        toolBlocks = new Set();
        break;
      case 'content_block_start': {
        const b = ev.content_block;
        if (b.type === 'tool_use') {
          toolBlocks.add(ev.index);
          yield* composer.callStart(ev.index, b.id, b.name);
        } else if (b.type === 'text' && b.text) {
          yield* composer.text(b.text);
        }
        break;
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta') yield* composer.text(d.text);
        else if (d.type === 'input_json_delta') yield* composer.callArgs(ev.index, d.partial_json);
        else if (d.type === 'thinking_delta') yield* composer.reasoning(d.thinking);
        break;
      }
      case 'content_block_stop':
        // Text blocks stay open so adjacent text blocks form one message; a tool call closes here.
        if (toolBlocks.has(ev.index)) yield* composer.close();
        break;
      case 'message_delta':
        if (ev.delta.stop_reason) stop = ev.delta.stop_reason;
        // message_delta usage is cumulative
        usage = { ...usage, ...Object.fromEntries(Object.entries(ev.usage ?? {}).filter(([, v]) => v != null)) };
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  if (!stopped) throw new UpstreamStreamError('server_error', 'The upstream stream ended before message_stop');
  const incomplete = stop === 'max_tokens' || stop === 'refusal' || stop === 'model_context_window_exceeded';
  yield* composer.close(incomplete ? 'incomplete' : 'completed');
  const end: ModelEnd = { type: 'model.end', status: incomplete ? 'incomplete' : 'completed', usage: anthropicUsageToUsage(usage) };
  if (incomplete) end.incomplete_reason = stop === 'refusal' ? 'content_filter' : 'max_output_tokens';
  yield end;
}
