/**
 * Every timer a StreamClient starts goes through one of these, so that `stop()` can clear all of them at once
 * (the official client's keepAlive interval outlives its socket and is never cleared on reconnect, docs/dingtalk.md §S10).
 */

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class TimerSet {
  readonly #api: TimerApi;
  readonly #live = new Set<unknown>();

  constructor(api: TimerApi = realTimers) {
    this.#api = api;
  }

  /** Runs `fn` once after `ms`; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    const handle = this.#api.setTimeout(() => {
      this.#live.delete(handle);
      fn();
    }, ms);
    this.#live.add(handle);
    return () => {
      if (this.#live.delete(handle)) this.#api.clearTimeout(handle);
    };
  }

  /** Number of timers not yet fired or cleared. */
  get size(): number {
    return this.#live.size;
  }

  clearAll(): void {
    for (const h of this.#live) this.#api.clearTimeout(h);
    this.#live.clear();
  }
}
