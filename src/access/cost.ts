/**
 * What a model call cost, from its usage and the deployment's prices (LiteLLM's keys, dollars per
 * token). Cached input tokens are priced at `cache_read_input_token_cost` where the entry names one, else
 * as input. A deployment without prices costs nothing: spend counts only what the config prices.
 */
import type { Usage } from '../protocol/responses.ts';

export interface Prices {
  input_cost_per_token?: number | undefined;
  output_cost_per_token?: number | undefined;
  cache_read_input_token_cost?: number | undefined;
}

export function costOf(usage: Pick<Usage, 'input_tokens' | 'output_tokens'> & Partial<Pick<Usage, 'input_tokens_details'>>, prices: Prices): number {
  const input = prices.input_cost_per_token ?? 0;
  const cached = Math.min(usage.input_tokens_details?.cached_tokens ?? 0, usage.input_tokens);
  return (
    (usage.input_tokens - cached) * input + cached * (prices.cache_read_input_token_cost ?? input) + usage.output_tokens * (prices.output_cost_per_token ?? 0)
  );
}
