/**
 * Attacks on the hook routes (`POST /hooks/<name>`), over a real socket against a hub on the emulator. These routes
 * take no API token: each route's own secret is the gate, compared in constant time. Every attack must end in a 4xx
 * with a reason and leave nothing behind: no dedupe row, no item, no outbox message, nothing in the group.
 *
 * - no credentials, a wrong bearer, the hub's own API token (a route is not the API);
 * - HMAC: no signature, a body changed under a valid signature, a valid signature with an old timestamp;
 * - a replayed delivery (Alertmanager's and a signed generic one): answered 200 `duplicate`, sent once;
 * - a body over the route's cap, declared and undeclared (chunked): 413;
 * - malformed bodies: not JSON, the wrong type, a wrong field (the 400 names it), an unknown version;
 * - a guessed route name: 404, counted under `_unknown` (no series per guess);
 * - the Host check: a monitoring system posting to the hub's public name is taken, the API under that name is not.
 */

import nodeCrypto from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import { signHook } from '../../src/hub/gateways/auth.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { backends } from '../conformance/backends.js';
import { amBody, fixture, gatewayConfig, HMAC_SECRET, HOOK_TOKEN } from '../e2e/gateways-support.js';
import { OPS, startTestHub, waitFor } from '../e2e/hub-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const HMAC = {
  type: 'hmac' as const,
  secret: HMAC_SECRET,
  header: 'x-signature',
  algorithm: 'sha256' as const,
  encoding: 'hex' as const,
  prefix: 'sha256=',
  timestampHeader: 'x-timestamp',
  toleranceMs: 300_000,
};

async function start(backend: (typeof backends)[number]) {
  const f = await startTestHub(backend, {
    config: gatewayConfig({}, { maxBodyBytes: 4_096 }),
  });
  cleanups.push(() => f.cleanup());
  const tokens = new MemoryApiTokenStore();
  const { token: apiToken } = await createApiToken(tokens, 'admin', ['admin']);
  const server: ApiServer = await createApiServer(f.hub, {
    tokens: new StoreTokenVerifier(tokens, { ttlMs: 0 }),
    metrics: f.hub.metrics,
    hooks: f.hub.gateways,
  });
  cleanups.push(() => server.close());
  return { f, hub: f.hub, server, apiToken };
}

async function post(
  server: ApiServer,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const r = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : {} };
}

