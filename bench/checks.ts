/**
 * Checks that an answer is the mock's whole long answer in the wire format asked for. They throw with
 * a reason; streams are checked by their terminal event and their count of text deltas, which costs
 * this process far less than parsing every frame.
 */
import { LONG_CHUNKS, LONG_TEXT } from '../fixtures/mock-provider.ts';

export type BodyCheck = (body: string) => void;

function expect(condition: boolean, reason: () => string): void {
  if (!condition) throw new Error(reason());
}

function occurrences(text: string, needle: string | RegExp): number {
  if (needle instanceof RegExp) return text.match(needle)?.length ?? 0;
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

const tail = (body: string) => JSON.stringify(body.slice(-160));

/** The text of a Responses object's message output. */
function responseText(response: any): string {
  return (response?.output ?? [])
    .filter((item: any) => item.type === 'message')
    .flatMap((item: any) => item.content ?? [])
    .map((part: any) => part.text ?? '')
    .join('');
}

function checkText(text: unknown): void {
  expect(text === LONG_TEXT, () => `answer text differs: ${String(text).length} characters, expected ${LONG_TEXT.length}`);
}

export const checkChatJson: BodyCheck = (body) => {
  const choice = JSON.parse(body).choices?.[0];
  expect(choice?.finish_reason === 'stop', () => `finish_reason ${choice?.finish_reason}: ${tail(body)}`);
  checkText(choice.message?.content);
};

export const checkResponsesJson: BodyCheck = (body) => {
  const response = JSON.parse(body);
  expect(response.status === 'completed', () => `status ${response.status}: ${tail(body)}`);
  checkText(responseText(response));
};

/** A non-empty text delta in a Chat stream; the first may share its chunk with the role, or the role may come alone with "". */
export const CHAT_DELTA = /"content":"[^"]/g;
export const RESPONSES_DELTA = 'event: response.output_text.delta\n';

export const checkChatStream: BodyCheck = (body) => {
  expect(body.trimEnd().endsWith('data: [DONE]'), () => `stream ended without [DONE]: ${tail(body)}`);
  expect(body.includes('"finish_reason":"stop"'), () => `no finish_reason stop: ${tail(body)}`);
  const deltas = occurrences(body, CHAT_DELTA);
  expect(deltas === LONG_CHUNKS.length, () => `${deltas} text deltas, expected ${LONG_CHUNKS.length}`);
};

export const checkResponsesStream: BodyCheck = (body) => {
  const lastEvent = body.lastIndexOf('event: ');
  const [eventLine, dataLine] = body.slice(lastEvent).split('\n');
  expect(eventLine === 'event: response.completed', () => `stream did not end with response.completed: ${tail(body)}`);
  checkText(responseText(JSON.parse(dataLine!.slice('data: '.length)).response));
  const deltas = occurrences(body, RESPONSES_DELTA);
  expect(deltas === LONG_CHUNKS.length, () => `${deltas} text deltas, expected ${LONG_CHUNKS.length}`);
};

/** Whether a piece of a Chat or Responses stream holds a text delta: the answer is under way. */
export function holdsTextDelta(piece: string): boolean {
  return piece.includes(RESPONSES_DELTA) || /"content":"[^"]/.test(piece);
}
