/**
 * The long answer (924 characters in 231 chunks) through /v1/chat/completions and /v1/responses,
 * non-stream and streamed, at 1 and 32 connections, directly at the mock and through the gateway.
 */
import { checkChatJson, checkChatStream, checkResponsesJson, checkResponsesStream, type BodyCheck } from './checks.ts';
import { loadHttp, type HttpTarget } from './http-load.ts';
import type { Timing, Watched } from './measure.ts';
import type { PairedCell } from './pairs.ts';

export type Api = 'chat' | 'responses';

export const CONNECTION_LEVELS = [1, 32] as const;

/** The mock's model for the long answer, and the gateway's prefixes routing to it as Chat and as Responses. */
export const LONG_MODEL = 'long';
export const GATEWAY_PREFIX: Record<Api, string> = { chat: 'c/', responses: 'r/' };

const PATH: Record<Api, string> = { chat: '/v1/chat/completions', responses: '/v1/responses' };
const PROMPT = 'Tell me something long.';

export function requestBody(api: Api, model: string, stream: boolean): object {
  const streaming = stream ? { stream: true } : {};
  return api === 'chat' ? { model, messages: [{ role: 'user', content: PROMPT }], ...streaming } : { model, input: PROMPT, ...streaming };
}

export function answerCheck(api: Api, stream: boolean): BodyCheck {
  if (api === 'chat') return stream ? checkChatStream : checkChatJson;
  return stream ? checkResponsesStream : checkResponsesJson;
}

/** The request for the long answer, to `baseUrl` (the mock's or the gateway's) as `model`. */
export function longAnswerTarget(api: Api, stream: boolean, baseUrl: string, model: string): HttpTarget {
  return { url: `${baseUrl}${PATH[api]}`, body: requestBody(api, model, stream), check: answerCheck(api, stream) };
}

export interface Endpoints {
  mockUrl: string;
  gatewayUrl: string;
}

export function longAnswerCellId(api: Api, stream: boolean, connections: number): string {
  return `http.${api}.${stream ? 'stream' : 'nonstream'}.c${connections}`;
}

export function longAnswerCells(endpoints: Endpoints, timing: Timing, watched: Watched[]): PairedCell[] {
  const cells: PairedCell[] = [];
  for (const api of ['chat', 'responses'] as const)
    for (const stream of [false, true])
      for (const connections of CONNECTION_LEVELS) {
        const direct = longAnswerTarget(api, stream, endpoints.mockUrl, LONG_MODEL);
        const viaGateway = longAnswerTarget(api, stream, endpoints.gatewayUrl, `${GATEWAY_PREFIX[api]}${LONG_MODEL}`);
        cells.push({
          id: longAnswerCellId(api, stream, connections),
          label: `${api}, ${stream ? 'stream' : 'non-stream'}`,
          connections,
          measureDirect: () => loadHttp(direct, connections, timing, watched),
          measureGateway: () => loadHttp(viaGateway, connections, timing, watched),
        });
      }
  return cells;
}
