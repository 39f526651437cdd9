/**
 * Unions that name the field at fault. A plain `z.union` whose options all fail answers "Invalid input"
 * at the union itself; these pick the one schema that applies from the value's shape first, so a bad
 * value gets the issues of that schema, with their full paths.
 */
import { z } from 'zod';

/** Parses with the schema `select` picks for the value. */
export function dispatch<T>(select: (v: unknown) => z.ZodType): z.ZodType<T> {
  return z.unknown().transform((v, ctx) => {
    const r = select(v).safeParse(v, { reportInput: true });
    if (r.success) return r.data as T;
    for (const issue of r.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

/**
 * A union keyed by `type` that also accepts any `type` it does not list: items and tools OpenAI adds
 * later must not turn clients away, while a malformed item of a listed type is still a 400 naming its field.
 */
export function openUnion<K extends z.ZodDiscriminatedUnion, O extends z.ZodType>(known: K, other: O): z.ZodType<z.output<K> | z.output<O>> {
  const listed = new Set<unknown>();
  for (const o of known.options) for (const v of (o as z.ZodObject)._zod.propValues?.type ?? []) listed.add(v);
  return dispatch((v) => {
    const type = v !== null && typeof v === 'object' ? (v as { type?: unknown }).type : undefined;
    return typeof type === 'string' && !listed.has(type) ? other : known;
  });
}
