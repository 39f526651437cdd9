/**
 * Canonical request -> an upstream OpenAI Responses request. The gateway owns ids and state: the
 * upstream call is stateless (`store: false`).
 */
import type { ResponseCreateParamsStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import { newId } from '../ids.ts';
import type { ModelRequest } from '../model-request.ts';

export function modelRequestToResponses(req: ModelRequest): ResponseCreateParamsStreaming {
  const input: ResponseInputItem[] = [];
  for (const item of req.input) {
    // Gateway ids mean nothing upstream (and make a stateless upstream look them up), so they are not sent.
    const { id: _id, ...rest } = item;
    if (item.type === 'reasoning') {
      // Without stored state upstream, a reasoning item can only be replayed with its encrypted content.
      if (item.encrypted_content) input.push({ ...rest, id: item.id ?? newId('rs') } as ResponseInputItem);
      continue;
    }
    if (item.type === 'message' && item.role === 'assistant' && Array.isArray(item.content)) {
      const content = item.content.map((p) => (p.type === 'output_text' ? { ...p, annotations: p.annotations ?? [] } : p));
      input.push({ ...rest, content } as ResponseInputItem);
      continue;
    }
    input.push(rest as ResponseInputItem);
  }
  const body: ResponseCreateParamsStreaming = {
    model: req.model,
    input,
    stream: true,
    store: false,
  };
  if (req.instructions) body.instructions = req.instructions;
  if (req.tools.length) body.tools = req.tools as ResponseCreateParamsStreaming['tools'];
  const copy = [
    'tool_choice',
    'parallel_tool_calls',
    'max_output_tokens',
    'temperature',
    'top_p',
    'top_logprobs',
    'text',
    'reasoning',
    'metadata',
    'include',
    'truncation',
    'user',
    'safety_identifier',
    'prompt_cache_key',
    'service_tier',
  ] as const;
  for (const k of copy) if (req[k] != null) (body as unknown as Record<string, unknown>)[k] = req[k];
  if (!req.tools.length) {
    delete body.tool_choice;
    delete body.parallel_tool_calls;
  }
  return body;
}
