/**
 * Canonical request -> Gemini `generateContent` request (ai.google.dev, API reference: models.generateContent;
 * guides: Function calling, Thinking, Thought signatures, Structured output). Vertex AI takes the same body.
 */
import { providerTools, type FunctionHistoryItem, type ToolNames } from '../../protocol/client-tools.ts';
import { droppedLabel, droppedParams } from '../../protocol/dropped-params.ts';
import { argumentsObject, contentText, DATA_URL, type ModelRequest } from '../../protocol/model-request.ts';
import type { ContentPart, FunctionCallItem, ToolOutput } from '../../protocol/responses.ts';
import type { ConvertedRequest } from '../types.ts';
import {
  callIdToGeminiId,
  encryptedToSignature,
  geminiTraits,
  type GeminiContent,
  type GeminiGenerationConfig,
  type GeminiModelTraits,
  type GeminiPart,
  type GeminiThinkingConfig,
  type GeminiToolConfig,
  type GenerateContentRequest,
} from './wire.ts';

/**
 * Gemini 3 refuses a step of the current turn whose first function call carries no thought signature; calls
 * another model made (or a client that kept no reasoning items) have none. This is the value Google's
 * thought-signature guide gives for such history.
 */
export const FOREIGN_SIGNATURE = 'skip_thought_signature_validator';

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** A data URL inline; any other URL by reference, its media type guessed from the extension. */
function mediaPart(url: string): GeminiPart {
  const m = DATA_URL.exec(url);
  if (m) return { inlineData: { mimeType: m[1]!, data: m[2]! } };
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  const mimeType = ext ? MIME_BY_EXTENSION[ext] : undefined;
  return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
}

function partOf(p: ContentPart): GeminiPart | null {
  switch (p.type) {
    case 'input_text':
    case 'output_text':
      return p.text === '' ? null : { text: p.text };
    case 'refusal':
      return p.refusal === '' ? null : { text: p.refusal };
    case 'input_image':
      return p.image_url ? mediaPart(p.image_url) : null;
    case 'input_file':
      if (p.file_data && DATA_URL.test(p.file_data)) return mediaPart(p.file_data);
      return p.file_url ? mediaPart(p.file_url) : null;
    case 'input_audio':
      return { inlineData: { mimeType: `audio/${p.input_audio.format}`, data: p.input_audio.data } };
  }
}

function partsOf(content: string | ContentPart[]): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.map(partOf).filter((p): p is GeminiPart => p !== null);
}

/** A tool's output as Gemini's `response` object (a JSON object output as itself), and its images and files as parts beside it. */
function responseOf(output: ToolOutput): { response: Record<string, unknown>; media: GeminiPart[] } {
  if (typeof output === 'string') {
    if (output.trimStart().startsWith('{')) {
      try {
        const v = JSON.parse(output);
        if (v && typeof v === 'object' && !Array.isArray(v)) return { response: v, media: [] };
      } catch {
        // not JSON: sent as text
      }
    }
    return { response: { output }, media: [] };
  }
  const text = output
    .filter((p) => p.type === 'input_text')
    .map((p) => p.text)
    .join('\n');
  const media = output.filter((p) => p.type !== 'input_text').flatMap((p) => partOf(p) ?? []);
  return { response: { output: text }, media };
}

/**
 * Builds `contents`: consecutive parts of one role in one content, and each step of function calls as one
 * model content answered by one user content holding every response (Gemini counts them against the calls).
 * A step begins with a call that follows a thought signature, or with the first call after anything else, so
 * that the calls of one model answer stay together even when a tool loop interleaves each with its output.
 * A thought signature goes on the model part that follows it in the same turn, else on the turn's last part.
 */
class ContentsBuilder {
  readonly contents: GeminiContent[] = [];
  private readonly names: ReadonlyMap<string, string>;
  private readonly foreignSignature: boolean;
  private signature: string | null = null;
  private step: { callIds: Set<string>; responses: GeminiPart[]; media: GeminiPart[] } | null = null;

  constructor(names: ReadonlyMap<string, string>, foreignSignature: boolean) {
    this.names = names;
    this.foreignSignature = foreignSignature;
  }

