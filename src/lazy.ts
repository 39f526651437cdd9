/**
 * A value built on first use, typically from a dynamic import that keeps a module out of memory until
 * something needs it. Once built, `value` holds it, so callers on a hot path read it without awaiting.
 */
export class Lazy<T> {
  private readonly build: () => Promise<T>;
  private pending: Promise<T> | undefined;
  value: T | undefined;

  constructor(build: () => Promise<T>) {
    this.build = build;
  }

  /** Whether it was asked for (it may still be loading). */
  get started(): boolean {
    return this.pending !== undefined;
  }

  /** The value, built by the first caller; concurrent callers share one build. */
  get(): Promise<T> {
    this.pending ??= this.build().then((v) => {
      this.value = v;
      return v;
    });
    return this.pending;
  }
}
