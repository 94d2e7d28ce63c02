/**
 * The dispatcher's Prometheus series (src/observe/metrics.ts registry, one per hub instance).
 */

import type { Counter, Histogram, Registry } from '../../observe/metrics.js';
import type { DeliveryChange } from './types.js';

export class DispatcherMetrics {
  readonly #sent: Counter;
  readonly #retries: Counter;
  readonly #deferred: Counter;
  readonly #parked: Counter;
  readonly #dead: Counter;
  readonly #throttled: Counter;
  readonly #unreadable: Counter;
  readonly #latency: Histogram;
  #depth: Record<string, number> = {};

  constructor(r: Registry) {
    this.#sent = r.counter('dingkit_deliveries_sent_total', 'Deliveries DingTalk accepted');
    this.#retries = r.counter('dingkit_delivery_retries_total', 'Failed attempts scheduled for a retry');
    this.#deferred = r.counter(
      'dingkit_delivery_deferrals_total',
      'Attempts refused by a throttle, rescheduled',
    );
    this.#parked = r.counter('dingkit_deliveries_parked_total', 'Unknown outcomes parked for an operator');
    this.#dead = r.counter('dingkit_deliveries_dead_total', 'Deliveries dead-lettered');
    this.#throttled = r.counter(
      'dingkit_dispatch_throttles_total',
      'Times a rate key had no budget (or a penalty) at claim time',
    );
    this.#unreadable = r.counter(
      'dingkit_deliveries_unreadable_total',
      'Stored deliveries whose job did not read back (dead-lettered unsent)',
    );
    this.#latency = r.histogram('dingkit_send_duration_seconds', 'Time spent in the sender per attempt');
    r.gauge('dingkit_outbox_deliveries', 'Deliveries by status (refreshed every 5 s by the dispatcher)', () =>
      Object.entries(this.#depth).map(([status, n]) => [{ status }, n]),
    );
  }

  depth(counts: Record<string, number>): void {
    this.#depth = { ...counts };
  }

  record(c: DeliveryChange): void {
    switch (c.status) {
      case 'sent':
        this.#sent.inc({ channel: c.channel });
        break;
      case 'parked':
        this.#parked.inc({ channel: c.channel });
        break;
      case 'dead':
        this.#dead.inc({ channel: c.channel });
        break;
      case 'queued':
        if (c.runAt !== undefined && c.lastError?.startsWith('RATE_LIMITED')) this.#deferred.inc();
        else if (c.runAt !== undefined) this.#retries.inc({ channel: c.channel });
        break;
      default:
        break;
    }
  }

  throttled(key: string, penalty: boolean): void {
    this.#throttled.inc({ key, kind: penalty ? 'penalty' : 'budget' });
  }

  unreadable(channel: string): void {
    this.#unreadable.inc({ channel });
  }

  latency(seconds: number, channel: string): void {
    this.#latency.observe(seconds, { channel });
  }
}
