/** What a client sent to `/v1/chat/completions`, as the canonical Responses request the agent runs. */
import type { ChatRequest } from '../../protocol/chat.ts';
import { chatMessagesToItems } from '../../protocol/chat-messages.ts';
import type { ModelRequest } from '../../protocol/model-request.ts';
import type { ResponsesRequest, Tool, ToolChoice } from '../../protocol/responses.ts';

type ChatTool = NonNullable<ChatRequest['tools']>[number];

function chatToolToTool(t: ChatTool): Tool {
  switch (t.type) {
    case 'mcp':
      return t;
    case 'function':
      return { type: 'function', name: t.function.name, description: t.function.description, parameters: t.function.parameters, strict: t.function.strict };
    case 'custom': {
      const f = t.custom.format;
      return {
        type: 'custom',
        name: t.custom.name,
        description: t.custom.description,
        format: f?.type === 'grammar' ? { type: 'grammar', syntax: f.grammar.syntax, definition: f.grammar.definition } : f,
      };
    }
  }
}

/** A Chat tool reference (`{type:"function",function:{name}}`, `{type:"custom",custom:{name}}`) in the Responses form. */
function chatToolRef(t: Record<string, unknown>): Record<string, unknown> {
  const inner = t[t.type as string] as { name?: unknown } | undefined;
  return inner && typeof inner.name === 'string' ? { type: t.type, name: inner.name } : t;
}

function chatToolChoice(req: ChatRequest): ToolChoice | null | undefined {
  const tc = req.tool_choice;
  if (tc == null) {
    const legacy = req.function_call;
    return legacy == null || typeof legacy === 'string' ? legacy : { type: 'function', name: legacy.name };
  }
  if (typeof tc === 'string') return tc;
  switch (tc.type) {
    case 'function':
      return { type: 'function', name: tc.function.name };
    case 'custom':
      return { type: 'custom', name: tc.custom.name };
    case 'allowed_tools':
      return { type: 'allowed_tools', mode: tc.allowed_tools.mode, tools: tc.allowed_tools.tools.map(chatToolRef) };
  }
}

/** A Chat request in canonical form, plus the Chat-only knobs that have no Responses field. */
export function chatToResponses(req: ChatRequest): ResponsesRequest & { extras: ModelRequest['extras'] } {
  const rf = req.response_format;
  const tools = [
    ...(req.tools ?? []).map(chatToolToTool),
    ...(req.functions ?? []).map((f): Tool => ({ type: 'function', name: f.name, description: f.description, parameters: f.parameters })),
  ];
  return {
    model: req.model,
    input: chatMessagesToItems(req.messages),
    tools: req.tools || req.functions ? tools : undefined,
    tool_choice: chatToolChoice(req),
    parallel_tool_calls: req.parallel_tool_calls,
    stream: req.stream,
    max_output_tokens: req.max_completion_tokens ?? req.max_tokens,
    temperature: req.temperature,
    top_p: req.top_p,
    top_logprobs: req.logprobs ? req.top_logprobs : undefined,
    include: req.logprobs ? ['message.output_text.logprobs'] : undefined,
    text:
      rf || req.verbosity
        ? {
            format:
              rf?.type === 'json_schema'
                ? {
                    type: 'json_schema',
                    name: rf.json_schema.name,
                    schema: rf.json_schema.schema ?? {},
                    strict: rf.json_schema.strict,
                    description: rf.json_schema.description,
                  }
                : rf,
            verbosity: req.verbosity,
          }
        : undefined,
    reasoning: req.reasoning_effort ? { effort: req.reasoning_effort } : undefined,
    metadata: req.metadata,
    user: req.user,
    safety_identifier: req.safety_identifier,
    prompt_cache_key: req.prompt_cache_key,
    prompt_cache_retention: req.prompt_cache_retention,
    prompt_cache_options: req.prompt_cache_options,
    service_tier: req.service_tier,
    moderation: req.moderation,
    store: false,
    extras: {
      stop: req.stop,
      seed: req.seed,
      presence_penalty: req.presence_penalty,
      frequency_penalty: req.frequency_penalty,
      logit_bias: req.logit_bias,
      prediction: req.prediction,
      web_search_options: req.web_search_options,
      store: req.store,
      n: req.n,
      audio: req.audio,
      modalities: req.modalities,
    },
    passthrough: req.passthrough,
  };
}
