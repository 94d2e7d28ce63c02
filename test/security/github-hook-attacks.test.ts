/**
 * Attacks on a GitHub route (`POST /hooks/github`) over a real socket against a hub on the emulator. GitHub signs
 * the raw body with the webhook's secret (`X-Hub-Signature-256: sha256=<hex>`); that signature is the only gate,
 * checked in constant time over the exact bytes. Each attack is run as an attacker would and must end in a clear
 * 4xx (or, for a replay, a 200 `duplicate`) with nothing stored or sent, counted in /metrics:
 *
 * - a body changed under a valid signature; a signature made with another secret; no signature; only GitHub's
 *   legacy SHA-1 header (`X-Hub-Signature`), which the hub does not accept;
 * - a replayed delivery (same `X-GitHub-Delivery`, GitHub's "Redeliver" or a captured request): 200 duplicate,
 *   the message sent once;
 * - a body over the route's cap; a signed body that is not JSON, or lacks a field used (the 400 names it); no
 *   delivery id;
 * - a captured delivery replayed once the hub has forgotten its id (GitHub's signature has no time): the event's
 *   own time is older than the dedupe window, 400 `stale_delivery`;
 * - markdown written by anyone on GitHub (a pull request's title): no image for the clients to fetch, no link;
 * - an event the hub does not handle: 200 ignored, nothing stored.
 */

import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import { signHook } from '../../src/hub/gateways/auth.js';
import { githubAuth } from '../../src/hub/gateways/config.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { backends } from '../conformance/backends.js';
import { GITHUB_SECRET, ghFixture, githubConfig } from '../e2e/github-support.js';
import { OPS, startTestHub, waitFor } from '../e2e/hub-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function start(backend: (typeof backends)[number]) {
  const f = await startTestHub(backend, { config: githubConfig() });
  cleanups.push(() => f.cleanup());
  const server: ApiServer = await createApiServer(f.hub, {
    tokens: new StoreTokenVerifier(new MemoryApiTokenStore(), { ttlMs: 0 }),
    metrics: f.hub.metrics,
    hooks: f.hub.gateways,
  });
  cleanups.push(() => server.close());
  return { hub: f.hub, server };
}

const sign = (raw: string | Buffer, secret = GITHUB_SECRET) => signHook(githubAuth(secret), raw);

