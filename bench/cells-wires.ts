/**
 * One row per provider wire format beyond OpenAI's: the long answer streamed at one connection, asked
 * of the mock directly in the provider's own wire (Gemini's SSE, Bedrock's binary event stream) and of
 * the gateway as a streamed /v1/responses call it converts to that wire and back. The added latency is
 * the gateway's conversion (and, for Bedrock, its SigV4 signature) on top of the relay.
 */
import { LONG_CHUNKS } from '../fixtures/mock-provider.ts';
import { checkResponsesStream, type BodyCheck } from './checks.ts';
import { longAnswerTarget, LONG_MODEL, type Endpoints } from './cells-http.ts';
import { loadHttp, type HttpTarget } from './http-load.ts';
import type { Timing, Watched } from './measure.ts';
import type { PairedCell } from './pairs.ts';

export type Wire = 'gemini' | 'bedrock';

const PROMPT = 'Tell me something long.';

function expectDeltas(wire: Wire, count: number, done: boolean): void {
  if (!done) throw new Error(`${wire}: the stream did not finish`);
  if (count !== LONG_CHUNKS.length) throw new Error(`${wire}: ${count} text deltas, expected ${LONG_CHUNKS.length}`);
}

/** Gemini's stream: one `data:` chunk a text piece, the last with finishReason STOP. */
const checkGeminiStream: BodyCheck = (body) => expectDeltas('gemini', (body.match(/"text":"/g) ?? []).length, body.includes('"finishReason":"STOP"'));

/** Bedrock's stream, read as text: its headers name each event type in ASCII. */
const checkBedrockStream: BodyCheck = (body) =>
  expectDeltas('bedrock', (body.match(/contentBlockDelta/g) ?? []).length, body.includes('messageStop') && body.includes('metadata'));

function directTarget(wire: Wire, mockUrl: string): HttpTarget {
  if (wire === 'gemini')
    return {
      url: `${mockUrl}/v1beta/models/${LONG_MODEL}:streamGenerateContent?alt=sse`,
      body: { contents: [{ role: 'user', parts: [{ text: PROMPT }] }] },
      headers: { 'x-goog-api-key': 'bench-gemini' },
      check: checkGeminiStream,
    };
  return {
    url: `${mockUrl}/model/${LONG_MODEL}/converse-stream`,
    body: { messages: [{ role: 'user', content: [{ text: PROMPT }] }] },
    // A Bedrock API key: the direct path is not charged a signature.
    headers: { authorization: 'Bearer bench-bedrock' },
    check: checkBedrockStream,
  };
}

export const WIRE_PREFIX: Record<Wire, string> = { gemini: 'gem/', bedrock: 'bed/' };

export function wireCells(endpoints: Endpoints, timing: Timing, watched: Watched[]): PairedCell[] {
  return (['gemini', 'bedrock'] as const).map((wire) => {
    const direct = directTarget(wire, endpoints.mockUrl);
    const viaGateway = { ...longAnswerTarget('responses', true, endpoints.gatewayUrl, `${WIRE_PREFIX[wire]}${LONG_MODEL}`), check: checkResponsesStream };
    return {
      id: `wire.${wire}.stream.c1`,
      label: `${wire}, stream`,
      connections: 1,
      measureDirect: () => loadHttp(direct, 1, timing, watched),
      measureGateway: () => loadHttp(viaGateway, 1, timing, watched),
    };
  });
}
