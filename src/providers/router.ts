/**
 * Routes a requested model name to a group of deployments, balances load across the group and fails
 * over to the next deployment on rate limits, server errors and timeouts. Past the group, LiteLLM's
 * router settings apply (LiteLLM docs, "Fallbacks" and "Router settings"): `fallbacks`,
 * `context_window_fallbacks`, `content_policy_fallbacks` and `default_fallbacks` name other groups to
 * try (fallbacks.ts), `allowed_fails` and `cooldown_time` leave a failing deployment out for a while
 * (cooldown.ts), and `model_group_alias` gives a group other names.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { ModelEvent, ModelOutput } from '../protocol/events.ts';
import type { ModelRequest } from '../protocol/model-request.ts';
import { Cooldowns } from './cooldown.ts';
import { globToRegExp } from '../protocol/glob.ts';
import type { Deployment } from './deployments.ts';
import { classifyFailure, FallbackTable, type FallbackReason } from './fallbacks.ts';
import { ProviderError } from '../protocol/errors.ts';
import type { ModelStream } from './types.ts';

export interface Route {
  /** The name the client asked for. */
  readonly requested: string;
  /** The model_name of the group it resolved to (an alias's target, a wildcard's pattern). */
  readonly group: string;
  readonly candidates: readonly { deployment: Deployment; upstreamModel: string }[];
}

/** A model call's result and the model that produced it: the requested name, or the fallback that answered. */
export interface Answered<T> {
  answer: T;
  model: string;
  /** The deployment that answered (its prices price the call). */
  deployment: Deployment;
}

export interface CallOpts {
  signal: AbortSignal;
  log: Logger;
  /** Deployments a fallback group may use (embeddings and images need a provider that offers them). */
  usable?: (d: Deployment) => boolean;
}

export interface ModelInfo {
  id: string;
  owned_by: string;
}

export interface RouterOptions {
  fallbacks?: FallbackTable;
  /** LiteLLM's `allowed_fails` (default 3) and `cooldown_time` in seconds (default 5). */
  allowedFails?: number;
  cooldownSeconds?: number;
  /** `model_group_alias`: another name for a group, listed by /v1/models unless hidden. */
  aliases?: Record<string, string | { model: string; hidden?: boolean }>;
  now?: () => number;
}

/** The router's settings from the config: router_settings first, litellm_settings where it sets none. */
export function routerOptions(config: Pick<Config, 'router_settings' | 'litellm_settings'>): RouterOptions {
  const r = config.router_settings;
  return {
    fallbacks: FallbackTable.fromConfig(config),
    allowedFails: r.allowed_fails,
    cooldownSeconds: r.cooldown_time,
    aliases: r.model_group_alias,
  };
}

const MODEL_LIST_TTL_MS = 10 * 60_000;
const MAX_RETRY_AFTER_MS = 10_000;

function literalLength(pattern: string): number {
  return pattern.replaceAll('*', '').length;
}

function asProviderError(e: unknown): ProviderError {
  return e instanceof ProviderError ? e : new ProviderError((e as Error).message, { kind: 'connection' });
}

/** What a group whose deployments are all cooling down answers (LiteLLM: "No deployments available"). */
class NoDeploymentsAvailable extends ProviderError {}

export class Router {
  private readonly deployments: Deployment[];
  private readonly exact = new Map<string, Deployment[]>();
  /** Wildcard groups, most specific first. */
  private readonly wildcards: { name: string; pattern: RegExp; group: Deployment[] }[] = [];
  private readonly aliases = new Map<string, { model: string; hidden: boolean }>();
  private readonly fallbacks: FallbackTable;
  private readonly cooldowns: Cooldowns;
  private rotation = 0;
  private readonly listCache = new Map<Deployment, { at: number; ids: Promise<string[]> }>();

