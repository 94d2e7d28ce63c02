/**
 * A small bounded cache with a time to live, owned by one client instance (no module state). Insertion order
 * doubles as recency: a hit re-inserts the entry, and the oldest entry goes when the cache is full.
 */

export class TtlCache<V> {
  readonly #map = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; ttlMs: number; now: () => number }) {
    this.#max = Math.max(0, Math.floor(options.maxEntries));
    this.#ttlMs = options.ttlMs;
    this.#now = options.now;
  }

  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.#max === 0 || this.#ttlMs <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done) break;
      this.#map.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
