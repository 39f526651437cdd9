/**
 * What a virtual key costs a request: the same non-streamed /v1/responses call through one gateway, made
 * with the master key ("direct" in the table) and with a virtual key in a team, both with rpm, tpm and a
 * budget on a priced model, limited through Redis (one EVALSHA on the request path; tokens and spend
 * recorded after it). The added p50 is the key lookup, the limits and the metering together.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LONG_MODEL, longAnswerTarget } from './cells-http.ts';
import { loadHttp } from './http-load.ts';
import type { Timing, Watched } from './measure.ts';
import type { PairedCell } from './pairs.ts';
import { startGateway, type Service } from './processes.ts';

export const KEYS_CELL = 'keys.responses.nonstream.c1';
const MASTER = 'sk-bench-master';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A gateway with a master key, Redis and a priced model; a team and a key in it, limited but never refused. */
export async function startKeysGateway(mockUrl: string): Promise<{ gateway: Service; virtualKey: string; stop(): Promise<void> }> {
  const prefix = `toolgate-bench-${randomBytes(6).toString('hex')}:`;
  const gateway = await startGateway(
    [
      'general_settings:',
      `  master_key: ${MASTER}`,
      `  redis_url: ${REDIS_URL}`,
      `  redis_prefix: "${prefix}"`,
      'model_list:',
      `  - {model_name: "r/*", litellm_params: {model: "openai/*", api_base: "${mockUrl}/v1", api_key: sk-bench, api_mode: responses, input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001}}`,
      '',
    ].join('\n'),
  );
  const admin = async (path: string, body: object) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const limits = { rpm_limit: 1_000_000_000, tpm_limit: 1_000_000_000_000, max_budget: 1_000_000_000, budget_duration: '30d' };
  const team = await admin('/team/new', { team_alias: 'bench', ...limits });
  const key = await admin('/key/generate', { key_alias: 'bench', team_id: team.team_id!, models: ['r/*'], ...limits });
  return {
    gateway,
    virtualKey: key.key!,
    stop: async () => {
      await gateway.stop();
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

export function keysCell(gatewayUrl: string, virtualKey: string, timing: Timing, watched: Watched[]): PairedCell {
  const target = (key: string) => ({ ...longAnswerTarget('responses', false, gatewayUrl, `r/${LONG_MODEL}`), headers: { authorization: `Bearer ${key}` } });
  return {
    id: KEYS_CELL,
    label: 'responses, non-stream: virtual key (direct: master key)',
    connections: 1,
    measureDirect: () => loadHttp(target(MASTER), 1, timing, watched),
    measureGateway: () => loadHttp(target(virtualKey), 1, timing, watched),
  };
}
