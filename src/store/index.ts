/**
 * The hub's durable store: `openStore`, the typed schema, and the repositories built on them.
 */

export type { StoreDialect } from './dialect.js';
export { migrationsFor } from './migrations/index.js';
export {
  describeUrl,
  dialectOf,
  type OpenStoreOptions,
  openStore,
  type Store,
  type Tx,
} from './open-store.js';
export type * from './schema.js';
