/**
 * The conversation a response continues (history from `previous_response_id`, or items replayed in
 * `input`): how its approvals are matched, and how its MCP items read to a model (as function calls
 * and outputs).
 */
import { ApiError } from '../protocol/errors.ts';
import type { ModelInputItem } from '../protocol/model-request.ts';
import type { FunctionCallItem, FunctionCallOutputItem, InputItem, McpApprovalRequestItem, McpApprovalResponseItem } from '../protocol/responses.ts';
import { searchOutputText } from './tool-search.ts';

export interface PendingApproval {
  request: McpApprovalRequestItem;
  response: McpApprovalResponseItem;
}

/**
 * The approval responses of this request, each matched with the request it answers. An answer to an
 * approval the conversation never issued, or one already answered, is a 400.
 */
export function matchApprovals(history: InputItem[], input: InputItem[]): PendingApproval[] {
  const requests = new Map<string, McpApprovalRequestItem>();
  const answered = new Set<string>();
  for (const it of history) {
    if (it.type === 'mcp_approval_request') requests.set(it.id, it);
    if (it.type === 'mcp_approval_response') answered.add(it.approval_request_id);
    if (it.type === 'mcp_call' && it.approval_request_id) answered.add(it.approval_request_id);
  }
  for (const it of input) if (it.type === 'mcp_approval_request') requests.set(it.id, it);
  const out: PendingApproval[] = [];
  input.forEach((it, i) => {
    if (it.type !== 'mcp_approval_response') return;
    const request = requests.get(it.approval_request_id);
    const param = `input[${i}].approval_request_id`;
    if (!request)
      throw new ApiError(400, `No approval request with id '${it.approval_request_id}' was issued in this conversation.`, { param, code: 'invalid_value' });
    if (answered.has(it.approval_request_id) || out.some((p) => p.request.id === it.approval_request_id))
      throw new ApiError(400, `The approval request '${it.approval_request_id}' was already answered.`, { param, code: 'invalid_value' });
    out.push({ request, response: it });
  });
  return out;
}

/** Maps an MCP tool (its label and name) to the function name the model knows it by. */
export type FunctionNamer = (label: string, tool: string) => string;

/** A function call and its output, as a model reads a tool call that ran (or was refused). */
export function callWithOutput(
  callId: string,
  name: string,
  args: string,
  output: FunctionCallOutputItem['output'],
): [FunctionCallItem, FunctionCallOutputItem] {
  return [
    { type: 'function_call', call_id: callId, name, arguments: args || '{}' },
    { type: 'function_call_output', call_id: callId, output },
  ];
}

export function deniedOutput(reason: string | null | undefined): string {
  return `The user did not approve this tool call${reason ? `: ${reason}` : '.'} It was not run.`;
}

/** The name of the function the model searches tools with, when a request does not offer one. */
export const SEARCH_FUNCTION = 'tool_search';

/**
 * What a model sees of a conversation. MCP listings are not shown; each MCP call becomes the model's
 * function call with its output; an approval request answered "no", or never answered, becomes a call
 * that was not run. An approval answered "yes" shows through the `mcp_call` that ran it (the caller
 * adds that for approvals answered in the current request). A tool search becomes a call of the search
 * function (`searchFn`) whose output names the tools it loaded. `item_reference`s must be resolved first.
 */
export function toModelInput(items: InputItem[], name: FunctionNamer, searchFn = SEARCH_FUNCTION): ModelInputItem[] {
  const out: ModelInputItem[] = [];
  const decided = new Set<string>();
  for (const it of items) {
    if (it.type === 'mcp_call' && it.approval_request_id) decided.add(it.approval_request_id);
    if (it.type === 'mcp_approval_response') decided.add(it.approval_request_id);
  }
  const requests = new Map(items.filter((i): i is McpApprovalRequestItem => i.type === 'mcp_approval_request').map((r) => [r.id, r]));
  const call = (callId: string, label: string, tool: string, args: string, output: string) =>
    out.push(...callWithOutput(callId, name(label, tool), args, output));
  // A search's output names its call; an item replayed without one belongs to the search before it.
  let searchCallId = '';
  for (const it of items) {
    switch (it.type) {
      case 'tool_search_call':
        searchCallId = it.call_id ?? it.id ?? searchCallId;
        out.push({
          type: 'function_call',
          call_id: searchCallId,
          name: searchFn,
          arguments: typeof it.arguments === 'string' ? it.arguments : JSON.stringify(it.arguments ?? {}),
        });
        break;
      case 'tool_search_output':
        out.push({ type: 'function_call_output', call_id: it.call_id ?? searchCallId, output: searchOutputText(it, name) });
        break;
      case 'mcp_call': {
        const error = it.error ? (typeof it.error === 'string' ? it.error : 'message' in it.error ? it.error.message : JSON.stringify(it.error)) : null;
        const output = error ? `Error: ${it.output ?? error}` : (it.output ?? '');
        call(it.approval_request_id ?? it.id, it.server_label, it.name, it.arguments, output);
        break;
      }
      case 'mcp_approval_request':
        if (!decided.has(it.id)) call(it.id, it.server_label, it.name, it.arguments, deniedOutput('no answer was given'));
        break;
      case 'mcp_approval_response': {
        const req = requests.get(it.approval_request_id);
        if (req && !it.approve) call(req.id, req.server_label, req.name, req.arguments, deniedOutput(it.reason));
        break;
      }
      case 'mcp_list_tools':
      case 'item_reference':
        break;
      default:
        // messages, function and client tool calls and outputs, reasoning, hosted tools' items: each
        // provider's converter maps them or leaves them out
        out.push(it);
    }
  }
  return out;
}