  /** Throws a ConfigError when an alias or a fallback names no model of the config. */
  constructor(deployments: Deployment[], opts: RouterOptions = {}) {
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
    this.fallbacks = opts.fallbacks ?? FallbackTable.empty();
    this.cooldowns = new Cooldowns({
      allowedFails: opts.allowedFails ?? 3,
      cooldownMs: (opts.cooldownSeconds ?? 5) * 1000,
      now: opts.now ?? Date.now,
    });
    const unknown: string[] = [];
    for (const [alias, target] of Object.entries(opts.aliases ?? {})) {
      const model = typeof target === 'string' ? target : target.model;
      if (!this.resolveGroup(model)) unknown.push(`router_settings.model_group_alias.${alias}: '${model}' is not a model_name of this config`);
      this.aliases.set(alias, { model, hidden: typeof target === 'object' && target.hidden === true });
    }
    for (const { name, path } of this.fallbacks.references())
      if (!this.resolve(name)) unknown.push(`${path}: '${name}' is not a model_name or model_group_alias of this config`);
    if (unknown.length) throw new ConfigError(`invalid config:\n  ${unknown.join('\n  ')}`);
  }

  get modelNames(): string[] {
    return [...new Set(this.deployments.map((d) => d.modelName))];
  }

  /** The group a name routes to: an alias's group, a model_name, or the most specific wildcard that matches. */
  resolve(model: string): Route | null {
    const alias = this.aliases.get(model);
    if (!alias) return this.resolveGroup(model);
    const route = this.resolveGroup(alias.model);
    return route && { ...route, requested: model };
  }

