/**
 * Canonical Responses request -> Amazon Bedrock Converse request (Amazon Bedrock API Reference:
 * Converse, Message, ContentBlock, ToolConfiguration, OutputConfig; User Guide: "Prompt caching for
 * faster model inference").
 */
import { providerTools, type ToolNames } from '../../protocol/client-tools.ts';
import { droppedLabel, droppedParams } from '../../protocol/dropped-params.ts';
import { argumentsObject, contentText, DATA_URL, type ModelRequest } from '../../protocol/model-request.ts';
import type { ContentPart } from '../../protocol/responses.ts';
import type { ConvertedRequest } from '../types.ts';
import type {
  BedrockMessage,
  CachePointBlock,
  ContentBlock,
  ConverseRequest,
  DocumentBlock,
  DocumentFormat,
  ImageBlock,
  ImageFormat,
  SystemBlock,
  ToolChoice,
  ToolResultBlock,
  ToolSpec,
} from './wire.ts';

const cachePoint = (): CachePointBlock => ({ cachePoint: { type: 'default' } });
/** Bedrock's limit of cache points per request. */
const MAX_CACHE_POINTS = 4;

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DOCUMENT_FORMATS: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

/**
 * Where a model takes cache points (the User Guide's table of supported models): Claude 3.5 Haiku,
 * 3.7 Sonnet and every Claude 4 in system, messages and tools; Amazon Nova in system and messages only.
 * Older Claude models refuse them. Matched anywhere in the id, so cross-region profiles and
 * inference-profile ARNs that name the model qualify too.
 */
export function cacheFields(modelId: string): { tools: boolean } | null {
  if (/anthropic\.claude-(3-5-haiku|3-7-|(sonnet|opus|haiku)-\d)/.test(modelId)) return { tools: true };
  if (/amazon\.nova-(micro|lite|pro|premier|2-)/.test(modelId)) return { tools: false };
  return null;
}

/** The model id as the path names it: LiteLLM's `converse/` route hint stripped. */
export function converseModelId(model: string): string {
  return model.startsWith('converse/') ? model.slice('converse/'.length) : model;
}

function imageBlock(url: string): ImageBlock | null {
  if (url.startsWith('s3://')) {
    const format = IMAGE_FORMATS[`image/${url.slice(url.lastIndexOf('.') + 1).toLowerCase()}`];
    return format ? { image: { format, source: { s3Location: { uri: url } } } } : null;
  }
  const m = DATA_URL.exec(url);
  const format = m && IMAGE_FORMATS[m[1]!.toLowerCase()];
  // Converse takes no image URLs but S3's: a web address cannot be sent.
  return format ? { image: { format, source: { bytes: m[2]! } } } : null;
}

/** A document's name: letters, digits, single spaces, hyphens, parentheses and brackets (DocumentBlock.name). */
function documentName(filename: string | null | undefined, n: number): string {
  const stem = (filename ?? '').replace(/\.[^.]*$/, '');
  const clean = stem
    .replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean || `document-${n}`;
}

/** Builds the content blocks of one request, numbering its documents (their names must differ). */
class Blocks {
  private documents = 0;
  /** Whether the model takes cache points: then a part's own breakpoint becomes one after its block. */
  private readonly caching: boolean;

  constructor(caching: boolean) {
    this.caching = caching;
  }

  of(p: ContentPart): ContentBlock | null {
    switch (p.type) {
      case 'input_text':
      case 'output_text':
        return p.text === '' ? null : { text: p.text };
      case 'refusal':
        return p.refusal === '' ? null : { text: p.refusal };
      case 'input_image':
        return p.image_url ? imageBlock(p.image_url) : null;
      case 'input_audio':
        return null;
      case 'input_file':
        return this.document(p);
    }
  }

  list(content: string | ContentPart[]): ContentBlock[] {
    if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
    const out: ContentBlock[] = [];
    for (const p of content) {
      const b = this.of(p);
      if (!b) continue;
      out.push(b);
      if (this.caching && hasBreakpoint(p)) out.push(cachePoint());
    }
    return out;
  }

  private document(p: Extract<ContentPart, { type: 'input_file' }>): DocumentBlock | null {
    const m = p.file_data ? DATA_URL.exec(p.file_data) : null;
    const format = m ? DOCUMENT_FORMATS[m[1]!.toLowerCase()] : undefined;
    if (!m || !format) return null;
    return { document: { format, name: documentName(p.filename, ++this.documents), source: { bytes: m[2]! } } };
  }
}

/** The client's own cache breakpoint on a part (OpenAI's `prompt_cache_breakpoint`). */
function hasBreakpoint(p: ContentPart): boolean {
  return 'prompt_cache_breakpoint' in p && p.prompt_cache_breakpoint != null;
}

/** A tool result, and a cache point after it when the client marked any of its parts (one cannot go inside). */
function toolResult(callId: string, output: string | ContentPart[], blocks: Blocks): ContentBlock[] {
  const content: ToolResultBlock['toolResult']['content'] = [];
  let marked = false;
  for (const b of blocks.list(output))
    if ('text' in b || 'image' in b || 'document' in b) content.push(b);
    else if ('cachePoint' in b) marked = true;
  const result: ToolResultBlock = { toolResult: { toolUseId: callId, content } };
  return marked ? [result, cachePoint()] : [result];
}

export interface BedrockRequestOptions {
  /** maxTokens when the request sets none (the entry's `max_tokens`); else the model's own default. */
  defaultMaxTokens?: number | undefined;
}

