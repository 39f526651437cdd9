import type { ResponseObject } from './events.ts';
import type { ResponsesRequest, Tool } from './responses.ts';

/** What `response.tools` echoes: OpenAI does not echo MCP headers or credentials. */
function echoTool(t: Tool): unknown {
  if (t.type !== 'mcp') return t;
  const { headers: _h, authorization: _a, ...rest } = t as Extract<Tool, { type: 'mcp' }>;
  return {
    allowed_tools: null,
    headers: null,
    require_approval: 'always',
    server_description: null,
    ...rest,
  };
}

/** A new Response in progress, with every field the API returns (OpenAI API reference: the response object). */
export function newResponseObject(id: string, req: ResponsesRequest, opts: { model: string; store: boolean }): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    completed_at: null,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: req.max_tool_calls ?? null,
    model: opts.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    prompt_cache_key: req.prompt_cache_key ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    safety_identifier: req.safety_identifier ?? null,
    service_tier: req.service_tier ?? 'default',
    store: opts.store,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: 'text' }, verbosity: req.text?.verbosity ?? 'medium' },
    tool_choice: req.tool_choice ?? 'auto',
    tools: (req.tools ?? []).map(echoTool),
    top_logprobs: req.top_logprobs ?? 0,
    top_p: req.top_p ?? 1,
    truncation: req.truncation ?? 'disabled',
    usage: null,
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}
