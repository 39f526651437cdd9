/**
 * The replicas' invalidation bus: "drop this key from your cache", "this upstream's tools changed". Over
 * Redis pub/sub (Redis documentation, "Redis Pub/Sub": at-most-once delivery to the subscribers connected
 * at the time) on a connection of its own in subscriber mode, which ioredis reconnects and subscribes
 * again; since messages sent meanwhile are lost, `onResync` handlers run after every reconnection. Without
 * Redis, a loopback within the process. A handler's error (thrown or rejected) is logged, never passed on.
 */
import type { Redis } from 'ioredis';
import type { Bus, BusHandler, LimitsLog } from './types.ts';

/** Runs a handler, keeping its failure to itself. */
function contain(run: () => void | Promise<void>, log: LimitsLog, what: string): void {
  const failed = (err: unknown) => log.warn({ err: (err as Error)?.message ?? String(err) }, what);
  try {
    const r = run();
    if (r && typeof r.then === 'function') r.then(undefined, failed);
  } catch (err) {
    failed(err);
  }
}

/** Handlers by topic (or channel), and running them. */
class Subscribers {
  private readonly byTopic = new Map<string, Set<BusHandler>>();
  private readonly log: LimitsLog;

  constructor(log: LimitsLog) {
    this.log = log;
  }

  /** Adds the handler; true if it is the topic's first. */
  add(topic: string, handler: BusHandler): boolean {
    const set = this.byTopic.get(topic);
    if (set) {
      set.add(handler);
      return false;
    }
    this.byTopic.set(topic, new Set([handler]));
    return true;
  }

  /** Removes the handler; true if the topic has none left. */
  remove(topic: string, handler: BusHandler): boolean {
    const set = this.byTopic.get(topic);
    if (!set?.delete(handler) || set.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  deliver(topic: string, message: string): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    for (const handler of set) contain(() => handler(message), this.log, `bus handler for ${topic} failed`);
  }
}

/** One process, no Redis: a published message reaches this process's subscribers, on a later microtask. */
export class MemoryBus implements Bus {
  private readonly subscribers: Subscribers;

  constructor(log: LimitsLog) {
    this.subscribers = new Subscribers(log);
  }

  publish(topic: string, message: string): Promise<void> {
    queueMicrotask(() => this.subscribers.deliver(topic, message));
    return Promise.resolve();
  }

  subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.subscribers.add(topic, handler);
    return Promise.resolve(() => {
      this.subscribers.remove(topic, handler);
      return Promise.resolve();
    });
  }

  /** Never cut off. */
  onResync(): void {}
}

export interface RedisBusOptions {
  /** Before every channel: `<prefix>bus:<topic>`. */
  prefix: string;
  log: LimitsLog;
}

/**
 * Publishes on `publisher` (the limiter's connection: any command connection) and listens on `subscriber`,
 * which must serve only this bus (a connection in subscriber mode can send nothing else). The owner closes both.
 */
export class RedisBus implements Bus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channelPrefix: string;
  private readonly log: LimitsLog;
  private readonly subscribers: Subscribers;
  private readonly resync = new Set<() => void>();
  /** Each topic's SUBSCRIBE, so that a second handler also waits for Redis to confirm it. */
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private wasReady: boolean;

  constructor(publisher: Redis, subscriber: Redis, opts: RedisBusOptions) {
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.channelPrefix = `${opts.prefix}bus:`;
    this.log = opts.log;
    this.subscribers = new Subscribers(opts.log);
    this.wasReady = subscriber.status === 'ready';
    subscriber.on('message', (channel: string, message: string) => {
      if (channel.startsWith(this.channelPrefix)) this.subscribers.deliver(channel.slice(this.channelPrefix.length), message);
    });
    subscriber.on('ready', () => {
      if (this.wasReady) void this.resubscribed().then(() => this.runResync());
      this.wasReady = true;
    });
  }

  async publish(topic: string, message: string): Promise<void> {
    try {
      await this.publisher.publish(this.channelPrefix + topic, message);
    } catch (err) {
      this.log.warn({ err: (err as Error)?.message ?? String(err), topic }, 'bus message not sent: Redis failed');
    }
  }

  async subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.subscribers.add(topic, handler)) this.subscribed.set(topic, this.subscriber.subscribe(this.channelPrefix + topic));
    try {
      await this.subscribed.get(topic);
    } catch (err) {
      if (this.subscribers.remove(topic, handler)) this.subscribed.delete(topic);
      throw err;
    }
    return async () => {
      if (!this.subscribers.remove(topic, handler)) return;
      this.subscribed.delete(topic);
      await this.subscriber.unsubscribe(this.channelPrefix + topic);
    };
  }

  onResync(handler: () => void): void {
    this.resync.add(handler);
  }

  /**
   * ioredis announces `ready` before it subscribes again; subscribing once more (a no-op for Redis) and
   * waiting for the answer, which comes after those, means that once caches are dropped, every later
   * change reaches them.
   */
  private async resubscribed(): Promise<void> {
    const channels = [...this.subscribed.keys()].map((topic) => this.channelPrefix + topic);
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
    } catch (err) {
      this.log.warn({ err: (err as Error)?.message ?? String(err) }, 'bus not subscribed again after a reconnection');
    }
  }

  private runResync(): void {
    for (const handler of this.resync) contain(handler, this.log, 'bus resync handler failed');
  }
}