  private resolveGroup(model: string): Route | null {
    const group = this.exact.get(model);
    if (group) return { requested: model, group: model, candidates: group.map((d) => ({ deployment: d, upstreamModel: d.upstreamModel })) };
    for (const w of this.wildcards) {
      const m = w.pattern.exec(model);
      if (!m) continue;
      const star = m.slice(1).join('');
      return {
        requested: model,
        group: w.name,
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
   * Runs `attempt` on the route's group (with retries and failover), and when the group fails, on its
   * fallbacks in order, each a group of its own. Fallbacks of fallbacks are not followed. When every
   * fallback fails too, the error is the requested model's, as LiteLLM answers.
   */
  async withFailover<T>(route: Route, opts: CallOpts, attempt: (deployment: Deployment, upstreamModel: string) => Promise<T>): Promise<Answered<T>> {
    let failure: ProviderError;
    try {
      return { ...(await this.withRetries(route, opts, attempt)), model: route.requested };
    } catch (e) {
      failure = asProviderError(e);
    }
    const reason = this.reasonOf(failure);
    if (!reason) throw failure;
    for (const name of this.fallbacks.for(reason, [route.requested, route.group])) {
      if (name === route.requested) continue;
      const fallback = this.resolve(name);
      const candidates = fallback?.candidates.filter((c) => opts.usable?.(c.deployment) ?? true);
      if (!candidates?.length) continue;
      opts.log.warn({ model: route.requested, fallback: name, reason }, 'model group failed; trying its fallback');
      try {
        return { ...(await this.withRetries({ ...fallback!, candidates }, opts, attempt)), model: name };
      } catch (e) {
        if (opts.signal.aborted) throw asProviderError(e);
        opts.log.debug({ model: route.requested, fallback: name, err: (e as Error).message }, 'fallback failed');
      }
    }
    throw failure;
  }

  /** Why a group's failure calls for its fallbacks, if it does (rejected requests and cancellations do not). */
  private reasonOf(e: ProviderError): FallbackReason | null {
    if (e instanceof NoDeploymentsAvailable) return 'cooldown';
    const c = classifyFailure(e);
    return c === 'retryable' ? 'error' : c === 'final' ? null : c;
  }

  /**
   * One group: one attempt per deployment that is not cooling down, and at least 1 + max_retries;
   * failing over to another deployment is immediate, retrying the same one backs off.
   */
  private async withRetries<T>(
    route: Route,
    opts: CallOpts,
    attempt: (deployment: Deployment, upstreamModel: string) => Promise<T>,
  ): Promise<{ answer: T; deployment: Deployment }> {
    const cooling = (c: Route['candidates'][number]) => this.cooldowns.isCooling(c.deployment);
    const order = this.order(route).filter((c) => !cooling(c));
    if (!order.length) throw this.noDeploymentsAvailable(route);
    // LiteLLM leaves a group's only deployment in: cooling it down would only turn its errors into "no deployments".
    const counted = route.candidates.length > 1;
    const attempts = Math.max(order.length, 1 + order[0]!.deployment.maxRetries);
    const tried = new Set<Deployment>();
    let rounds = 0;
    let last: ProviderError | undefined;
    for (let i = 0; i < attempts; i++) {
      const live = i === 0 ? order : order.filter((c) => !cooling(c));
      if (!live.length) break;
      let next = live.find((c) => !tried.has(c.deployment));
      if (!next) {
        // Every live deployment was tried: another round, after a backoff.
        rounds++;
        tried.clear();
        next = live[0]!;
        const wait = last?.retryAfterMs ?? Math.min(2000, 100 * 2 ** (rounds - 1)) * (0.5 + Math.random() / 2);
        if (wait > MAX_RETRY_AFTER_MS) break;
        await sleep(wait, undefined, { signal: opts.signal }).catch(() => {});
      }
      tried.add(next.deployment);
      const { deployment, upstreamModel } = next;
      if (opts.signal.aborted) throw new ProviderError('request aborted', { kind: 'aborted' });
      try {
        const answer = await attempt(deployment, upstreamModel);
        this.cooldowns.succeeded(deployment);
        return { answer, deployment };
      } catch (e) {
        last = asProviderError(e);
        if (!last.retryable) throw last;
        if (counted && this.cooldowns.failed(deployment))
          opts.log.warn({ deployment: deployment.id, cooldown_ms: this.cooldowns.remainingMs([deployment]) }, 'deployment failed too often; cooling down');
        opts.log.warn(
          { deployment: deployment.id, attempt: i + 1, of: attempts, status: last.status, kind: last.kind, err: last.message },
          'model call failed; retrying',
        );
      }
    }
    throw last!;
  }

  private noDeploymentsAvailable(route: Route): ProviderError {
    const ms = this.cooldowns.remainingMs(route.candidates.map((c) => c.deployment));
    return new NoDeploymentsAvailable(
      `No deployments available for model '${route.requested}': all ${route.candidates.length} of its deployments are cooling down after repeated failures. Try again in ${Math.ceil(ms / 1000)} seconds.`,
      { kind: 'http', status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', retryAfterMs: ms },
    );
  }

  /** Opens a model stream (with retries, failover and fallbacks until an upstream accepts it). */
  stream(route: Route, req: Omit<ModelRequest, 'model'>, opts: CallOpts): Promise<Answered<ModelStream>> {
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

  /** A model call without streaming (with retries, failover and fallbacks). */
  complete(route: Route, req: Omit<ModelRequest, 'model'>, opts: CallOpts): Promise<Answered<ModelOutput>> {
    return this.withFailover(route, opts, async (deployment, upstreamModel) => {
      deployment.inflight++;
      try {
        return await deployment.provider.complete({ ...req, model: upstreamModel }, opts);
      } finally {
        deployment.inflight--;
      }
    });
  }

  /** Configured names and visible aliases, plus what each wildcard deployment's upstream lists (fetched lazily, cached). */
  async listModels(log: Logger): Promise<ModelInfo[]> {
    const out = new Map<string, ModelInfo>();
    for (const [name, group] of this.exact) out.set(name, { id: name, owned_by: group[0]!.provider.owner });
    for (const [alias, { model, hidden }] of this.aliases)
      if (!hidden && !out.has(alias)) out.set(alias, { id: alias, owned_by: this.resolveGroup(model)!.candidates[0]!.deployment.provider.owner });
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