async function post(
  server: ApiServer,
  raw: string | Buffer,
  headers: Record<string, string>,
): Promise<{
  status: number;
  text: string;
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const r = await request(`${server.url}/hooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-delivery': randomUUID(), ...headers },
    body: raw,
  });
  const text = await r.body.text();
  return { status: r.statusCode, text, json: text ? JSON.parse(text) : {} };
}

async function nothingStored(hub: RunningHub<Emulator>): Promise<void> {
  const db = hub.store.db;
  expect(await db.selectFrom('hook_requests').selectAll().execute()).toEqual([]);
  expect(await db.selectFrom('hook_items').selectAll().execute()).toEqual([]);
  expect(await db.selectFrom('messages').select('id').execute()).toEqual([]);
  expect(await db.selectFrom('tasks').select('id').execute()).toEqual([]);
  expect(hub.emulator!.messages(OPS)).toEqual([]);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`GitHub route under attack (${backend.name})`, () => {
    it('signatures: tampered body, another secret, none, legacy SHA-1 only → 401; nothing stored; the secret never echoed', async () => {
      const { hub, server } = await start(backend);
      const raw = JSON.stringify(ghFixture('issues.assigned'));
      const ev = { 'x-github-event': 'issues' };
      // An attacker who captured a signed delivery changes the assignee and keeps the signature.
      const tampered = raw.replace('"login": "zs-octo"', '"login": "ls-octo"').replace('zs-octo', 'ls-octo');
      expect(tampered).not.toBe(raw);
      const a = await post(server, tampered, { ...ev, ...sign(raw) });
      expect([a.status, a.json.error?.code]).toEqual([401, 'bad_signature']);
      const b = await post(server, raw, { ...ev, ...sign(raw, 'another-secret-0123456789abcdef') });
      expect([b.status, b.json.error?.code]).toEqual([401, 'bad_signature']);
      const c = await post(server, raw, ev);
      expect([c.status, c.json.error?.code]).toEqual([401, 'missing_signature']);
      const legacy = `sha1=${'0'.repeat(40)}`;
      const d = await post(server, raw, { ...ev, 'x-hub-signature': legacy });
      expect([d.status, d.json.error?.code]).toEqual([401, 'missing_signature']);
      // The signature made with the right secret but sent bare (no `sha256=`) is not the header GitHub sends.
      const bare = sign(raw)['x-hub-signature-256']!.replace('sha256=', '');
      const e = await post(server, raw, { ...ev, 'x-hub-signature-256': bare });
      expect([e.status, e.json.error?.code]).toEqual([401, 'bad_signature']);
      for (const r of [a, b, c, d, e]) expect(r.text).not.toContain(GITHUB_SECRET);
      await nothingStored(hub);
      expect(hub.metrics.render()).toContain(
        'dingkit_hook_requests_total{result="unauthorized",route="github"} 5',
      );
    });

    it('a replayed X-GitHub-Delivery → 200 duplicate, the message sent once', async () => {
      const { hub, server } = await start(backend);
      const raw = JSON.stringify(ghFixture('pull_request.review_requested'));
      const h = { 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), ...sign(raw) };
      const first = await post(server, raw, h);
      expect(first.status).toBe(202);
      for (let i = 0; i < 3; i++) {
        const again = await post(server, raw, h);
        expect(again.status).toBe(200);
        expect(again.json).toMatchObject({ accepted: true, duplicate: true });
      }
      await waitFor(() => hub.emulator!.messages(OPS).find((m) => m.text.includes('#1347')));
      await waitFor(async () => (await hub.gateways!.hooks.counts())['pending'] === undefined);
      expect(hub.emulator!.messages(OPS).filter((m) => m.text.includes('#1347'))).toHaveLength(1);
      expect(await hub.store.db.selectFrom('hook_requests').selectAll().execute()).toHaveLength(1);
      expect(hub.metrics.render()).toContain(
        'dingkit_hook_requests_total{result="duplicate",route="github"} 3',
      );
    });

    it('oversized, not JSON, a used field missing, no delivery id → 4xx naming the reason; nothing stored', async () => {
      const { hub, server } = await start(backend);
      const ev = { 'x-github-event': 'pull_request' };
      const big = JSON.stringify({
        ...ghFixture('pull_request.review_requested'),
        pad: 'x'.repeat(1_100_000),
      });
      const tooBig = await post(server, big, { ...ev, ...sign(big) });
      expect([tooBig.status, tooBig.json.error?.code]).toEqual([413, 'payload_too_large']);
      const junk = '{"action": "opened", ';
      const notJson = await post(server, junk, { ...ev, ...sign(junk) });
      expect([notJson.status, notJson.json.error?.code]).toEqual([400, 'invalid_json']);
      const body = ghFixture('pull_request.review_requested');
      delete body.pull_request.html_url;
      const missing = JSON.stringify(body);
      const m = await post(server, missing, { ...ev, ...sign(missing) });
      expect([m.status, m.json.error?.code]).toEqual([400, 'invalid_payload']);
      expect(m.json.error?.message).toMatch(/^pull_request\.html_url: /);
      const ok = JSON.stringify(ghFixture('pull_request.review_requested'));
      const r = await request(`${server.url}/hooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ev, ...sign(ok) },
        body: ok,
      });
      const noDelivery = (await r.body.json()) as { error: { code: string } };
      expect([r.statusCode, noDelivery.error.code]).toEqual([400, 'missing_delivery']);
      const noEvent = await post(server, ok, sign(ok));
      expect([noEvent.status, noEvent.json.error?.code]).toEqual([400, 'missing_event']);
      await nothingStored(hub);
      const metrics = hub.metrics.render();
      expect(metrics).toContain('dingkit_hook_requests_total{result="invalid",route="github"} 4');
      expect(metrics).toContain('dingkit_hook_requests_total{result="too_large",route="github"} 1');
    });

    it('a captured delivery replayed after its id is forgotten (older than retention.inboxMs) → 400 stale_delivery', async () => {
      const { hub, server } = await start(backend);
      const eightDays = 8 * 86_400_000;
      const raw = JSON.stringify(ghFixture('issues.assigned', Date.now() - eightDays));
      const old = await post(server, raw, { 'x-github-event': 'issues', ...sign(raw) });
      expect([old.status, old.json.error?.code]).toEqual([400, 'stale_delivery']);
      await nothingStored(hub);
      // Twin: the same delivery from within the window is taken, so it is the age that refused it.
      const fresh = JSON.stringify(ghFixture('issues.assigned', Date.now() - 86_400_000));
      expect((await post(server, fresh, { 'x-github-event': 'issues', ...sign(fresh) })).status).toBe(202);
    });

    it('markdown from strangers (a PR title, a commit message): no image the clients would fetch, no link, no heading', async () => {
      const { hub, server } = await start(backend);
      const body = ghFixture('pull_request.review_requested');
      body.pull_request.title =
        '![px](http://evil.example/p.png) [log in](http://evil.example/login) <img src=x>\n### FAKE';
      const raw = JSON.stringify(body);
      expect((await post(server, raw, { 'x-github-event': 'pull_request', ...sign(raw) })).status).toBe(202);
      const m = await waitFor(() => hub.emulator!.messages(OPS).find((x) => x.text.includes('#1347')));
      expect(m.text).not.toContain('](http://evil.example');
      expect(m.text).not.toContain('<img');
      expect(m.text).not.toContain('FAKE');
      // What was written is still readable.
      expect(m.text).toContain('［log in］(http://evil.example/login)');
      // The hub's own link is still a link.
      expect(m.text).toContain('](https://github.com/octo-org/hello-world/pull/1347)');
    });

    it('an event the hub does not handle → 200 ignored; nothing stored or sent', async () => {
      const { hub, server } = await start(backend);
      const raw = JSON.stringify({ action: 'created', repository: ghFixture('ping').repository });
      const r = await post(server, raw, { 'x-github-event': 'star', ...sign(raw) });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ accepted: true, ignored: true, reason: 'event star' });
      // Even an unhandled event must be signed.
      const unsigned = await post(server, raw, { 'x-github-event': 'star' });
      expect(unsigned.status).toBe(401);
      await nothingStored(hub);
    });
  });
}
