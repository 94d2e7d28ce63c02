/**
 * Delivery wiring: the store's dispatcher (leases, store-backed robot budgets, retry/park/dead by the delivery
 * policy) driving the hub's sender, with the dispatcher settings of the config.
 */

import type { Logger } from '../../core/logger.js';
import type { Redactor } from '../../core/redact.js';
import type { EventBus } from '../../observe/events.js';
import type { Registry } from '../../observe/metrics.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import type { StoreFaultSink } from '../store-faults.js';
import { Dispatcher } from './dispatcher.js';
import type { Sender } from './types.js';

export interface DeliveryDeps {
  config: HubConfig;
  store: Store;
  sender: Sender;
  events: EventBus;
  metrics: Registry;
  logger: Logger;
  /** Store outages go here first (logged once per burst); only other failures are logged by this module. */
  faults?: StoreFaultSink | undefined;
  redactor?: Redactor | undefined;
  now: () => number;
}

/** 8 sends in flight, or one per custom robot when there are more (at most 256). */
export function defaultWorkers(cfg: HubConfig): number {
  return Math.min(256, Math.max(8, Object.keys(cfg.robots).length));
}

export function startDelivery(d: DeliveryDeps): Dispatcher {
  const c = d.config.dispatcher;
  const dispatcher = new Dispatcher({
    store: d.store,
    sender: d.sender,
    workers: c.workers ?? defaultWorkers(d.config),
    leaseMs: c.leaseMs,
    pollMs: c.pollMs,
    policy: {
      maxAttempts: c.maxAttempts,
      ambiguous: c.ambiguous,
      // A config built in code may predate the key.
      baseDelayMs: c.retryBaseMs ?? 1_000,
    },
    robotBudget: c.robotBudget,
    ...(c.guardMs !== undefined ? { guardMs: c.guardMs } : {}),
    ...(c.stampArrival !== undefined ? { stampArrival: c.stampArrival } : {}),
    now: d.now,
    events: d.events,
    metrics: d.metrics,
    ...(d.redactor ? { redactor: d.redactor } : {}),
    onError: (e) => {
      if (!d.faults?.report(e, 'dispatcher')) {
        d.logger.warn({ err: (e as Error)?.message ?? String(e) }, 'dispatcher loop error');
      }
    },
  });
  // Disabled: nothing claims here; stop() and notify() on a dispatcher that never started are no-ops.
  if (c.enabled) dispatcher.start();
  return dispatcher;
}
