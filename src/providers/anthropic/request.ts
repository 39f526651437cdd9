/**
 * Canonical Responses request -> Anthropic Messages request
 * (docs.anthropic.com, Messages API; prompt caching).
 */
import type {
  CacheControlEphemeral,
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
import { argumentsObject, contentText, DATA_URL, type ModelRequest, type ModelTool } from '../../protocol/model-request.ts';
import type { ContentPart } from '../../protocol/responses.ts';
import type { ConvertedRequest } from '../types.ts';

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

// ---- prompt caching -----------------------------------------------------------------------------

/** Anthropic refuses a request with more cache breakpoints than this. */
const MAX_BREAKPOINTS = 4;

/**
 * OpenAI's cache lifetimes by tier: the extended one (a breakpoint's `12h`, `prompt_cache_retention:
 * 24h`, or Anthropic's own `1h`) is Anthropic's extended `1h`; anything else its default 5 minutes.
 */
function ttlOf(v: string | null | undefined): '1h' | undefined {
  return v === '12h' || v === '24h' || v === '1h' ? '1h' : undefined;
}

function cacheControl(ttl: '1h' | undefined): CacheControlEphemeral {
  return ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
}

/** A block, tool or system block that may carry a breakpoint. */
type Markable = { cache_control?: CacheControlEphemeral | null };

/** A part's own breakpoint (OpenAI's `prompt_cache_breakpoint`); without a ttl it takes the request's. */
function clientBreakpoint(p: ContentPart, requestTtl: '1h' | undefined): CacheControlEphemeral | undefined {
  const bp = 'prompt_cache_breakpoint' in p ? p.prompt_cache_breakpoint : undefined;
  return bp ? cacheControl(bp.ttl ? ttlOf(bp.ttl) : requestTtl) : undefined;
}

/**
 * The gateway's breakpoints, so that each round of a tool loop reads the rounds before from cache:
 * the conversation's last block (the growing prefix), the last tool, the last system block. The
 * client's own come first: at most the latest four of theirs are kept (OpenAI writes the latest four),
 * and ours are added while the budget allows, in that order. The conversation comes first because it
 * is what grows in a loop; the tools next because they are usually the larger stable part and are
 * shared by requests whose instructions differ; the system block last, as its prefix is only reused
 * with the same instructions. A later breakpoint may not outlive an earlier one (Anthropic's rule:
 * longer TTLs first), so ours take the lifetime their neighbours allow.
 */
function placeBreakpoints(body: MessageCreateParamsStreaming, auto: boolean, ttl: '1h' | undefined): void {
  // Render order: tools, system, then each message's blocks (a tool result's content before the result).
  const seq: Markable[] = [...(body.tools ?? []), ...((body.system as TextBlockParam[] | undefined) ?? [])];
  for (const m of body.messages)
    for (const b of m.content as ContentBlockParam[]) {
      if (b.type === 'tool_result' && Array.isArray(b.content)) seq.push(...b.content);
      if (b.type !== 'thinking' && b.type !== 'redacted_thinking') seq.push(b);
    }
  const own = seq.filter((b) => b.cache_control);
  for (const b of own.slice(0, Math.max(0, own.length - MAX_BREAKPOINTS))) delete b.cache_control;
  if (!auto) return;
  let budget = MAX_BREAKPOINTS - Math.min(own.length, MAX_BREAKPOINTS);
  const last = (body.messages.at(-1)?.content as ContentBlockParam[] | undefined)?.at(-1);
  const candidates = [last as Markable | undefined, body.tools?.at(-1), (body.system as TextBlockParam[] | undefined)?.at(-1)];
  for (const b of candidates) {
    if (!budget) return;
    if (!b || b.cache_control) continue;
    const i = seq.indexOf(b);
    const later1h = seq.slice(i + 1).some((o) => o.cache_control?.ttl === '1h');
    const earlier5m = seq.slice(0, i).some((o) => o.cache_control && o.cache_control.ttl !== '1h');
    b.cache_control = cacheControl(later1h ? '1h' : earlier5m ? undefined : ttl);
    budget--;
  }
}

// ---- content ------------------------------------------------------------------------------------

function partToBlock(p: ContentPart, ttl: '1h' | undefined): ContentBlockParam | null {
  const block = partBlock(p);
  const cc = block && clientBreakpoint(p, ttl);
  if (cc) (block as Markable).cache_control = cc;
  return block;
}

function partBlock(p: ContentPart): ContentBlockParam | null {
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

function blocksOf(content: string | ContentPart[], ttl: '1h' | undefined): ContentBlockParam[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.map((p) => partToBlock(p, ttl)).filter((b): b is ContentBlockParam => b !== null);
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
  const ttl = ttlOf(req.prompt_cache_options?.ttl) ?? ttlOf(req.prompt_cache_retention);
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
          const marked = typeof item.content !== 'string' && item.content.map((p) => clientBreakpoint(p, ttl)).findLast((c) => c);
          if (text) system.push(marked ? { type: 'text', text, cache_control: marked } : { type: 'text', text });
        } else push(item.role, blocksOf(item.content, ttl));
        break;
      case 'function_call':
        push('assistant', [{ type: 'tool_use', id: item.call_id, name: item.name, input: argumentsObject(item.arguments) }]);
        break;
      case 'function_call_output': {
        const content: ToolResultBlockParam['content'] =
          typeof item.output === 'string'
            ? item.output
            : item.output
                .map((p) => partToBlock(p, ttl))
                .filter((b): b is TextBlockParam | ImageBlockParam => b !== null && (b.type === 'text' || b.type === 'image'));
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
  // OpenAI's `explicit` mode: no implicit breakpoint, only the client's own.
  placeBreakpoints(body, req.prompt_cache_options?.mode !== 'explicit', ttl);
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
