/**
 * `/metrics` for parked deliveries: how many are parked now (`dingkit_deliveries_parked`) and the operators'
 * decisions by action (`dingkit_delivery_decisions_total`). The dispatcher's `dingkit_outbox_deliveries` gauge is
 * refreshed every 5 s by its loop, and only while it runs; parking is rare and waits for a person, so this count is
 * read from the store when something is parked or settled (one count query per such event, coalesced), and at start.
 */

import type { EventBus } from '../../observe/events.js';
import type { Registry } from '../../observe/metrics.js';
import type { ResolveAction } from '../service.js';

export interface ParkedMetrics {
  /** Counts a decision that changed a delivery (a duplicate is not counted again). */
  decided(action: ResolveAction): void;
  /** Reads the parked count now (tests; the events do it on their own). Resolves when it has been read. */
  refresh(): Promise<void>;
  stop(): void;
}

export function watchParked(o: {
  events: EventBus;
  metrics: Registry;
  parkedCount: () => Promise<number>;
  onError: (e: unknown) => void;
}): ParkedMetrics {
  let parked: number | undefined;
  o.metrics.gauge(
    'dingkit_deliveries_parked',
    'Deliveries parked now (outcome unknown, waiting for an operator to mark sent, redrive or drop)',
    () => (parked === undefined ? [] : [[{}, parked]]),
  );
  const decisions = o.metrics.counter(
    'dingkit_delivery_decisions_total',
    'Operator decisions on parked deliveries, by action (mark-sent, redrive, drop)',
  );
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          parked = await o.parkedCount();
        } catch (e) {
          o.onError(e);
        }
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const off = o.events.subscribe((e) => {
    if (
      (e.type === 'delivery' && e.data.status === 'parked') ||
      e.type === 'delivery.resolved' ||
      e.type === 'delivery.redriven'
    ) {
      void refresh();
    }
  });
  void refresh();
  return {
    decided: (action) => decisions.inc({ action }),
    refresh,
    stop: off,
  };
}
