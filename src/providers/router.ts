/**
 * Routes a requested model name to a group of deployments, balances load across the group and fails
 * over to the next deployment on rate limits, server errors and timeouts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ModelEvent, ModelOutput } from '../protocol/events.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { globToRegExp, type Deployment } from './deployments.ts';
import { ProviderError } from '../protocol/errors.ts';
import type { ModelStream } from './types.ts';

export interface Route {
  readonly requested: string;
  readonly candidates: readonly { deployment: Deployment; upstreamModel: string }[];
}

export interface ModelInfo {
  id: string;
  owned_by: string;
}

const MODEL_LIST_TTL_MS = 10 * 60_000;
const MAX_RETRY_AFTER_MS = 10_000;

function literalLength(pattern: string): number {
  return pattern.replaceAll('*', '').length;
}

export class Router {
  private readonly deployments: Deployment[];
  private readonly exact = new Map<string, Deployment[]>();
  /** Wildcard groups, most specific first. */
  private readonly wildcards: { name: string; pattern: RegExp; group: Deployment[] }[] = [];
  private rotation = 0;
  private readonly listCache = new Map<Deployment, { at: number; ids: Promise<string[]> }>();

  constructor(deployments: Deployment[]) {
    this.deployments = deployments;
    for (const d of deployments) {
      if (d.pattern) {
        let w = this.wildcards.find((x) => x.name === d.modelName);
        if (!w) {
          w = { name: d.modelName, pattern: d.pattern, group: [] };
          this.wildcards.push(w);
        }
        w.group.push(d);
      } else {
        const g = this.exact.get(d.modelName) ?? [];
        g.push(d);
        this.exact.set(d.modelName, g);
      }
    }
    this.wildcards.sort((a, b) => literalLength(b.name) - literalLength(a.name));
  }

  get modelNames(): string[] {
    return [...new Set(this.deployments.map((d) => d.modelName))];
  }

  resolve(model: string): Route | null {
    const group = this.exact.get(model);
    if (group) return { requested: model, candidates: group.map((d) => ({ deployment: d, upstreamModel: d.upstreamModel })) };
    for (const w of this.wildcards) {
      const m = w.pattern.exec(model);
      if (!m) continue;
      const star = m.slice(1).join('');
      return {
        requested: model,
        candidates: w.group.map((d) => ({
          deployment: d,
          upstreamModel: d.upstreamModel.includes('*') ? d.upstreamModel.replace('*', star) : d.upstreamModel,
        })),
      };
    }
    return null;
  }

  /** Least busy first; ties rotate, so an idle group is served round-robin. */
  private order(route: Route): Route['candidates'] {
    const c = route.candidates;
    if (c.length === 1) return c;
    const start = this.rotation++ % c.length;
    const rotated = [...c.slice(start), ...c.slice(0, start)];
    return rotated.sort((a, b) => a.deployment.inflight - b.deployment.inflight);
  }

  /**
   * Runs `attempt` with retries and failover. Attempts: one per deployment in the group, and at least
   * 1 + max_retries; failing over to another deployment is immediate, retrying the same one backs off.
   */
  async withFailover<T>(
    route: Route,
    opts: { signal: AbortSignal; log: Logger },
    attempt: (deployment: Deployment, upstreamModel: string) => Promise<T>,
  ): Promise<T> {
    const order = this.order(route);
    const attempts = Math.max(order.length, 1 + order[0]!.deployment.maxRetries);
    let last: ProviderError | undefined;
    for (let i = 0; i < attempts; i++) {
      const { deployment, upstreamModel } = order[i % order.length]!;
      if (i > 0 && i % order.length === 0) {
        const wait = last?.retryAfterMs ?? Math.min(2000, 100 * 2 ** (i / order.length - 1)) * (0.5 + Math.random() / 2);
        if (wait > MAX_RETRY_AFTER_MS) break;
        await sleep(wait, undefined, { signal: opts.signal }).catch(() => {});
      }
      if (opts.signal.aborted) throw new ProviderError('request aborted', { kind: 'aborted' });
      try {
        return await attempt(deployment, upstreamModel);
      } catch (e) {
        last = e instanceof ProviderError ? e : new ProviderError((e as Error).message, { kind: 'connection' });
        if (!last.retryable) throw last;
        opts.log.warn(
          { deployment: deployment.id, attempt: i + 1, of: attempts, status: last.status, kind: last.kind, err: last.message },
          'model call failed; retrying',
        );
      }
    }
    throw last!;
  }

  /** Opens a model stream (with retries and failover until the upstream accepts it). */
  stream(route: Route, req: Omit<ModelRequest, 'model'>, opts: { signal: AbortSignal; log: Logger }): Promise<ModelStream> {
    return this.withFailover(route, opts, async (deployment, upstreamModel) => {
      deployment.inflight++;
      try {
        return trackInflight(await deployment.provider.stream({ ...req, model: upstreamModel }, opts), deployment);
      } catch (e) {
        deployment.inflight--;
        throw e;
      }
    });
  }

  /** A model call without streaming (with retries and failover). */
  complete(route: Route, req: Omit<ModelRequest, 'model'>, opts: { signal: AbortSignal; log: Logger }): Promise<ModelOutput> {
    return this.withFailover(route, opts, async (deployment, upstreamModel) => {
      deployment.inflight++;
      try {
        return await deployment.provider.complete({ ...req, model: upstreamModel }, opts);
      } finally {
        deployment.inflight--;
      }
    });
  }

  /** Configured names, plus what each wildcard deployment's upstream lists (fetched lazily, cached). */
  async listModels(log: Logger): Promise<ModelInfo[]> {
    const out = new Map<string, ModelInfo>();
    for (const [name, group] of this.exact) out.set(name, { id: name, owned_by: group[0]!.provider.owner });
    await Promise.all(
      this.wildcards.flatMap((w) =>
        w.group.map(async (d) => {
          let ids: string[];
          try {
            ids = await this.upstreamModels(d);
          } catch (e) {
            log.warn({ deployment: d.id, err: (e as Error).message }, 'cannot list upstream models');
            return;
          }
          const upstream = globToRegExp(d.upstreamModel);
          for (const id of ids) {
            const m = upstream.exec(id);
            if (!m) continue;
            const name = w.name.replace('*', m.slice(1).join(''));
            if (!out.has(name)) out.set(name, { id: name, owned_by: d.provider.owner });
          }
        }),
      ),
    );
    return [...out.values()];
  }

  private upstreamModels(d: Deployment): Promise<string[]> {
    const hit = this.listCache.get(d);
    if (hit && Date.now() - hit.at < MODEL_LIST_TTL_MS) return hit.ids;
    const ids = d.provider.listModels(AbortSignal.timeout(10_000));
    this.listCache.set(d, { at: Date.now(), ids });
    ids.catch(() => this.listCache.delete(d));
    return ids;
  }
}

async function* trackInflight(stream: ModelStream, d: Deployment): AsyncGenerator<ModelEvent[]> {
  try {
    yield* stream;
  } finally {
    d.inflight--;
  }
}
