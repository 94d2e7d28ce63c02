/**
 * The attacker's view of a hub: a real hub (store, dispatcher, emulator) behind its HTTP API on a loopback socket,
 * with the production token verifier over the store's token table. Attack scripts talk to it only with `fetch`
 * and check the result where it matters: the emulator's recorded messages and the store.
 */

import type { HubConfig } from '../../src/hub/config.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import {
  type CreateTokenOptions,
  createApiToken,
  StoreTokenVerifier,
  type VerifierOptions,
} from '../../src/server/api-tokens.js';
import type { SseOptions } from '../../src/server/sse.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import type { Backend } from '../conformance/backends.js';
import { type HubFixture, startTestHub } from '../e2e/hub-helpers.js';

export interface SecureHub {
  fx: HubFixture;
  server: ApiServer;
  tokens: StoreApiTokens;
  verifier: StoreTokenVerifier;
  /** Mints a token the way `dingkit token create` does; returns the raw value. */
  mint(name: string, scopes: Array<'read' | 'send' | 'admin'>, opts?: CreateTokenOptions): Promise<string>;
  /** `fetch` on the hub with a bearer token (or none when `token` is ''). */
  call(token: string, path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Rows in the store's messages table (a request that was refused must leave none). */
  messageCount(): Promise<number>;
  close(): Promise<void>;
}

export async function secureHub(
  backend: Backend,
  o: { verifier?: VerifierOptions; sse?: SseOptions; config?: HubConfig } = {},
): Promise<SecureHub> {
  const fx = await startTestHub(backend, o.config ? { config: o.config } : {});
  const tokens = new StoreApiTokens(fx.store);
  const verifier = new StoreTokenVerifier(tokens, o.verifier ?? {});
  const server = await createApiServer(fx.hub, {
    tokens: verifier,
    events: fx.hub.events,
    ...(o.sse ? { sse: o.sse } : {}),
  });
  return {
    fx,
    server,
    tokens,
    verifier,
    async mint(name, scopes, opts) {
      const now = o.verifier?.now;
      return (await createApiToken(tokens, name, scopes, { ...(now ? { now } : {}), ...opts })).token;
    },
    call(token, path, init = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${server.url}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { method: rest.method ?? 'POST', body: JSON.stringify(json) } : {}),
      });
    },
    async messageCount() {
      const r = await fx.store.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async close() {
      await server.close();
      await fx.cleanup();
    },
  };
}

/** Reads an SSE response until it ends; resolves with the time it ended (ms, performance clock). */
export async function streamEnd(res: Response): Promise<number> {
  const reader = res.body!.getReader();
  for (;;) {
    const r = await reader.read().catch(() => ({ done: true as const }));
    if (r.done) return performance.now();
  }
}
