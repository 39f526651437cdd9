/** Turns the official SDKs' errors into `ProviderError`s. */
import * as Anthropic from '@anthropic-ai/sdk';
import * as OpenAI from 'openai';
import { ProviderError } from './types.ts';

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const s = headers?.get('retry-after');
  if (s && Number.isFinite(Number(s))) return Number(s) * 1000;
  return undefined;
}

interface SdkErrorClasses {
  APIError: typeof OpenAI.APIError | typeof Anthropic.APIError;
  APIUserAbortError: typeof OpenAI.APIUserAbortError | typeof Anthropic.APIUserAbortError;
  APIConnectionTimeoutError: typeof OpenAI.APIConnectionTimeoutError | typeof Anthropic.APIConnectionTimeoutError;
  APIConnectionError: typeof OpenAI.APIConnectionError | typeof Anthropic.APIConnectionError;
}

function normalize(e: unknown, sdk: SdkErrorClasses, body: (err: { error: unknown }) => { message?: string; type?: string; code?: string; param?: string }): ProviderError {
  if (e instanceof ProviderError) return e;
  if (e instanceof sdk.APIUserAbortError) return new ProviderError('request aborted', { kind: 'aborted' });
  if (e instanceof sdk.APIConnectionTimeoutError) return new ProviderError('the upstream did not answer in time', { kind: 'timeout' });
  if (e instanceof sdk.APIConnectionError) return new ProviderError(`cannot reach the upstream: ${(e.cause as Error | undefined)?.message ?? e.message}`, { kind: 'connection' });
  if (e instanceof sdk.APIError && e.status !== undefined) {
    const b = body(e);
    return new ProviderError(b.message ?? e.message, {
      kind: 'http',
      status: e.status,
      type: b.type,
      code: b.code,
      param: b.param,
      retryAfterMs: retryAfterMs(e.headers as Headers | undefined),
    });
  }
  if ((e as Error)?.name === 'AbortError') return new ProviderError('request aborted', { kind: 'aborted' });
  return new ProviderError((e as Error)?.message ?? String(e), { kind: 'connection' });
}

export function fromOpenAIError(e: unknown): ProviderError {
  return normalize(e, OpenAI, (err) => {
    const b = (err.error ?? {}) as { message?: string; type?: string; code?: string | null; param?: string | null };
    return { message: b.message, type: b.type, code: b.code ?? undefined, param: b.param ?? undefined };
  });
}

export function fromAnthropicError(e: unknown): ProviderError {
  return normalize(e, Anthropic, (err) => {
    const b = ((err.error as { error?: unknown } | undefined)?.error ?? {}) as { message?: string; type?: string };
    return { message: b.message, type: b.type, code: b.type };
  });
}
