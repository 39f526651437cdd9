/**
 * Deployment cooldowns, as LiteLLM's router settings `allowed_fails` and `cooldown_time` describe them
 * (LiteLLM docs, "Fallbacks + Retries + Timeouts + Cooldowns"): a deployment that fails more than
 * `allowed_fails` times within a minute is left out of its group for `cooldown_time` seconds. Only
 * failures worth another try count (rate limits, 5xx, timeouts, unreachable upstreams); a success
 * clears the count. The state is this process's own.
 */
import type { Deployment } from './deployments.ts';

const WINDOW_MS = 60_000;

export interface CooldownSettings {
  /** Failures a deployment may have within a minute (LiteLLM's default: 3). */
  allowedFails: number;
  /** How long a deployment past them is left out (LiteLLM's default: 5 s). */
  cooldownMs: number;
  /** The clock (tests pass a fake one). */
  now: () => number;
}

export class Cooldowns {
  private readonly settings: CooldownSettings;
  /** When each deployment failed within the last minute, oldest first. */
  private readonly failures = new Map<Deployment, number[]>();
  /** Until when a deployment is left out. */
  private readonly until = new Map<Deployment, number>();

  constructor(settings: CooldownSettings) {
    this.settings = settings;
  }

  /** Counts a failure; true when it starts the deployment's cooldown. */
  failed(d: Deployment): boolean {
    const now = this.settings.now();
    const times = (this.failures.get(d) ?? []).filter((t) => now - t < WINDOW_MS);
    times.push(now);
    if (times.length <= this.settings.allowedFails) {
      this.failures.set(d, times);
      return false;
    }
    // The cooldown starts a fresh count: once it is over, the deployment has its allowance again.
    this.failures.delete(d);
    this.until.set(d, now + this.settings.cooldownMs);
    return true;
  }

  succeeded(d: Deployment): void {
    this.failures.delete(d);
  }

  isCooling(d: Deployment): boolean {
    const until = this.until.get(d);
    if (until === undefined) return false;
    if (this.settings.now() < until) return true;
    this.until.delete(d);
    return false;
  }

  /** Milliseconds until the first of these deployments is back. */
  remainingMs(ds: readonly Deployment[]): number {
    const now = this.settings.now();
    return Math.max(0, Math.min(...ds.map((d) => (this.until.get(d) ?? now) - now)));
  }
}
