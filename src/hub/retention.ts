/**
 * Retention: the hub deletes finished work after `config.retention`, or the outbox and inbox tables grow forever.
 *
 * What goes: sent and cancelled deliveries, messages left with no delivery and no file share, handled inbox
 * entries. What stays: queued, sending, parked and dead deliveries (work, or an operator's decision) and pending,
 * processing or failed inbox entries. Both stores clamp to their own 24 h windows (idempotency keys;
 * re-push dedupe), so a config or a caller asking for less still keeps a day.
 *
 * One process at a time: a round first takes the `hub.retention` store lock for `everyMs` and does not give it
 * back, so however many hub processes share the store, the purge runs about once per period. Between batches the
 * lock is renewed; if another process took it meanwhile (the round outlived the period), this one stops.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { Counter, Registry } from '../observe/metrics.js';
import { StoreLocks } from '../store/locks.js';
import type { Store } from '../store/open-store.js';
import type { HubConfig } from './config.js';
import type { Outbox } from './delivery/outbox.js';
import type { Inbox } from './inbound/inbox.js';
import type { StoreFaultSink } from './store-faults.js';

export const RETENTION_LOCK = 'hub.retention';

/** The config's defaults, for a hand-built config without a `retention` block. */
export const DEFAULT_RETENTION: HubConfig['retention'] = {
  deliveriesMs: 7 * 86_400_000,
  inboxMs: 7 * 86_400_000,
  everyMs: 3_600_000,
};

interface RetentionDeps {
  store: Store;
  outbox: Outbox;
  inbox: Inbox;
  retention: HubConfig['retention'];
  metrics: Registry;
  logger: Logger;
  /** Store outages go here first (logged once per burst); only other failures are logged by this module. */
  faults?: StoreFaultSink | undefined;
  now: () => number;
  /** Lock owner. @default a random UUID */
  owner?: string | undefined;
  /**
   * The HTTP callbacks' replay memory (seen-store.ts), when the hub receives over HTTP: its expired keys go too.
   * Expired keys are already ignored; deleting them only keeps the `kv` table small.
   */
  seen?: { purgeExpired(limit: number): Promise<number> } | undefined;
  /**
   * The gateways' rows (hook dedupe keys and finished items, src/hub/gateways/hook-store.ts), purged with the inbox's
   * window: both are the memory of what was already received.
   */
  hooks?: { purge(before: number): Promise<number> } | undefined;
  /** Rows per delete statement. @default 1_000 */
  batchSize?: number | undefined;
  /** Delay of the first round after start (then every `everyMs`). @default min(everyMs, 30_000) */
  firstDelayMs?: number | undefined;
}

export interface PurgeRound {
  /** False when another process holds the lock (it purges this period). */
  ran: boolean;
  deliveries: number;
  messages: number;
  inbox: number;
}

export class Retention {
  readonly owner: string;
  readonly #d: RetentionDeps;
  readonly #locks: StoreLocks;
  readonly #purged: Counter;
  readonly #rounds: Counter;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PurgeRound> | undefined;
  #stopped = false;

  constructor(d: RetentionDeps) {
    this.#d = d;
    this.owner = d.owner ?? randomUUID();
    this.#locks = new StoreLocks(d.store, { now: d.now });
    this.#purged = d.metrics.counter(
      'dingkit_retention_purged_rows_total',
      'Rows deleted by retention, by table (deliveries, messages, inbox, callback_keys)',
    );
    this.#rounds = d.metrics.counter(
      'dingkit_retention_rounds_total',
      'Retention rounds by result (purged, skipped: another process held the lock, failed)',
    );
  }

  /** Starts the periodic rounds (none when `everyMs` is 0). */
  start(): void {
    const every = this.#d.retention.everyMs;
    if (every <= 0 || this.#timer || this.#stopped) return;
    const tick = () => {
      if (this.#stopped) return;
      void this.runOnce()
        .catch(() => undefined)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, every).unref();
        });
    };
    this.#timer = setTimeout(tick, this.#d.firstDelayMs ?? Math.min(every, 30_000)).unref();
  }

  /** One round now, unless another process holds the lock. A round already running in this process is joined. */
  runOnce(): Promise<PurgeRound> {
    if (!this.#running) {
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
      });
    }
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #round(): Promise<PurgeRound> {
    const { retention: r, outbox, inbox, now, logger } = this.#d;
    const out: PurgeRound = { ran: false, deliveries: 0, messages: 0, inbox: 0 };
    // The lock lives for one period, at least a minute, so a tiny test period cannot let two rounds overlap.
    const ttl = Math.max(r.everyMs, 60_000);
    try {
      if (!(await this.#locks.tryAcquire(RETENTION_LOCK, this.owner, ttl))) {
        this.#rounds.inc({ result: 'skipped' });
        return out;
      }
      out.ran = true;
      // Keep going only while the lock is still ours, and not once the hub is stopping.
      const between = async () =>
        !this.#stopped && (await this.#locks.tryAcquire(RETENTION_LOCK, this.owner, ttl));
      const batchSize = this.#d.batchSize ?? 1_000;
      const t = now();
      const o = await outbox.purge(t - r.deliveriesMs, { batchSize, between });
      out.deliveries = o.deliveries;
      out.messages = o.messages;
      if (await between()) out.inbox = await inbox.purge(t - r.inboxMs, { batchSize, between });
      this.#purged.inc({ table: 'deliveries' }, out.deliveries);
      this.#purged.inc({ table: 'messages' }, out.messages);
      this.#purged.inc({ table: 'inbox' }, out.inbox);
      if (this.#d.hooks && (await between()))
        this.#purged.inc({ table: 'hooks' }, await this.#d.hooks.purge(t - r.inboxMs));
      if (this.#d.seen) {
        let keys = 0;
        for (let n = batchSize; n === batchSize && (await between()); keys += n) {
          n = await this.#d.seen.purgeExpired(batchSize);
        }
        this.#purged.inc({ table: 'callback_keys' }, keys);
      }
      this.#rounds.inc({ result: 'purged' });
      if (out.deliveries + out.messages + out.inbox > 0) {
        logger.info(
          { deliveries: out.deliveries, messages: out.messages, inbox: out.inbox },
          'retention: purged finished rows',
        );
      }
      return out;
    } catch (e) {
      this.#rounds.inc({ result: 'failed' });
      if (!this.#d.faults?.report(e, 'retention')) {
        logger.warn(
          { err: (e as Error)?.message ?? String(e) },
          'retention round failed; next period retries',
        );
      }
      throw e;
    }
  }
}
