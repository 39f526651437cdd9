/**
 * Canonical request -> an upstream OpenAI Responses request. The gateway owns ids and state: the
 * upstream call is stateless (`store: false`).
 */
import type { ResponseCreateParamsStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import { newId } from '../../protocol/ids.ts';
import { GEMINI_SIGNATURE_MARK, MODEL_PARAMS, type ModelRequest } from '../../protocol/model-request.ts';

export function modelRequestToResponses(req: ModelRequest): ResponseCreateParamsStreaming {
  const input: ResponseInputItem[] = [];
  for (const item of req.input) {
    // Gateway ids mean nothing upstream (and make a stateless upstream look them up), so they are not sent;
    // a reasoning item keeps its own: without stored state upstream it is replayed by its encrypted content
    // (not a Gemini thought signature, which only Gemini can read).
    const { id, ...rest } = item;
    if (item.type === 'reasoning') {
      if (item.encrypted_content && !item.encrypted_content.startsWith(GEMINI_SIGNATURE_MARK))
        input.push({ ...rest, id: id ?? newId('rs') } as ResponseInputItem);
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
  const fields = body as unknown as Record<string, unknown>;
  if (req.instructions) body.instructions = req.instructions;
  if (req.tools.length) body.tools = req.tools as ResponseCreateParamsStreaming['tools'];
  for (const k of MODEL_PARAMS) if (req[k] != null) fields[k] = req[k];
  if (!req.tools.length) {
    delete body.tool_choice;
    delete body.parallel_tool_calls;
  }
  // Fields a Responses client sent that the gateway does not know; never over what the gateway set.
  const p = req.passthrough;
  if (p?.api === 'openai-responses') for (const k in p.fields) if (!(k in fields)) fields[k] = p.fields[k];
  return body;
}
