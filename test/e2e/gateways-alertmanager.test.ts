/**
 * Alertmanager into DingTalk through a hub on the emulator: a firing alert reaches the group its rule names, with
 * its owner @mentioned; the resolved one replies referring to it; a resend is one delivery; the rules route by
 * labels. SQLite and PostgreSQL.
 */

import { describe, expect, it } from 'vitest';
import { amBody, fixture, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, ENG, OPS, startTestHub, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`Alertmanager hooks (${backend.name})`, () => {
    it('firing → the rule’s group with the owner @mentioned; resolved → a reply that refers to it', async () => {
      const f = await startTestHub(backend, { config: gatewayConfig() });
      try {
        const { post } = hookApp(f.hub);
        const r = await post('/hooks/am', fixture('firing'));
        expect(r.status).toBe(202);
        expect(await r.json()).toMatchObject({ accepted: true, duplicate: false, items: 1, routed: 1 });
        const fired = await waitFor(() =>
          f.hub.emulator!.messages(OPS).find((m) => m.text.includes('DiskFull')),
        );
        expect(fired.text).toContain('FIRING');
        expect(fired.text).toContain('Disk on db-1 is 95% full');
        // owner: 张三 is in the directory: a real mention (custom robot, docs/dingtalk.md §2.5).
        expect(fired.atUserIds).toEqual(['zhangsan']);
        expect(fired.text).toContain('@zhangsan');
        expect(fired.isAtAll).toBe(false);

        const again = await post('/hooks/am', fixture('firing'));
        expect(again.status).toBe(200);
        expect(await again.json()).toMatchObject({ duplicate: true });

        const res = await post('/hooks/am', fixture('resolved'));
        expect(res.status).toBe(202);
        const resolved = await waitFor(() =>
          f.hub.emulator!.messages(OPS).find((m) => m.text.includes('RESOLVED')),
        );
        expect(resolved.text).toContain('DiskFull');
        expect(resolved.text).toMatch(/re: the alert posted at \d{4}-\d\d-\d\d \d\d:\d\d/);
        // Exactly the two: the resend of the firing one sent nothing.
        expect(f.hub.emulator!.messages(OPS).filter((m) => m.text.includes('DiskFull'))).toHaveLength(2);
        const metrics = f.hub.metrics.render();
        expect(metrics).toContain('dingkit_hook_requests_total{result="accepted",route="am"} 2');
        expect(metrics).toContain('dingkit_hook_requests_total{result="duplicate",route="am"} 1');
      } finally {
        await f.cleanup();
      }
    });

    it('rules route by labels: regex to engineering, an unknown owner is written as text, @all only where allowed', async () => {
      // Engineering is served by the app robot: markdown here, its alert cards in gateways-cards.test.ts.
      const f = await startTestHub(backend, { config: gatewayConfig({ cards: { enabled: false } }) });
      try {
        const { post } = hookApp(f.hub);
        const web = amBody([
          {
            name: 'WebSlow',
            fp: 'f-web',
            labels: { severity: 'warning', service: 'web-frontend', owner: '王二麻, all' },
          },
        ]);
        expect((await post('/hooks/am', web)).status).toBe(202);
        const m = await waitFor(() => f.hub.emulator!.messages(ENG).find((x) => x.text.includes('WebSlow')));
        expect(m.text).toContain('王二麻');
        // Not a critical alert: its rule does not allow @all, so "all" is only text.
        expect(m.isAtAll).toBe(false);
        expect(f.hub.emulator!.messages(OPS).some((x) => x.text.includes('WebSlow'))).toBe(false);

        const crit = amBody([{ name: 'DbDown', fp: 'f-db', labels: { owner: 'all' } }], 'g2');
        expect((await post('/hooks/am', crit)).status).toBe(202);
        const c = await waitFor(() => f.hub.emulator!.messages(OPS).find((x) => x.text.includes('DbDown')));
        expect(c.isAtAll).toBe(true);

        // Matching no rule and the route has no targets of its own: accepted, counted, sent nowhere.
        const none = amBody([{ name: 'Quiet', fp: 'f-q', labels: { severity: 'info' } }], 'g3');
        const r = await post('/hooks/am', none);
        expect(await r.json()).toMatchObject({ routed: 0, unrouted: 1 });
        expect(f.hub.metrics.render()).toContain('dingkit_hook_items_total{outcome="unrouted",route="am"} 1');
      } finally {
        await f.cleanup();
      }
    });
  });
}
