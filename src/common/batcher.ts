/**
 * Group commit: callers add items one at a time and each gets its own result, but the
 * work runs as one call per batch, when `maxItems` are waiting or `maxWaitMs` after the
 * first. Under load, many concurrent requests or jobs share one round trip (and one
 * transaction); when idle, an item waits at most `maxWaitMs`. A failed batch fails
 * every caller in it, so nothing is acknowledged that was not done.
 */
export class Batcher<T, R> {
  private items: T[] = [];
  private waiters: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 500,
    private readonly maxWaitMs = 5,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.maxItems) this.flush();
      else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    if (items.length === 0) return;
    this.run(items).then(
      (results) => waiters.forEach((w, i) => w.resolve(results[i])),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    );
  }
}