  thoughtSignature(signature: string): void {
    this.placeSignature();
    this.signature = signature;
  }

  model(parts: GeminiPart[]): void {
    this.closeStep();
    if (!parts.length) return;
    this.signParts(parts);
    const last = this.contents.at(-1);
    if (last?.role === 'model') last.parts.push(...parts);
    else this.contents.push({ role: 'model', parts });
  }

  user(parts: GeminiPart[]): void {
    this.closeStep();
    this.placeSignature();
    if (!parts.length) return;
    const last = this.contents.at(-1);
    if (last?.role === 'user' && !last.parts.some((p) => p.functionResponse)) last.parts.push(...parts);
    else this.contents.push({ role: 'user', parts });
  }

  call(item: FunctionCallItem): void {
    const signature = this.signature;
    this.signature = null;
    const id = callIdToGeminiId(item.call_id);
    const part: GeminiPart = { functionCall: { ...(id ? { id } : {}), name: item.name, args: argumentsObject(item.arguments) } };
    if (!this.step || signature !== null) {
      this.closeStep();
      this.step = { callIds: new Set(), responses: [], media: [] };
      const sig = signature ?? (this.foreignSignature ? FOREIGN_SIGNATURE : null);
      if (sig) part.thoughtSignature = sig;
    }
    this.step.callIds.add(item.call_id);
    const last = this.contents.at(-1);
    if (last?.role === 'model') last.parts.push(part);
    else this.contents.push({ role: 'model', parts: [part] });
  }

  output(callId: string, output: ToolOutput): void {
    const { response, media } = responseOf(output);
    const id = callIdToGeminiId(callId);
    const part: GeminiPart = { functionResponse: { ...(id ? { id } : {}), name: this.names.get(callId) ?? 'unknown_function', response } };
    if (this.step?.callIds.has(callId)) {
      this.step.responses.push(part);
      this.step.media.push(...media);
    } else this.user([part, ...media]);
  }

  finish(): GeminiContent[] {
    this.closeStep();
    this.placeSignature();
    return this.contents;
  }

  private closeStep(): void {
    const step = this.step;
    this.step = null;
    if (step?.responses.length) this.contents.push({ role: 'user', parts: [...step.responses, ...step.media] });
  }

  private signParts(parts: GeminiPart[]): void {
    if (this.signature === null) return;
    parts[0]!.thoughtSignature = this.signature;
    this.signature = null;
  }

  /** A signature no later model part took: on the last part of the model's turn. */
  private placeSignature(): void {
    if (this.signature === null) return;
    const last = this.contents.at(-1);
    const part = last?.role === 'model' ? last.parts.at(-1) : undefined;
    if (part && !part.thoughtSignature) part.thoughtSignature = this.signature;
    this.signature = null;
  }
}

function contentsOf(items: FunctionHistoryItem[], traits: GeminiModelTraits): { contents: GeminiContent[]; system: GeminiPart[] } {
  const names = new Map<string, string>();
  for (const item of items) if (item.type === 'function_call') names.set(item.call_id, item.name);
  const b = new ContentsBuilder(names, (traits.generation ?? 0) >= 3);
  const system: GeminiPart[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'system' || item.role === 'developer') {
          const text = contentText(item.content);
          if (text) system.push({ text });
        } else if (item.role === 'assistant') b.model(partsOf(item.content));
        else b.user(partsOf(item.content));
        break;
      case 'function_call':
        b.call(item);
        break;
      case 'function_call_output':
        b.output(item.call_id, item.output);
        break;
      case 'reasoning': {
        // Only Gemini's own signature goes back; reasoning text and other providers' reasoning are not replayed.
        const signature = encryptedToSignature(item.encrypted_content);
        if (signature) b.thoughtSignature(signature);
        break;
      }
    }
  }
  return { contents: b.finish(), system };
}

