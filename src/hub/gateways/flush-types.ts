/** The shapes a flush round works with (flush.ts), apart so the plans it calls (alert-card-plan.ts) can name them. */

import type { Logger } from '../../core/logger.js';
import type { Counter } from '../../observe/metrics.js';
import type { HubConfig } from '../config.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { PeopleDirectory } from '../people.js';
import type { ZonedTime } from '../zoned-time.js';
import type { HookRoute } from './config.js';
import type { AlertState, HookStore, PendingItem } from './hook-store.js';
import type { HookTemplates } from './templates.js';

export interface LoadedRoute {
  route: HookRoute;
  templates: HookTemplates;
}

export interface FlushDeps {
  config: HubConfig;
  hooks: HookStore;
  outbox: OutboxPort;
  people: PeopleDirectory;
  routes: ReadonlyMap<string, LoadedRoute>;
  zone: ZonedTime;
  logger: Logger;
  items: Counter;
  flapWindowMs: number;
  maxInFlight: number;
  budgetShare: number;
  /** Items per conversation read in one round. @default 5_000 */
  batch?: number;
}

export interface Decided {
  out: PendingItem[];
  /** Items folded into an earlier message (repeats, flaps), with the message they belong to. */
  folded: Array<{ id: number; into: string | null; note: string }>;
  /** Held resolved items cancelled by a refire (flaps). */
  cancelled: number[];
  states: Map<string, AlertState>;
  flaps: number;
  /** Alerts that flapped this round, with their refire (an alert card shows the count, alert-card-plan.ts). */
  flapped: Map<string, PendingItem>;
}