export function modelRequestToConverse(req: ModelRequest, opts: BedrockRequestOptions = {}): ConvertedRequest<ConverseRequest> {
  const { functions, names } = providerTools(req.tools);
  const history = names.history();
  const cache = cacheFields(req.model);
  const blocks = new Blocks(cache !== null);
  const dropped = droppedParams(req, 'bedrock-converse').map(droppedLabel);
  const system: SystemBlock[] = [];
  if (req.instructions) system.push({ text: req.instructions });
  const messages: BedrockMessage[] = [];
  // Converse wants alternating turns: consecutive blocks of one role go into one message.
  const push = (role: 'user' | 'assistant', content: ContentBlock[]) => {
    if (!content.length) return;
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else messages.push({ role, content: [...content] });
  };
  const calledTools = new Set<string>();
  for (const original of req.input) {
    const item = history.map(original);
    switch (item?.type) {
      case 'message':
        if (item.role === 'system' || item.role === 'developer') {
          const text = contentText(item.content);
          if (text) system.push({ text });
          if (text && cache && Array.isArray(item.content) && item.content.some(hasBreakpoint)) system.push(cachePoint());
        } else push(item.role, blocks.list(item.content));
        break;
      case 'function_call':
        calledTools.add(item.name);
        push('assistant', [{ toolUse: { toolUseId: item.call_id, name: item.name, input: argumentsObject(item.arguments) } }]);
        break;
      case 'function_call_output':
        push('user', toolResult(item.call_id, item.output, blocks));
        break;
      // reasoning from another model, and items of tools OpenAI hosts, cannot be replayed
    }
  }

  const body: ConverseRequest = { messages };
  if (system.length) body.system = system;

  let specs: ToolSpec[] = functions.map((f) => ({
    toolSpec: { name: f.name, ...(f.description ? { description: f.description } : {}), inputSchema: { json: f.parameters } },
  }));
  // Converse has no "none": the tools are left out instead. But a conversation holding tool calls must
  // come with a toolConfig, so then the tools stay (the choice dropped) or, if none are offered,
  // stand-ins named after the calls do.
  const none = req.tool_choice === 'none';
  if ((none || !specs.length) && calledTools.size) {
    if (none && specs.length) dropped.push('tool_choice');
    if (!specs.length) specs = [...calledTools].map((name) => ({ toolSpec: { name, inputSchema: { json: { type: 'object', properties: {} } } } }));
  } else if (none) specs = [];
  if (specs.length) {
    body.toolConfig = { tools: specs };
    const tc = none ? undefined : toolChoiceToConverse(req.tool_choice, names);
    if (tc) body.toolConfig.toolChoice = tc;
  }

  const inference: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = req.max_output_tokens ?? opts.defaultMaxTokens;
  if (maxTokens != null) inference.maxTokens = maxTokens;
  // OpenAI's temperature runs to 2; the models on Bedrock take at most 1.
  if (req.temperature != null) inference.temperature = Math.min(req.temperature, 1);
  if (req.top_p != null) inference.topP = req.top_p;
  const stop = req.extras?.stop;
  if (stop != null) inference.stopSequences = Array.isArray(stop) ? stop : [stop];
  if (Object.keys(inference).length) body.inferenceConfig = inference;

  const fmt = req.text?.format;
  if (fmt?.type === 'json_schema') {
    const jsonSchema: { schema: string; name?: string; description?: string } = { schema: JSON.stringify(fmt.schema), name: fmt.name };
    if (fmt.description) jsonSchema.description = fmt.description;
    body.outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
  }

  // OpenAI's `explicit` mode: no cache point of the gateway's, only the client's own.
  placeCachePoints(body, cache, req.prompt_cache_options?.mode !== 'explicit');
  return { body, dropped, calls: names.calls() };
}

/**
 * The client's own cache points come first: the latest four are kept. The gateway's follow while the
 * budget of four allows: after the tools, after the system blocks, and after the conversation's last
 * block, so each round of a tool loop reads the rounds before it from cache.
 */
function placeCachePoints(body: ConverseRequest, fields: { tools: boolean } | null, auto: boolean): void {
  if (!fields) return;
  const lists = [body.system ?? [], ...body.messages.map((m) => m.content)] as object[][];
  let own = lists.reduce((n, list) => n + list.filter((b) => 'cachePoint' in b).length, 0);
  for (const list of lists)
    for (let i = 0; i < list.length && own > MAX_CACHE_POINTS; i++)
      if ('cachePoint' in list[i]!) {
        list.splice(i--, 1);
        own--;
      }
  if (!auto) return;
  let budget = MAX_CACHE_POINTS - own;
  if (fields.tools && body.toolConfig && budget > 0) {
    body.toolConfig.tools.push(cachePoint());
    budget--;
  }
  if (body.system?.length && !('cachePoint' in body.system.at(-1)!) && budget > 0) {
    body.system.push(cachePoint());
    budget--;
  }
  const last = body.messages.at(-1);
  if (last && !('cachePoint' in last.content.at(-1)!) && budget > 0) last.content.push(cachePoint());
}

function toolChoiceToConverse(tc: ModelRequest['tool_choice'], names: ToolNames): ToolChoice | undefined {
  // auto is Converse's default, and the one choice every model with tools takes: it is not sent.
  if (tc == null || tc === 'auto' || tc === 'none') return undefined;
  if (tc === 'required') return { any: {} };
  if (tc.type === 'allowed_tools' && 'mode' in tc) return tc.mode === 'required' ? { any: {} } : undefined;
  const name = names.forced(tc);
  return name ? { tool: { name } } : undefined;
}
