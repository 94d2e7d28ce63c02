/**
 * A hub process for the gateway benchmarks: store → `startHub` → the HTTP API with the hook doors mounted, as
 * `dingkit serve` wires them. Input: one stdin line of JSON `{ config, databaseUrl, schema? }`. Output: `ready <url>`
 * on stdout. On SIGUSR2 it writes `cpu <µs>` (user + system since start), so the bench reads the hub's own CPU
 * over a phase, apart from the bench's clients and the emulator (each in its own process).
 */

import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseConfig } from '../../src/hub/config.js';
import { startHub } from '../../src/hub/hub.js';
import { createApiServer } from '../../src/server/api-server.js';
import { MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { openStore } from '../../src/store/open-store.js';

process.on('SIGUSR2', () => {
  const u = process.cpuUsage();
  process.stdout.write(`cpu ${u.user + u.system}\n`);
});

const rl = createInterface({ input: process.stdin });
const [line] = (await once(rl, 'line')) as [string];
rl.close();
const input = JSON.parse(line) as { config: Record<string, unknown>; databaseUrl: string; schema?: string };
const store = await openStore({ url: input.databaseUrl, ...(input.schema ? { schema: input.schema } : {}) });
const hub = await startHub({ config: parseConfig(input.config, {}), store, receive: false });
const server = await createApiServer(hub, {
  port: 0,
  tokens: new StoreTokenVerifier(new MemoryApiTokenStore()),
  events: hub.events,
  metrics: hub.metrics,
  dashboard: false,
  ...(hub.gateways ? { hooks: hub.gateways } : {}),
});
hub.setPublicUrl(server.url);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(() => hub.stop())
    .then(() => store.close())
    .then(() => process.exit(0));
});
process.stdout.write(`ready ${server.url}\n`);
