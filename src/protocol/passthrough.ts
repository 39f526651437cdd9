/**
 * Top-level request fields the gateway does not know. They are never an error (real clients send more
 * than the published types): they reach an upstream that speaks the client's own API as they were sent,
 * and are dropped, and reported, for every other upstream.
 */

/** The wire API an upstream speaks. */
/** Every wire API a provider speaks. */
export type ProviderApi = 'openai-responses' | 'openai-chat' | 'anthropic' | 'gemini' | 'bedrock-converse';

export interface Passthrough {
  /** The API of the request that carried them: only an upstream of that API receives them. */
  api: ProviderApi;
  fields: Record<string, unknown>;
}

/**
 * A parsed loose object as its known fields, plus `passthrough` holding the others (absent when there are
 * none). `T` is the type of the known fields.
 */
export function splitUnknown<T extends object>(data: Record<string, unknown>, known: ReadonlySet<string>, api: ProviderApi): T & { passthrough?: Passthrough } {
  let fields: Record<string, unknown> | undefined;
  for (const k in data) {
    if (known.has(k)) continue;
    fields ??= {};
    fields[k] = data[k];
  }
  if (!fields) return data as T;
  const out: Record<string, unknown> = {};
  for (const k in data) if (known.has(k)) out[k] = data[k];
  out.passthrough = { api, fields } satisfies Passthrough;
  return out as T & { passthrough: Passthrough };
}
