/**
 * Canonical Responses request -> Anthropic Messages request
 * (docs.anthropic.com, Messages API).
 */
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  TextBlockParam,
  Tool as AnthropicTool,
  ToolChoice as AnthropicToolChoice,
  ToolResultBlockParam,
  ToolUnion,
  WebSearchTool20250305,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { providerTools, type ToolNames } from '../../protocol/client-tools.ts';
import { droppedLabel, droppedParams, isWebSearchTool } from '../../protocol/dropped-params.ts';
import { contentText, type ModelRequest, type ModelTool } from '../../protocol/model-request.ts';
import type { ContentPart } from '../../protocol/responses.ts';
import type { ConvertedRequest } from '../types.ts';

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
    case 'input_audio':
      return null;
    case 'input_file': {
      const m = p.file_data ? DATA_URL.exec(p.file_data) : null;
      if (m && m[1] === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: m[2]! } };
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

/** OpenAI's web search tool as Anthropic's web search server tool. */
function webSearchTool(t: ModelTool): WebSearchTool20250305 {
  const w = t as { filters?: { allowed_domains?: string[] | null } | null; user_location?: Record<string, unknown> | null };
  const tool: WebSearchTool20250305 = { type: 'web_search_20250305', name: 'web_search' };
  if (w.filters?.allowed_domains?.length) tool.allowed_domains = w.filters.allowed_domains;
  const loc = w.user_location;
  if (loc) {
    const { city, country, region, timezone } = loc as Record<string, string | undefined>;
    tool.user_location = { type: 'approximate', city, country, region, timezone };
  }
  return tool;
}

export function modelRequestToAnthropic(req: ModelRequest, opts: AnthropicRequestOptions): ConvertedRequest<MessageCreateParamsStreaming> {
  const { functions, hosted, names } = providerTools(req.tools);
  const history = names.history();
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
  for (const original of req.input) {
    const item = history.map(original);
    switch (item?.type) {
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
            : item.output.map(partToBlock).filter((b): b is TextBlockParam | ImageBlockParam => b !== null && (b.type === 'text' || b.type === 'image'));
        push('user', [{ type: 'tool_result', tool_use_id: item.call_id, content }]);
        break;
      }
      // reasoning from another model, and items of tools OpenAI hosts, cannot be replayed to Claude
    }
  }

  const tools: ToolUnion[] = functions.map(
    (f): AnthropicTool => ({
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      input_schema: f.parameters as AnthropicTool['input_schema'],
      ...(f.strict ? { strict: true } : {}),
    }),
  );
  for (const t of hosted) if (isWebSearchTool(t)) tools.push(webSearchTool(t));

  const body: MessageCreateParamsStreaming = {
    model: req.model,
    max_tokens: req.max_output_tokens ?? opts.defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length) body.system = system;
  if (tools.length) {
    body.tools = tools;
    const tc = toolChoiceToAnthropic(req.tool_choice, req.parallel_tool_calls, names, tools.length > functions.length);
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
  const userId = req.user ?? req.safety_identifier;
  if (userId) body.metadata = { user_id: userId };
  if (req.service_tier === 'auto' || req.service_tier === 'default') body.service_tier = req.service_tier === 'auto' ? 'auto' : 'standard_only';
  return { body, dropped: droppedParams(req, 'anthropic').map(droppedLabel), calls: names.calls() };
}

function toolChoiceToAnthropic(
  tc: ModelRequest['tool_choice'],
  parallel: boolean | null | undefined,
  names: ToolNames,
  webSearch: boolean,
): AnthropicToolChoice | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (tc == null || tc === 'auto') return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (tc === 'none') return { type: 'none' };
  if (tc === 'required') return { type: 'any', ...disable };
  if (tc.type === 'allowed_tools' && 'mode' in tc) return { type: tc.mode === 'required' ? 'any' : 'auto', ...disable };
  const name = webSearch && isWebSearchTool(tc as ModelTool) ? 'web_search' : names.forced(tc);
  if (name) return { type: 'tool', name, ...disable };
  return parallel === false ? { type: 'auto', ...disable } : undefined;
}
