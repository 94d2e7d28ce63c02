/**
 * Shared set-up of the hub's end-to-end tests: a real hub (store, dispatcher, Stream receiver) against the real
 * emulator over loopback sockets on port 0. The store is SQLite in a temp dir, or PostgreSQL in a fresh schema
 * when `DINGKIT_TEST_PG_URL` answers (see test/conformance/backends.ts).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LaunchHubOptions, launchHub } from '../../src/cli/launch-hub.js';
import type { Emulator } from '../../src/emulator/emulator.js';
import { type HubConfig, parseConfig } from '../../src/hub/config.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { createApp } from '../../src/server/app.js';
import type { ApiTokenVerifier, Scope } from '../../src/server/auth.js';
import type { Store } from '../../src/store/open-store.js';
import { backends } from '../conformance/backends.js';

/** The shared poller (support/wait-for.ts), re-exported: the hub tests import their helpers from here. */
export { waitFor } from '../support/wait-for.js';

export { backends };

/** A config for tests: emulator on, fast polls. `extra` is merged over it. */
export function testConfig(extra: Record<string, unknown> = {}): HubConfig {
  return parseConfig(
    {
      emulator: { mode: 'on', port: 0 },
      dispatcher: { pollMs: 20, leaseMs: 5_000, maxAttempts: 3 },
      tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 0 },
      ...extra,
    },
    {},
  );
}

export interface HubFixture {
  hub: RunningHub<Emulator>;
  store: Store;
  /** Opens another store on the same database (a restarted process). */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

/**
 * Starts a hub on the given backend as `dingkit serve` does (the built-in emulator for a config without
 * credentials, closed by `hub.stop()`); the caller's options are merged in.
 */
export async function startTestHub(
  backend: (typeof backends)[number],
  opts: Partial<LaunchHubOptions> & { config?: HubConfig } = {},
): Promise<HubFixture & { fresh: Awaited<ReturnType<(typeof backends)[number]['fresh']>> }> {
  const fresh = await backend.fresh();
  const store = await fresh.open();
  const hub = await launchHub({
    config: opts.config ?? testConfig(),
    store,
    inboxPollMs: 50,
    ...opts,
  });
  return {
    hub,
    store,
    fresh,
    reopen: () => fresh.open(),
    async cleanup() {
      await hub.stop();
      await fresh.cleanup();
    },
  };
}

/** The hub's HTTP API in-process (Hono's `app.request`), as an API caller with a token of these scopes reaches it. */
export interface HubApi {
  app: ReturnType<typeof createApp>['app'];
  token: string;
  /** A JSON request with the token; `body` undefined sends none. */
  call(method: string, path: string, body?: unknown): Promise<Response>;
}

export async function hubApi(hub: RunningHub, scopes: Scope[] = ['admin']): Promise<HubApi> {
  const tokens = new MemoryApiTokenStore();
  const { token } = await createApiToken(tokens, 'test-caller', scopes);
  const { app } = createApp({
    hub,
    // No cache: a token revoked in a test is refused at once.
    tokens: new StoreTokenVerifier(tokens, { ttlMs: 0 }),
    events: hub.events,
    metrics: hub.metrics,
    // As `serve` wires it: the people's app hands its operators dashboard tokens from the same table.
    operatorTokens: tokens,
  });
  const call = async (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { app, token, call };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dingkit-hub-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const OPS = 'cidDemoOps000000002==';
export const ENG = 'cidDemoEngineering0001==';
export const PRODUCT = 'cidDemoProduct000003==';

/** The hub's HTTP API on a loopback port, wired for browser tests of its pages as `dingkit serve` wires it. */
export interface ServedHub {
  server: ApiServer;
  /** The token table the API checks, from which the people's app hands its operators dashboard tokens. */
  tokens: MemoryApiTokenStore;
  /** A session cookie value for a person, from a real 免登 code posted as the page posts it (never a userId). */
  sessionCookie(userId: string): Promise<string>;
}

/** A verifier that knows no API token: servers that only take DingTalk's signed callbacks. */
export const noTokens: ApiTokenVerifier = {
  verify: async () => undefined,
  check: async () => ({ ok: false, reason: 'unknown' }) as never,
};

/**
 * The hub's DingTalk callback routes on a real server, as `serve` mounts them, with the hub's public URL set to it
 * (the emulator pushes to the URLs the hub registers). No API token is known: only the signed routes answer.
 */
export async function serveCallbacks(hub: RunningHub<Emulator>): Promise<ApiServer> {
  const server = await createApiServer(hub, { tokens: noTokens, callbacks: hub.callbacks! });
  hub.setPublicUrl(server.url);
  return server;
}

export async function serveHub(hub: RunningHub<Emulator>): Promise<ServedHub> {
  const tokens = new MemoryApiTokenStore();
  const server = await createApiServer(hub, {
    tokens: new StoreTokenVerifier(tokens),
    events: hub.events,
    metrics: hub.metrics,
    sse: { heartbeatMs: 1_000 },
    operatorTokens: tokens,
  });
  // As `serve` does: the Todos' links point at the pages this server serves.
  hub.setPublicUrl(server.url);
  return {
    server,
    tokens,
    async sessionCookie(userId) {
      const r = await fetch(`${server.url}/app/session/dingtalk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ code: hub.emulator!.authCode(userId) }),
      });
      const id = /dk_app_session=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1];
      if (r.status !== 200 || id === undefined) throw new Error(`sign-in of ${userId} failed: ${r.status}`);
      return id;
    },
  };
}
