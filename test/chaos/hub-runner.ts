/**
 * One hub process for the chaos tests: what `dingkit serve` runs (store → `startHub` → HTTP API with store
 * tokens), minus the CLI's config file lookup, because a PostgreSQL run needs a fresh schema per test and the
 * config file has no place for one. The config is a production config (apps, robots, groups pointed at the
 * emulator the test started, `emulator.mode: off`), never the built-in demo.
 *
 * Input: one stdin line of JSON {@link RunnerInput} (see standby.ts). Output: one line `ready <api url>` on stdout.
 * The test kills it with SIGKILL at random points; nothing here tries to survive that.
 */

import type { Logger } from '../../src/core/logger.js';
import { parseConfig } from '../../src/hub/config.js';
import { startHub } from '../../src/hub/hub.js';
import { createApiServer } from '../../src/server/api-server.js';
import { StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { openStore } from '../../src/store/open-store.js';
import { openRetrying } from './hub-chaos-support.js';
import { awaitGo } from './standby.js';

export interface RunnerInput {
  /** Raw config object (validated here by `parseConfig`, as `dingkit serve` does with the file). */
  config: Record<string, unknown>;
  databaseUrl: string;
  schema?: string | undefined;
  /** Extra StreamClient options (scaled timings). */
  stream?: Record<string, unknown> | undefined;
  receive?: boolean | undefined;
  inboxPollMs?: number | undefined;
  /** Inbox lease (scaled down: a killed process's entry is taken over sooner). */
  inboxLeaseMs?: number | undefined;
  /** PostgreSQL pool size. @default 6 (chaos runs start several processes); `dingkit serve` opens 10 */
  poolSize?: number | undefined;
}

// Started as a warm standby (standby.ts): the modules above are loaded; nothing runs before the test says go.
const input = await awaitGo<RunnerInput>();
const store = await openRetrying(() =>
  openStore({
    url: input.databaseUrl,
    ...(input.schema ? { schema: input.schema } : {}),
    ...(input.databaseUrl.startsWith('postgres') ? { poolSize: input.poolSize ?? 6 } : {}),
  }),
);
const hub = await startHub({
  config: parseConfig(input.config, {}),
  store,
  ...(input.stream ? { stream: input.stream } : {}),
  ...(input.receive !== undefined ? { receive: input.receive } : {}),
  ...(input.inboxPollMs !== undefined ? { inboxPollMs: input.inboxPollMs } : {}),
  ...(input.inboxLeaseMs !== undefined ? { inboxLeaseMs: input.inboxLeaseMs } : {}),
  logger: {
    // Errors only, on stderr: the test prints them when a run fails.
    error: (o, m) => process.stderr.write(`${m ?? ''} ${JSON.stringify(o)}\n`),
    warn: () => {},
    info: () => {},
    debug: () => {},
  } satisfies Logger,
});
const server = await createApiServer(hub, {
  port: 0,
  tokens: new StoreTokenVerifier(new StoreApiTokens(hub.store)),
  events: hub.events,
  metrics: hub.metrics,
  fileLimitBytes: hub.config.files.maxBytes,
  maxConcurrentUploads: hub.config.files.maxConcurrentUploads,
  dashboard: false,
  // inbound.mode http or both: DingTalk's signed callbacks, as `dingkit serve` mounts them.
  ...(hub.callbacks ? { callbacks: hub.callbacks } : {}),
});
hub.setPublicUrl(server.url);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(() => hub.stop())
    .then(() => process.exit(0));
});
process.stdout.write(`ready ${server.url}\n`);