function toolConfigOf(tc: ModelRequest['tool_choice'], names: ToolNames): GeminiToolConfig | undefined {
  if (tc == null || tc === 'auto') return undefined;
  if (tc === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (tc === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (tc.type === 'allowed_tools' && 'mode' in tc) {
    // Gemini restricts the functions only when a call is required (mode ANY).
    if (tc.mode !== 'required') return undefined;
    const tools = (tc as { tools?: unknown }).tools as { type: string; name?: unknown }[];
    const allowed = tools.map((t) => names.forced(t)).filter((n): n is string => n !== null);
    return { functionCallingConfig: allowed.length ? { mode: 'ANY', allowedFunctionNames: allowed } : { mode: 'ANY' } };
  }
  const name = names.forced(tc);
  return name ? { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } } : undefined;
}

const LEVELS: Record<string, (t: GeminiModelTraits) => GeminiThinkingConfig['thinkingLevel']> = {
  none: (t) => (t.flash ? 'minimal' : 'low'),
  minimal: (t) => (t.flash ? 'minimal' : 'low'),
  low: () => 'low',
  medium: (t) => (t.flash ? 'medium' : 'high'),
  high: () => 'high',
  xhigh: () => 'high',
};

const BUDGETS: Record<string, (t: GeminiModelTraits) => number> = {
  none: (t) => (t.pro ? 128 : 0),
  minimal: () => 512,
  low: () => 1024,
  medium: () => 8192,
  high: () => 24576,
  xhigh: (t) => (t.pro ? 32768 : 24576),
};

/**
 * `reasoning` as Gemini's thinking config, for the models that think (2.5 and later): Gemini 3 takes a
 * level (Pro only low and high), 2.5 a token budget (Pro cannot stop thinking: 128 is its least).
 * Thought summaries are what Gemini shows of its thinking: asked for with a reasoning summary.
 */
function thinkingConfigOf(reasoning: ModelRequest['reasoning'], t: GeminiModelTraits): GeminiThinkingConfig {
  const config: GeminiThinkingConfig = {};
  if (!reasoning || t.generation === null || t.generation < 2.5) return config;
  const effort = reasoning.effort;
  if (effort && t.generation >= 3) {
    const level = LEVELS[effort]?.(t);
    if (level) config.thinkingLevel = level;
  } else if (effort) {
    const budget = BUDGETS[effort]?.(t);
    if (budget !== undefined) config.thinkingBudget = budget;
  }
  if (reasoning.summary) config.includeThoughts = true;
  return config;
}

export function modelRequestToGemini(req: ModelRequest): ConvertedRequest<GenerateContentRequest> {
  const traits = geminiTraits(req.model);
  const { functions, names } = providerTools(req.tools);
  const history = names.history();
  const items = req.input.map((item) => history.map(item)).filter((i): i is FunctionHistoryItem => i !== null);
  const { contents, system } = contentsOf(items, traits);
  if (req.instructions) system.unshift({ text: req.instructions });

  const body: GenerateContentRequest = { contents };
  if (system.length) body.systemInstruction = { parts: system };
  if (functions.length) {
    body.tools = [
      {
        functionDeclarations: functions.map((f) => ({
          name: f.name,
          ...(f.description ? { description: f.description } : {}),
          parametersJsonSchema: f.parameters,
        })),
      },
    ];
    const toolConfig = toolConfigOf(req.tool_choice, names);
    if (toolConfig) body.toolConfig = toolConfig;
  }

  const config: GeminiGenerationConfig = {};
  if (req.temperature != null) config.temperature = req.temperature;
  if (req.top_p != null) config.topP = req.top_p;
  if (req.max_output_tokens != null) config.maxOutputTokens = req.max_output_tokens;
  const stop = req.extras?.stop;
  if (stop != null) config.stopSequences = Array.isArray(stop) ? stop : [stop];
  const fmt = req.text?.format;
  if (fmt?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = fmt.schema;
  }
  const thinking = thinkingConfigOf(req.reasoning, traits);
  if (Object.keys(thinking).length) config.thinkingConfig = thinking;
  if (Object.keys(config).length) body.generationConfig = config;

  // The shared table counts reasoning as carried to Gemini; a model that does not think drops it here.
  const dropped = droppedParams(req, 'gemini').map(droppedLabel);
  if (req.reasoning?.effort != null && !thinking.thinkingLevel && thinking.thinkingBudget === undefined) dropped.push('reasoning.effort');
  if (req.reasoning?.summary != null && !thinking.includeThoughts) dropped.push('reasoning.summary');
  return { body, dropped, calls: names.calls() };
}
