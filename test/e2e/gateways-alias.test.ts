/**
 * prometheus-webhook-dingtalk's old URL, `POST /dingtalk/<target>/send`, served by the route `dingkit import` made
 * for that target, over a real socket (the alias trusts the TCP peer, so the test needs real peers: 127.0.0.1 is the
 * allowed Alertmanager, 127.0.0.2 a foreign caller on the same loopback). An Alertmanager body with no credentials
 * from the allowed address reaches the emulator's group with the target's @all; the foreign caller gets 401 and
 * nothing is stored or sent, unless it has the route's token. SQLite and PostgreSQL.
 */

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPrometheusWebhookDingtalk } from '../../src/cli/import/prometheus-webhook-dingtalk.js';
import { createApiServer } from '../../src/server/api-server.js';
import { amBody, fixture } from './gateways-support.js';
import { backends, noTokens, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const TOKEN = 'imported-hook-token-0123456789abcdef';
const ALERTMANAGER = '127.0.0.1';
const STRANGER = '127.0.0.2';

/** The imported route of target `ops-critical` (with @all), sent to the demo's ops group instead of its own robot. */
function config(allowFrom: string[]) {
  const source = readFileSync(
    join(import.meta.dirname, '..', 'fixtures', 'prometheus-webhook-dingtalk', 'config.yml'),
    'utf8',
  );
  const imported = importPrometheusWebhookDingtalk(source, { allowFrom, token: () => TOKEN });
  const route = imported.config.gateways.routes.find((r) => r.name === 'ops-critical')!;
  return testConfig({
    gateways: {
      flushMs: 20,
      flapWindowMs: 0,
      routes: [{ ...route, auth: { type: 'bearer', token: TOKEN }, targets: { groups: ['ops'] } }],
    },
  });
}

interface Answer {
  status: number;
  body: { error?: { code: string }; accepted?: boolean };
}

/** A POST from a chosen local address (the server sees it as the peer). */
function post(port: number, path: string, body: unknown, from: string, headers: Record<string, string> = {}) {
  const raw = Buffer.from(JSON.stringify(body));
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': String(raw.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

async function start(backend: (typeof backends)[number], allowFrom: string[]) {
  const f = await startTestHub(backend, { config: config(allowFrom) });
  const server = await createApiServer(f.hub, {
    tokens: noTokens,
    metrics: f.hub.metrics,
    hooks: f.hub.gateways,
  });
  return {
    f,
    port: server.port,
    rows: async () => (await f.hub.store.db.selectFrom('hook_requests').select('dedup_key').execute()).length,
    async cleanup() {
      await server.close();
      await f.cleanup();
    },
  };
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`the prometheus-webhook-dingtalk alias (${backend.name})`, () => {
    it('the allowed Alertmanager posts without credentials and reaches the group with @all; a stranger gets 401', async () => {
      const s = await start(backend, [ALERTMANAGER]);
      try {
        const path = '/dingtalk/ops-critical/send';
        const stranger = await post(s.port, path, fixture('firing'), STRANGER);
        expect(stranger.status).toBe(401);
        expect(stranger.body.error?.code).toBe('missing_credentials');
        // A forged forwarding header changes nothing: the peer is the socket's.
        const forged = await post(s.port, path, fixture('firing'), STRANGER, {
          'x-forwarded-for': ALERTMANAGER,
        });
        expect(forged.status).toBe(401);
        expect(await s.rows()).toBe(0);

        // Under the hub's public name, as Alertmanager posts it: the alias is exempt from the Host check like /hooks/.
        const ok = await post(s.port, path, fixture('firing'), ALERTMANAGER, { host: 'alerts.example.com' });
        expect(ok.status).toBe(202);
        // Twin: the API under that name is refused, so the exemption is what let the alias through.
        const api = await post(s.port, '/v1/messages', {}, ALERTMANAGER, { host: 'alerts.example.com' });
        expect(api.status).toBe(403);
        expect(api.body.error?.code).toBe('host_not_allowed');
        const m = await waitFor(() =>
          s.f.hub.emulator!.messages(OPS).find((x) => x.text.includes('DiskFull')),
        );
        expect(m.text).toContain('FIRING');
        // mention.all of the old target → mentions.always: [all].
        expect(m.isAtAll).toBe(true);

        // The stranger with the route's token is let in (credentials work on the alias as on /hooks/<name>).
        const withToken = await post(
          s.port,
          path,
          amBody([{ name: 'Other', fp: 'f-other' }], 'g-other'),
          STRANGER,
          { authorization: `Bearer ${TOKEN}` },
        );
        expect(withToken.status).toBe(202);
        // The allow-list is the alias's alone: /hooks/<name> from the same address still needs the token.
        const hooks = await post(
          s.port,
          '/hooks/ops-critical',
          amBody([{ name: 'X', fp: 'f-x' }], 'g-x'),
          ALERTMANAGER,
        );
        expect(hooks.status).toBe(401);
        // An unknown target is the hooks' 404.
        const unknown = await post(s.port, '/dingtalk/webhook1/send', fixture('firing'), ALERTMANAGER);
        expect(unknown.status).toBe(404);
        expect(unknown.body.error?.code).toBe('unknown_hook');
        expect(await s.rows()).toBe(2);
        await waitFor(() => s.f.hub.emulator!.messages(OPS).find((x) => x.text.includes('Other')));
        expect(s.f.hub.emulator!.messages(OPS).filter((x) => x.text.includes('FIRING'))).toHaveLength(2);
      } finally {
        await s.cleanup();
      }
    });

    it('twin: with no allowFrom, the same caller without credentials is refused, and nothing is sent', async () => {
      const s = await start(backend, []);
      try {
        const r = await post(s.port, '/dingtalk/ops-critical/send', fixture('firing'), ALERTMANAGER);
        expect(r.status).toBe(401);
        expect(await s.rows()).toBe(0);
        await s.f.hub.gateways!.flush();
        expect(s.f.hub.emulator!.messages(OPS).some((x) => x.text.includes('DiskFull'))).toBe(false);
      } finally {
        await s.cleanup();
      }
    });
  });
}
