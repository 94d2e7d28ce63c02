/**
 * What the hub knows about its store being out: a full disk, a read-only file, a database that
 * cannot be reached. Every part of the hub that meets a store error hands it here first (`report`): an outage is
 * logged once per burst, with its cause, and not again by each request, loop and retry that meets it; anything
 * else is the caller's to log. While a burst lasts, a probe write (store/probe.ts) runs every `probeEveryMs`; the
 * first one that succeeds ends the burst with one line saying how long it lasted and how many failures it folded.
 *
 * `/health` asks `check()`: the same probe, at most once per `cacheMs` however often it is called (the route has no
 * token, so a caller must not be able to turn it into a write flood), and one probe at a time.
 */

import type { Logger } from '../core/logger.js';
import type { Registry } from '../observe/metrics.js';
import type { Store } from '../store/open-store.js';
import { probeWrite } from '../store/probe.js';
import { redactStoreError, type StoreFaultKind, storeFaultOf, storeFaultReason } from './store-errors.js';

interface StoreFaultsOptions {
  logger: Logger;
  metrics?: Registry | undefined;
  /** The store to probe; without one, a burst ends after `quietMs` without a new failure. */
  store?: Store | undefined;
  /** Probe period while the store is out. @default 1_000 */
  probeEveryMs?: number | undefined;
  /** How long a health answer is reused. @default 1_000 */
  cacheMs?: number | undefined;
  /** Without a store: how long without failures ends a burst. @default 30_000 */
  quietMs?: number | undefined;
}

/** Where store failures are reported (StoreFaults.report): true = an outage, already logged. */
export interface StoreFaultSink {
  report(e: unknown, where: string): boolean;
}

export interface StoreState {
  ok: boolean;
  /** Why not, in words fit for an API client (no paths, hosts or driver text). */
  reason?: string | undefined;
}

export class StoreFaults {
  readonly #o: StoreFaultsOptions;
  readonly #probeEveryMs: number;
  readonly #cacheMs: number;
  readonly #counter: ReturnType<Registry['counter']> | undefined;
  #store: Store | undefined;
  /** The burst in progress: when it began, its kind, the failures seen since its line. */
  #burst: { since: number; kind: StoreFaultKind; folded: number; last: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checked: { at: number; state: StoreState } | undefined;
  #checking: Promise<StoreState> | undefined;
  #stopped = false;

  constructor(o: StoreFaultsOptions) {
    this.#o = o;
    this.#store = o.store;
    this.#probeEveryMs = o.probeEveryMs ?? 1_000;
    this.#cacheMs = o.cacheMs ?? 1_000;
    this.#counter = o.metrics?.counter(
      'dingkit_store_unavailable_total',
      'Operations that failed because the store was out (full, read-only, unreachable), by kind',
    );
  }

  /** The store, once it is open (the hub builds this before it opens the store). */
  attach(store: Store): void {
    this.#store = store;
  }

  /** Whether a burst is in progress. */
  get down(): boolean {
    return this.#burst !== undefined;
  }

  /**
   * Takes a failure. True when it was a store outage (counted, and logged if it opens a burst): the caller then
   * logs nothing of its own. False for anything else.
   */
  report = (e: unknown, where: string): boolean => {
    const kind = storeFaultOf(e);
    if (kind === undefined) return false;
    this.#counter?.inc({ kind });
    const now = Date.now();
    // A failure makes the last health answer stale: the next check probes again (a dropped connection that the
    // pool has already replaced is healthy; a full disk is not).
    this.#checked = undefined;
    if (this.#burst) {
      this.#burst.folded++;
      this.#burst.last = now;
      return true;
    }
    this.#burst = { since: now, kind, folded: 0, last: now };
    const code = (e as { code?: unknown })?.code;
    this.#o.logger.error(
      {
        cause: redactStoreError((e as Error)?.message ?? String(e)),
        ...(typeof code === 'string' ? { code } : {}),
        kind,
        where,
      },
      `store unavailable: ${storeFaultReason(kind)}; the API answers 503 store_unavailable and sends keep their results until it is back`,
    );
    this.#schedule();
    return true;
  };

  /** Can the store take a write now? Probes at most once per `cacheMs`, one probe at a time. */
  check(): Promise<StoreState> {
    const now = Date.now();
    if (this.#checked && now - this.#checked.at < this.#cacheMs) return Promise.resolve(this.#checked.state);
    this.#checking ??= this.#probe().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #probe(): Promise<StoreState> {
    let state: StoreState;
    const store = this.#store;
    if (!store) {
      state = this.#burst ? { ok: false, reason: storeFaultReason(this.#burst.kind) } : { ok: true };
    } else {
      try {
        await probeWrite(store);
        state = { ok: true };
        this.#recovered();
      } catch (e) {
        const kind = storeFaultOf(e);
        if (kind !== undefined) this.report(e, 'probe');
        state = { ok: false, reason: storeFaultReason(kind ?? 'io') };
      }
    }
    this.#checked = { at: Date.now(), state };
    return state;
  }

  #recovered(): void {
    const b = this.#burst;
    if (!b) return;
    this.#burst = undefined;
    clearTimeout(this.#timer);
    this.#o.logger.info(
      { downMs: Date.now() - b.since, folded: b.folded, kind: b.kind },
      'store available again',
    );
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#burst || this.#stopped) return;
      if (!this.#store) {
        // Nothing to probe: the burst ends once failures stop coming.
        if (Date.now() - this.#burst.last >= (this.#o.quietMs ?? 30_000)) this.#recovered();
        else this.#schedule();
        return;
      }
      void this.#probe().finally(() => {
        if (this.#burst) this.#schedule();
      });
    }, this.#probeEveryMs);
    this.#timer.unref();
  }
}
