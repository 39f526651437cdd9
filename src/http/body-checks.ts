/**
 * What a parsed JSON body must satisfy before any route sees it, whichever reader parsed it: no key that
 * pollutes a prototype when the value is merged into another object (`__proto__`, or a `constructor`
 * holding a `prototype`, as secure-json-parse refuses), and bounded nesting: recursive code past the
 * parser (validation, JSON.stringify on the way to a provider) overflows the stack near 4,000 levels.
 */
import { forbiddenKey, nestingTooDeep } from '../protocol/errors.ts';

export const MAX_NESTING = 256;

export function checkParsedBody(body: unknown): void {
  if (isObject(body)) check(body, 1);
}

/** Recursive, but never deeper than MAX_NESTING. */
function check(node: object, depth: number): void {
  if (depth > MAX_NESTING) throw nestingTooDeep(MAX_NESTING);
  if (!Array.isArray(node)) {
    if (Object.hasOwn(node, '__proto__')) throw forbiddenKey('__proto__');
    const ctor = Object.hasOwn(node, 'constructor') ? (node as { constructor: unknown }).constructor : undefined;
    if (isObject(ctor) && Object.hasOwn(ctor, 'prototype')) throw forbiddenKey('constructor.prototype');
  }
  for (const value of Array.isArray(node) ? node : Object.values(node)) if (isObject(value)) check(value, depth + 1);
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}
