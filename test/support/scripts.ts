/** Scripts for the mock model that the MCP tests share. */
import type { MockRequest, MockTurn } from '../../fixtures/mock-provider.ts';

/** Calls the tools on the first model call, then answers with what came back. */
export function callThenAnswer(calls: MockTurn['toolCalls'], answer = (outs: string[]) => `Result: ${outs.join(' | ')}`) {
  return (req: MockRequest): MockTurn => (req.toolOutputs.length ? { text: answer(req.toolOutputs) } : { toolCalls: calls });
}