/** Nothing of the request is anywhere: no dedupe row, no item, no hook message, nothing in the group. */
async function nothingStored(hub: RunningHub<Emulator>): Promise<void> {
  const db = hub.store.db;
  expect(await db.selectFrom('hook_requests').selectAll().execute()).toEqual([]);
  expect(await db.selectFrom('hook_items').selectAll().execute()).toEqual([]);
  expect(await db.selectFrom('messages').select('id').where('kind', '=', 'hook').execute()).toEqual([]);
  expect(hub.emulator!.messages(OPS)).toEqual([]);
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hook routes under attack (${backend.name})`, () => {
    it('credentials: none, wrong, or the API’s own token → 401 with the reason; nothing stored', async () => {
      const { hub, server, apiToken } = await start(backend);
      const body = JSON.stringify(fixture('firing'));
      const none = await post(server, '/hooks/am', body);
      expect(none.status).toBe(401);
      expect(none.json.error?.code).toBe('missing_credentials');
      const wrong = await post(server, '/hooks/am', body, bearer(`${HOOK_TOKEN.slice(0, -1)}X`));
      expect(wrong.status).toBe(401);
      expect(wrong.json.error?.code).toBe('bad_credentials');
      // The answer never echoes what was sent or what was expected.
      expect(JSON.stringify(wrong.json)).not.toContain(HOOK_TOKEN.slice(0, 8));
      const api = await post(server, '/hooks/am', body, bearer(apiToken));
      expect(api.status).toBe(401);
      // A bearer route's secret sent as HMAC, and the HMAC route's secret as a bearer: each door its own key.
      const cross = await post(server, '/hooks/generic', body, bearer(HOOK_TOKEN));
      expect(cross.status).toBe(401);
      await nothingStored(hub);
      expect(hub.metrics.render()).toContain(
        'dingkit_hook_requests_total{result="unauthorized",route="am"} 3',
      );
    });

    it('the secret is compared in constant time', async () => {
      const { server } = await start(backend);
      const spy = vi.spyOn(nodeCrypto, 'timingSafeEqual');
      try {
        await post(
          server,
          '/hooks/am',
          JSON.stringify(fixture('firing')),
          bearer('x'.repeat(HOOK_TOKEN.length)),
        );
        expect(spy).toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });

    it('HMAC: unsigned, tampered body, stale timestamp → 401; nothing stored', async () => {
      const { hub, server } = await start(backend);
      const body = JSON.stringify({ title: 'Deploy finished', text: 'v2.1 is live' });
      const now = Math.floor(Date.now() / 1000);
      const unsigned = await post(server, '/hooks/generic', body);
      expect(unsigned.status).toBe(401);
      expect(unsigned.json.error?.code).toBe('missing_signature');
      const signed = signHook(HMAC, body, now);
      const tampered = await post(server, '/hooks/generic', body.replace('v2.1', 'v6.6'), signed);
      expect(tampered.status).toBe(401);
      expect(tampered.json.error?.code).toBe('bad_signature');
      // A captured request replayed after the window: its signature is genuine, its time is not.
      const old = now - 3_600;
      const stale = await post(server, '/hooks/generic', body, signHook(HMAC, body, old));
      expect(stale.status).toBe(401);
      expect(stale.json.error?.code).toBe('stale_timestamp');
      // The same signature with the timestamp header moved to now: the signature covers the timestamp.
      const moved = await post(server, '/hooks/generic', body, {
        ...signHook(HMAC, body, old),
        'x-timestamp': String(now),
      });
      expect(moved.status).toBe(401);
      expect(moved.json.error?.code).toBe('bad_signature');
      await nothingStored(hub);
    });

    it('a replayed delivery is answered 200 duplicate and sent once (Alertmanager and signed generic)', async () => {
      const { hub, server } = await start(backend);
      const am = JSON.stringify(fixture('firing'));
      const first = await post(server, '/hooks/am', am, bearer(HOOK_TOKEN));
      expect(first.status).toBe(202);
      for (let i = 0; i < 3; i++) {
        const again = await post(server, '/hooks/am', am, bearer(HOOK_TOKEN));
        expect(again.status).toBe(200);
        expect(again.json).toMatchObject({ duplicate: true });
      }
      const body = JSON.stringify({ title: 'Deploy finished', text: 'v2.1 is live' });
      const headers = signHook(HMAC, body, Math.floor(Date.now() / 1000));
      expect((await post(server, '/hooks/generic', body, headers)).status).toBe(202);
      expect((await post(server, '/hooks/generic', body, headers)).status).toBe(200);
      await waitFor(() => hub.emulator!.messages(OPS).length >= 2);
      // Give the flusher rounds to send a copy, if it were going to.
      await hub.gateways!.flush();
      await waitFor(async () => (await hub.gateways!.hooks.counts())['pending'] === undefined);
      const texts = hub.emulator!.messages(OPS).map((m) => m.text);
      expect(texts.filter((t) => t.includes('DiskFull'))).toHaveLength(1);
      expect(texts.filter((t) => t.includes('Deploy finished'))).toHaveLength(1);
      expect(await hub.store.db.selectFrom('hook_requests').selectAll().execute()).toHaveLength(2);
    });

    it('oversized bodies → 413, declared or chunked; nothing stored', async () => {
      const { hub, server } = await start(backend);
      const big = amBody(
        Array.from({ length: 40 }, (_, i) => ({
          name: `Big${i}`,
          fp: `fp${i}`,
          annotations: { summary: 'x'.repeat(200) },
        })),
      );
      const text = JSON.stringify(big);
      expect(text.length).toBeGreaterThan(4_096);
      const declared = await post(server, '/hooks/am', text, bearer(HOOK_TOKEN));
      expect(declared.status).toBe(413);
      expect(declared.json.error?.code).toBe('payload_too_large');
      // No content-length: the cap is counted while reading.
      async function* chunks() {
        for (let i = 0; i < text.length; i += 1_000) yield Buffer.from(text.slice(i, i + 1_000));
      }
      const r = await request(`${server.url}/hooks/am`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(HOOK_TOKEN) },
        body: Readable.from(chunks()),
      });
      await r.body.text();
      expect(r.statusCode).toBe(413);
      await nothingStored(hub);
    });

    it('malformed bodies → 400/415 naming what is wrong; nothing stored', async () => {
      const { hub, server } = await start(backend);
      const auth = bearer(HOOK_TOKEN);
      const notJson = await post(server, '/hooks/am', '{"version": "4",', auth);
      expect([notJson.status, notJson.json.error?.code]).toEqual([400, 'invalid_json']);
      const wrongType = await post(server, '/hooks/am', JSON.stringify(fixture('firing')), {
        ...auth,
        'content-type': 'text/plain',
      });
      expect(wrongType.status).toBe(415);
      const bad = fixture('firing');
      (bad.alerts[0] as { status: string }).status = 'exploded';
      const field = await post(server, '/hooks/am', JSON.stringify(bad), auth);
      expect(field.status).toBe(400);
      expect(field.json.error?.code).toBe('invalid_payload');
      expect(field.json.error?.message).toMatch(/^alerts\.0\.status: /);
      const v3 = await post(
        server,
        '/hooks/am',
        JSON.stringify({ ...fixture('firing'), version: '3' }),
        auth,
      );
      expect(v3.status).toBe(400);
      expect(v3.json.error?.message).toMatch(/^version: only version "4"/);
      const noAlerts = await post(
        server,
        '/hooks/am',
        JSON.stringify({ ...fixture('firing'), alerts: [] }),
        auth,
      );
      expect(noAlerts.status).toBe(400);
      const array = '[1,2,3]';
      const generic = await post(
        server,
        '/hooks/generic',
        array,
        signHook(HMAC, array, Math.floor(Date.now() / 1000)),
      );
      expect([generic.status, generic.json.error?.code]).toEqual([400, 'invalid_payload']);
      await nothingStored(hub);
    });

    it('a guessed route name → 404, counted under one series', async () => {
      const { hub, server } = await start(backend);
      for (const name of ['admin', 'am2', 'x'.repeat(60)]) {
        const r = await post(server, `/hooks/${name}`, '{}', bearer(HOOK_TOKEN));
        expect(r.status).toBe(404);
      }
      const metrics = hub.metrics.render();
      expect(metrics).toContain('dingkit_hook_requests_total{result="not_found",route="_unknown"} 3');
      expect(metrics).not.toContain('route="admin"');
      await nothingStored(hub);
    });

    it('posted to the hub’s public name: the hook is taken, the API under that name is refused', async () => {
      const { hub, server } = await start(backend);
      const r = await post(server, '/hooks/am', JSON.stringify(fixture('firing')), {
        ...bearer(HOOK_TOKEN),
        host: 'hub.example.com',
      });
      expect(r.status).toBe(202);
      await waitFor(() => hub.emulator!.messages(OPS).find((m) => m.text.includes('DiskFull')));
      const api = await request(`${server.url}/v1/health`, { headers: { host: 'hub.example.com' } });
      await api.body.text();
      expect(api.statusCode).toBe(403);
    });
  });
}
