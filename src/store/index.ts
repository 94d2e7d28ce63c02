/**
 * The hub's durable store: `openStore`, the typed schema, and the repositories built on them.
 */

export {
  type ClaimOptions,
  type ClaimResult,
  claimDue,
  finish,
  markStarted,
  release,
} from './delivery-queue.js';
export type { StoreDialect } from './dialect.js';
export { Inbox, type InboxEntry, type InboxHandler, type InboxOptions, type ProcessResult } from './inbox.js';
export { fromJsonColumn, toJsonColumn } from './json.js';
export { StoreLimiterStore } from './limiter.js';
export { StoreLocks } from './locks.js';
export { migrationsFor } from './migrations/index.js';
export {
  describeUrl,
  dialectOf,
  type OpenStoreOptions,
  openStore,
  type Store,
  type Tx,
} from './open-store.js';
export {
  type DeliverySpec,
  type EnqueueInput,
  type EnqueueResult,
  Outbox,
  type OutboxOptions,
  parsePayload,
  toDelivery,
} from './outbox.js';
export type * from './schema.js';
export { SEEN_PREFIX, StoreSeenStore } from './seen-store.js';
export { SharedTokenStore, type SharedTokenStoreOptions } from './token-store.js';
