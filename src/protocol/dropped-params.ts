/**
 * What of a request each upstream API cannot carry: the one table behind the `x-toolgate-dropped-params`
 * header, `litellm_settings.drop_params: false` (a 400 instead of a drop), and the converters' own
 * `dropped` lists. The gateway's own fields (`store`, `previous_response_id`, `stream`, `metadata`, `mcp`
 * tools, ...) are never dropped: the gateway serves them itself.
 */
import { hasFunctionForm } from './client-tools.ts';
import { ApiError } from './errors.ts';
import type { ModelParams, ModelRequest, ModelTool } from './model-request.ts';
import type { ProviderApi } from './passthrough.ts';

/** A parameter, tool type or `include` value an upstream will not receive. */
export interface DroppedParam {
  /** The request field: `top_logprobs`, `reasoning.summary`, `tools`, `include`, ... */
  param: string;
  /** For `tools`: the tool type; for `include`: the value. */
  value?: string;
}

export type DroppableRequest = ModelParams & Pick<ModelRequest, 'tools' | 'extras' | 'passthrough'>;

export function droppedLabel(d: DroppedParam): string {
  return d.value === undefined ? d.param : `${d.param}:${d.value}`;
}

const WEB_SEARCH = new Set(['web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11']);

/** OpenAI's web search, which Anthropic serves with its own web search server tool. */
export function isWebSearchTool(t: ModelTool): boolean {
  return WEB_SEARCH.has(t.type);
}

/** Whether a Chat or Anthropic upstream can be offered the tool. */
function servesTool(t: ModelTool, api: ProviderApi): boolean {
  return hasFunctionForm(t) || (api === 'anthropic' && isWebSearchTool(t));
}

/** Keys set in a config object, but those listed. */
function keysBut(o: object | null | undefined, carried: readonly string[]): string[] {
  if (!o) return [];
  return Object.entries(o)
    .filter(([k, v]) => v != null && !carried.includes(k))
    .map(([k]) => k);
}

/** Chat-only knobs (ChatExtras) no other API takes (`stop` also reaches Anthropic). */
const CHAT_ONLY = ['seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'prediction', 'web_search_options'] as const;

/**
 * Fields that reach OpenAI Responses and Chat upstreams but no other API (Anthropic maps the cache
 * retention to its breakpoints' TTL and an explicit cache mode to the client's own breakpoints only).
 */
const NOT_ANTHROPIC = ['prompt_cache_key', 'prompt_cache_retention', 'prompt_cache_options', 'moderation'] as const;
const ANTHROPIC_CARRIES = new Set<string>(['prompt_cache_retention', 'prompt_cache_options']);
/** ... and those only OpenAI Responses upstreams take. */
const RESPONSES_ONLY = ['prompt', 'context_management', 'access_programs', 'image'] as const;

export function droppedParams(r: DroppableRequest, api: ProviderApi): DroppedParam[] {
  const out: DroppedParam[] = [];
  const drop = (param: string, value?: string) => out.push(value === undefined ? { param } : { param, value });
  const responses = api === 'openai-responses';
  const chat = api === 'openai-chat';

  if (!responses) {
    for (const t of r.tools) if (!servesTool(t, api)) drop('tools', t.type);
    // a choice of a tool type this upstream is not offered
    const tc = r.tool_choice;
    if (
      tc &&
      typeof tc === 'object' &&
      !['function', 'custom', 'allowed_tools', 'mcp'].includes(tc.type) &&
      !r.tools.some((t) => t.type === tc.type && servesTool(t, api))
    )
      drop('tool_choice', tc.type);
    for (const v of r.include ?? []) drop('include', v);
    // Logprobs come back in a Chat answer's own form, which the gateway does not relay.
    if (r.top_logprobs != null) drop('top_logprobs');
    for (const k of RESPONSES_ONLY) if (r[k] != null) drop(k);
    if (!chat) for (const k of NOT_ANTHROPIC) if (r[k] != null && !(api === 'anthropic' && ANTHROPIC_CARRIES.has(k))) drop(k);
    if (r.truncation === 'auto') drop('truncation');
    const reasoningCarried = chat ? ['effort'] : api === 'gemini' ? ['effort', 'summary'] : [];
    for (const k of keysBut(r.reasoning, reasoningCarried)) drop(`reasoning.${k}`);
    for (const k of keysBut(r.text, chat ? ['format', 'verbosity'] : ['format'])) drop(`text.${k}`);
    if (!chat && r.text?.format?.type === 'json_object') drop('text.format', 'json_object');
    if (!chat && r.service_tier != null && r.service_tier !== 'auto' && r.service_tier !== 'default') drop('service_tier', r.service_tier);
  }

  const x = r.extras;
  if (x) {
    if (!chat) {
      for (const k of CHAT_ONLY) if (x[k] != null) drop(k);
      if (responses && x.stop != null) drop('stop');
      if (x.store) drop('store');
    }
    // The gateway answers with one text choice, whatever the upstream.
    if (x.n != null && x.n > 1) drop('n');
    if (x.audio != null) drop('audio');
    if (x.modalities?.includes('audio')) drop('modalities', 'audio');
  }

  const p = r.passthrough;
  if (p && p.api !== api) for (const k in p.fields) drop(k);
  return out;
}

/** What any of `apis` would drop (a model group may fail over between APIs), each label once. */
export function droppedForApis(r: DroppableRequest, apis: Iterable<ProviderApi>): DroppedParam[] {
  const seen = new Map<string, DroppedParam>();
  for (const api of new Set(apis)) for (const d of droppedParams(r, api)) seen.set(droppedLabel(d), d);
  return [...seen.values()];
}

/** The 400 a drop becomes with `litellm_settings.drop_params: false` (OpenAI's wording for an unsupported parameter). */
export function unsupportedParamError(d: DroppedParam, model: string): ApiError {
  const what = d.value === undefined ? `'${d.param}'` : `'${d.param}' value '${d.value}'`;
  return new ApiError(
    400,
    `Unsupported parameter: ${what} is not supported by the provider of model '${model}'. Set litellm_settings.drop_params: true to drop it instead.`,
    {
      param: d.param,
      code: 'unsupported_parameter',
    },
  );
}

/** The response header that lists what was dropped (none when nothing was). */
export function droppedHeader(labels: readonly string[]): Record<string, string> {
  return labels.length ? { 'x-toolgate-dropped-params': labels.join(',') } : {};
}
