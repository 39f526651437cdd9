/**
 * An MCP tool result in the two forms the bridge needs: the `mcp_call` item's `output` string (text,
 * plus `structuredContent` as JSON) and what goes back to the model (the same text, plus images as
 * image input). Errors become OpenAI's tagged `mcp_call.error`.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FunctionCallOutputItem, McpCallError } from '../protocol/responses.ts';
import { describeFailure, mcpCallErrorOf } from '../protocol/errors.ts';

export interface ConvertedResult {
  output: string;
  modelOutput: FunctionCallOutputItem['output'];
  error: McpCallError | null;
}

/** Keeps the head and the tail of an over-long output, and says how much was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.floor((max - 64) / 2);
  const cut = text.length - 2 * keep;
  return `${text.slice(0, keep)}\n…[truncated ${cut} characters]…\n${text.slice(text.length - keep)}`;
}

export function convertToolResult(result: CallToolResult, maxChars: number): ConvertedResult {
  const texts: string[] = [];
  const images: { type: 'input_image'; image_url: string; detail: 'auto' }[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case 'text':
        texts.push(block.text);
        break;
      case 'image':
        images.push({ type: 'input_image', image_url: `data:${block.mimeType};base64,${block.data}`, detail: 'auto' });
        break;
      case 'resource': {
        const r = block.resource as { uri: string; text?: string; mimeType?: string };
        texts.push(typeof r.text === 'string' ? r.text : `[resource ${r.uri}${r.mimeType ? ` (${r.mimeType})` : ''}]`);
        break;
      }
      case 'resource_link':
        texts.push(`[resource link ${block.uri}${block.name ? ` "${block.name}"` : ''}]`);
        break;
      case 'audio':
        texts.push(`[audio (${block.mimeType}) omitted: the model input has no audio]`);
        break;
    }
  }
  if (result.structuredContent !== undefined) {
    const json = JSON.stringify(result.structuredContent);
    // Servers are asked to mirror structured content as text; do not say it twice.
    if (!texts.some((t) => t.trim() === json)) texts.push(json);
  }
  const output = truncate(texts.join('\n'), maxChars);
  const modelText = result.isError ? `Error: ${output}` : output;
  const modelOutput: FunctionCallOutputItem['output'] = images.length ? [{ type: 'input_text', text: modelText }, ...images] : modelText;
  return {
    output,
    modelOutput,
    error: result.isError ? { type: 'mcp_tool_execution_error', content: result.content ?? [] } : null,
  };
}

/** A call that failed or was not run: the `mcp_call.error` the taxonomy names, and the same words for the model. */
export function convertToolFailure(e: unknown): ConvertedResult {
  const failure = describeFailure(e);
  return { output: failure.message, modelOutput: `Error: the tool call failed: ${failure.message}`, error: mcpCallErrorOf(failure) };
}
