/**
 * Grafana's webhook contact point into DingTalk through a hub on the emulator, signed as Grafana signs it (HMAC-SHA256
 * of "<timestamp>:<body>", hex, in X-Grafana-Alerting-Signature with the time in a header of the operator's choice):
 * firing reaches the rule's group with Grafana's links and the owner @mentioned, resolved replies referring to it,
 * a retry is one delivery. Attacks: a wrong or '.'-joined signature, a malformed body → 4xx and nothing stored.
 * SQLite and PostgreSQL.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signHook } from '../../src/hub/gateways/auth.js';
import { hookApp } from './gateways-support.js';
import { backends, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const SECRET = 'grafana-hmac-secret-0123456789';
const AUTH = {
  type: 'hmac' as const,
  secret: SECRET,
  header: 'X-Grafana-Alerting-Signature',
  timestampHeader: 'X-Grafana-Alerting-Timestamp',
  timestampSeparator: ':' as const,
};
const SIGNER = {
  ...AUTH,
  header: 'x-grafana-alerting-signature',
  timestampHeader: 'x-grafana-alerting-timestamp',
  algorithm: 'sha256' as const,
  encoding: 'hex' as const,
  prefix: '',
  toleranceMs: 300_000,
};

const fixture = (n: string) =>
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'grafana', `${n}.json`), 'utf8');

function config() {
  return testConfig({
    gateways: {
      flushMs: 20,
      flapWindowMs: 0,
      routes: [
        {
          name: 'grafana',
          kind: 'grafana',
          auth: AUTH,
          rules: [{ match: { severity: 'critical' }, targets: { groups: ['ops'] } }],
        },
      ],
    },
  });
}

/** Grafana's headers for this exact text: no bearer (hookApp adds one by default; Grafana sends none here). */
function signed(raw: string, separator: ':' | '.' = ':', at = Math.floor(Date.now() / 1000)) {
  return { authorization: '', ...signHook({ ...SIGNER, timestampSeparator: separator }, raw, at) };
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`Grafana hooks (${backend.name})`, () => {
    it('firing → the group with Grafana’s links and the owner @mentioned; resolved → a reply; a retry is one delivery', async () => {
      const f = await startTestHub(backend, { config: config() });
      try {
        const { post } = hookApp(f.hub);
        const firing = fixture('firing');
        const r = await post('/hooks/grafana', firing, signed(firing));
        expect(r.status).toBe(202);
        expect(await r.json()).toMatchObject({ accepted: true, items: 1, routed: 1 });
        const fired = await waitFor(() =>
          f.hub.emulator!.messages(OPS).find((m) => m.text.includes('HighMemoryUsage')),
        );
        expect(fired.text).toContain('FIRING');
        expect(fired.text).toContain('Memory on web-2 above 90%');
        expect(fired.text).toContain('Values: B=93.4, C=1');
        expect(fired.text).toContain('[dashboard](http://grafana.example:3000/d/node-overview?orgId=1)');
        expect(fired.text).toContain(
          '[panel](http://grafana.example:3000/d/node-overview?orgId=1&viewPanel=4)',
        );
        expect(fired.atUserIds).toEqual(['zhangsan']);

        // Grafana retries a notification it thinks failed: newly signed, same content → one delivery.
        const retry = await post('/hooks/grafana', firing, signed(firing));
        expect(await retry.json()).toMatchObject({ duplicate: true });

        const resolved = fixture('resolved');
        expect((await post('/hooks/grafana', resolved, signed(resolved))).status).toBe(202);
        const reply = await waitFor(() =>
          f.hub.emulator!.messages(OPS).find((m) => m.text.includes('RESOLVED')),
        );
        expect(reply.text).toContain('HighMemoryUsage');
        expect(reply.text).toMatch(/re: the alert posted at \d{4}-\d\d-\d\d \d\d:\d\d/);
        await f.hub.gateways!.flush();
        expect(f.hub.emulator!.messages(OPS).filter((m) => m.text.includes('HighMemoryUsage'))).toHaveLength(
          2,
        );
      } finally {
        await f.cleanup();
      }
    });

    it('attacks: unsigned, a wrong secret, the "." scheme, a moved timestamp, malformed → 4xx, nothing stored', async () => {
      const f = await startTestHub(backend, { config: config() });
      try {
        const { post } = hookApp(f.hub);
        const firing = fixture('firing');
        const at = Math.floor(Date.now() / 1000);
        const wrong = signHook({ ...SIGNER, secret: `${SECRET}x` }, firing, at);
        const moved = { ...signed(firing, ':', at), 'x-grafana-alerting-timestamp': String(at + 1) };
        const cases: Array<[Record<string, string>, number, string]> = [
          [{ authorization: '' }, 401, 'missing_signature'],
          [{ authorization: '', ...wrong }, 401, 'bad_signature'],
          [signed(firing, '.', at), 401, 'bad_signature'],
          [moved, 401, 'bad_signature'],
        ];
        for (const [headers, status, code] of cases) {
          const r = await post('/hooks/grafana', firing, headers);
          expect(r.status).toBe(status);
          expect(await r.json()).toMatchObject({ error: { code } });
        }
        // Signed but malformed: the 400 names the field.
        const bad = JSON.parse(firing);
        bad.alerts[0].status = 'pending';
        const badRaw = JSON.stringify(bad);
        const r = await post('/hooks/grafana', badRaw, signed(badRaw));
        expect(r.status).toBe(400);
        expect(await r.json()).toMatchObject({
          error: { code: 'invalid_payload', message: /^alerts\.0\.status: / },
        });
        // An Alertmanager body on the Grafana route is refused, not half-read.
        const am = JSON.stringify({ ...JSON.parse(firing), version: '4' });
        expect((await post('/hooks/grafana', am, signed(am))).status).toBe(400);

        const db = f.hub.store.db;
        expect(await db.selectFrom('hook_requests').selectAll().execute()).toEqual([]);
        expect(await db.selectFrom('hook_items').selectAll().execute()).toEqual([]);
        await f.hub.gateways!.flush();
        expect(f.hub.emulator!.messages(OPS).some((m) => m.text.includes('HighMemoryUsage'))).toBe(false);
        // Twin: the same request correctly signed is taken, so the refusals above were the signature's doing.
        expect((await post('/hooks/grafana', firing, signed(firing))).status).toBe(202);
        expect(await db.selectFrom('hook_requests').selectAll().execute()).toHaveLength(1);
      } finally {
        await f.cleanup();
      }
    });
  });
}
