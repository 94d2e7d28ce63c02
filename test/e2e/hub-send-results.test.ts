/**
 * Send results end to end (docs/hub.md "Send results"): a real hub against the emulator, whose work notices drop
 * recipients as DingTalk does (docs/dingtalk.md §5.2: the same content to the same person twice a day → 143106,
 * the daily cap → 143105, an unknown user → the invalid list), on SQLite and PostgreSQL. The hub must ask for each
 * send's result, record every recipient's outcome, show the drops (API, metrics) and send the configured fallback
 * exactly once. The twin turns the checker off and shows the same drop staying invisible.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
import type { DeliveryDetail } from '../../src/hub/service.js';
import { backends, ENG, type HubFixture, hubApi, startTestHub, testConfig, waitFor } from './hub-helpers.js';

/** Fast questions: the first 40 ms after a send, then every 40..160 ms, within a 20 s window, 200 a second. */
const FAST = {
  firstCheckMs: 40,
  maxIntervalMs: 160,
  windowMs: 20_000,
  pollMs: 20,
  budget: { limit: 200, windowMs: 1_000 },
};

async function sendNotice(hub: RunningHub<Emulator>, person: string, text: string): Promise<string> {
  const r = await hub.sendMessage({ to: [person], via: 'notice', text }, { by: 't' });
  expect(r.deliveries).toHaveLength(1);
  return r.deliveries[0]!.id;
}

/** The delivery once every recipient's outcome satisfies `ok`. */
async function settledDetail(
  hub: RunningHub<Emulator>,
  id: string,
  ok: (d: DeliveryDetail) => boolean,
): Promise<DeliveryDetail> {
  return waitFor(
    async () => {
      const d = await hub.getDelivery(id);
      return d && d.people.length > 0 && ok(d) ? d : undefined;
    },
    8_000,
    `delivery ${id}'s recipients`,
  );
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`send results of work notices (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({ notices: { ...FAST, droppedFallback: 'app-robot', groupReads: true } }),
        emulator: { limits: { noticeDailyCap: 3 } },
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('the same notice twice a day: the second is dropped 143106, shown as such, and the fallback goes once', async () => {
      const { hub } = f;
      const first = await sendNotice(hub, 'lisi', 'standup moved to 10:30');
      // The second is sent only once DingTalk has the first: two accepted together may reach it in either order
      // (the dispatcher sends in parallel), and then the first would be the one dropped.
      await waitFor(async () => (await hub.getDelivery(first))?.status === 'sent');
      const second = await sendNotice(hub, 'lisi', 'standup moved to 10:30');
      const a = await settledDetail(hub, first, (d) => d.people[0]!.outcome === 'delivered');
      expect(a.people).toMatchObject([{ userId: 'lisi', outcome: 'delivered' }]);
      expect(a.status).toBe('sent');
      const b = await settledDetail(hub, second, (d) => d.people[0]!.outcome === 'dropped');
      expect(b.status).toBe('sent');
      expect(b.recipients).toEqual({ pending: 0, delivered: 0, read: 0, dropped: 1 });
      expect(b.people[0]).toMatchObject({ userId: 'lisi', reasonCode: '143106' });
      expect(b.people[0]!.reason).toMatch(/same content/);
      // A drop is final: no more questions about it.
      expect(b.check).toMatchObject({ kind: 'notice' });
      await waitFor(async () => (await hub.getDelivery(second))?.check?.doneAt);

      // The fallback: the same text, 1:1 from the app robot, once, linked to the dropped delivery.
      const fb = b.people[0]!.fallbackDeliveryId;
      expect(fb).toBeDefined();
      const fallback = await waitFor(async () => {
        const d = await hub.getDelivery(fb!);
        return d?.status === 'sent' ? d : undefined;
      });
      expect(fallback.channel).toBe('app');
      const oto = () =>
        hub.emulator!.messages('oto:lisi').filter((m) => m.text.includes('standup moved to 10:30'));
      await waitFor(() => oto().length === 1);
      // More rounds, by this checker and by a second one on the same store: still one fallback.
      await hub.results.runOnce();
      await hub.results.runOnce();
      expect(oto()).toHaveLength(1);
      const fallbacks = await f.store.db
        .selectFrom('messages')
        .select('id')
        .where('kind', '=', 'fallback')
        .execute();
      expect(fallbacks).toHaveLength(1);

      // Visible: the API's filter, its detail, and /metrics.
      const api = await hubApi(hub, ['read']);
      const list = (await (await api.call('GET', '/v1/deliveries?dropped=true')).json()) as {
        deliveries: Array<{ id: string; recipients?: { dropped: number } }>;
      };
      expect(list.deliveries.map((d) => d.id)).toContain(second);
      expect(list.deliveries.map((d) => d.id)).not.toContain(first);
      const one = await api.call('GET', `/v1/deliveries/${second}`);
      expect(one.status).toBe(200);
      const body = (await one.json()) as DeliveryDetail;
      expect(body.people[0]).toMatchObject({ outcome: 'dropped', reasonCode: '143106' });
      expect((await api.call('GET', '/v1/deliveries/999999')).status).toBe(404);
      expect((await api.call('GET', '/v1/deliveries/not%20an%20id')).status).toBe(400);
      expect((await api.call('GET', '/v1/deliveries?dropped=yes')).status).toBe(400);
      expect(hub.metrics.render()).toMatch(
        /dingkit_send_recipients_total\{channel="notice",outcome="dropped",reason="143106"\} 1\b/,
      );
    });

    it('over the daily cap: one of four notices of the day is dropped 143105, the others delivered', async () => {
      const { hub } = f;
      const ids: string[] = [];
      for (let i = 1; i <= 4; i++) ids.push(await sendNotice(hub, 'zhangsan', `report ${i} is ready`));
      // The four go out in parallel, so which one DingTalk counts fourth is whichever arrived last.
      const all = await Promise.all(
        ids.map((id) => settledDetail(hub, id, (d) => d.people[0]!.outcome !== 'pending')),
      );
      const dropped = all.filter((d) => d.people[0]!.outcome === 'dropped');
      expect(dropped).toHaveLength(1);
      expect(dropped[0]!.people[0]).toMatchObject({ userId: 'zhangsan', reasonCode: '143105' });
      expect(dropped[0]!.people[0]!.reason).toMatch(/daily cap/);
      expect(all.filter((d) => d.people[0]!.outcome === 'delivered')).toHaveLength(3);
    });

    it('an unknown user: dropped as invalid_user, and no fallback (the app robot would not reach them)', async () => {
      const { hub } = f;
      // DingTalk no longer knows wangwu (left the org); the hub's directory still does.
      hub.emulator!.state.users.delete('wangwu');
      const id = await sendNotice(hub, 'wangwu', 'welcome back');
      const d = await settledDetail(hub, id, (x) => x.people[0]!.outcome === 'dropped');
      expect(d.people[0]).toMatchObject({ userId: 'wangwu', reasonCode: 'invalid_user' });
      expect(d.people[0]!.fallbackDeliveryId).toBeUndefined();
      expect(hub.emulator!.messages('oto:wangwu').filter((m) => m.text.includes('welcome back'))).toEqual([]);
    });

    it('read once the person opens it in the emulated client', async () => {
      const { hub } = f;
      const id = await sendNotice(hub, 'alice', 'the release notes are out');
      await settledDetail(hub, id, (d) => d.people[0]!.outcome === 'delivered');
      const taskId = (await hub.getDelivery(id))!.remoteId!;
      // What the client page posts when alice opens her work notices.
      const r = await fetch(`${hub.emulator!.url}/_emulator/notices/${taskId}/read`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: hub.emulator!.url },
        body: JSON.stringify({ by: 'alice' }),
      });
      expect(r.status).toBe(200);
      const d = await settledDetail(hub, id, (x) => x.people[0]!.outcome === 'read');
      expect(d.recipients).toMatchObject({ read: 1, delivered: 0 });
      // Read is final: the questions stop.
      await waitFor(async () => (await hub.getDelivery(id))?.check?.doneAt);
    });

    it('DingTalk refusing the question (throttled) is recorded without a secret and asked again later', async () => {
      const { hub } = f;
      hub.emulator!.setFaults({
        rules: [{ route: 'POST /topapi/message/corpconversation/getsendresult', throttle: 1 }],
      });
      try {
        const id = await sendNotice(hub, 'bob', 'the build is green');
        const failed = await waitFor(async () => {
          const d = await hub.getDelivery(id);
          return d?.check?.lastError ? d : undefined;
        });
        expect(failed.check!.lastError).toMatch(/90018|throttl|limit/i);
        expect(failed.check!.nextAt).toBeDefined();
        expect(failed.people).toMatchObject([{ userId: 'bob', outcome: 'pending' }]);
        const stored = JSON.stringify(await f.store.db.selectFrom('send_checks').selectAll().execute());
        expect(stored).not.toMatch(/access_token=(?!\[)/);
        expect(stored).not.toContain(hub.config.apps['hub']!.appSecret);
        expect(hub.metrics.render()).toMatch(
          /dingkit_send_checks_total\{kind="notice",result="error"\} [1-9]/,
        );
        hub.emulator!.setFaults({ rules: [] });
        const ok = await settledDetail(hub, id, (d) => d.people[0]!.outcome === 'delivered');
        expect(ok.check?.lastError).toBeUndefined();
      } finally {
        hub.emulator!.setFaults({ rules: [] });
      }
    });

    it('an app-robot 1:1 message: delivered, then read when the person reads it', async () => {
      const { hub } = f;
      const r = await hub.sendMessage({ to: ['bob'], text: 'coffee at 3?' }, { by: 't' });
      const id = r.deliveries[0]!.id;
      await settledDetail(hub, id, (d) => d.people[0]!.outcome === 'delivered');
      const m = hub.emulator!.messages('oto:bob').find((x) => x.text.includes('coffee at 3?'))!;
      hub.emulator!.markRead(m.seq, 'bob');
      const d = await settledDetail(hub, id, (x) => x.people[0]!.outcome === 'read');
      expect(d.check?.kind).toBe('oto');
    });

    it('an app-robot group message (groupReads): its readers, and nobody else, as DingTalk lists them', async () => {
      const { hub } = f;
      const r = await hub.sendMessage({ group: 'engineering', text: 'retro at 4' }, { by: 't' });
      const id = r.deliveries[0]!.id;
      const m = await waitFor(() => hub.emulator!.messages(ENG).find((x) => x.text.includes('retro at 4')));
      hub.emulator!.markRead(m.seq, 'alice');
      const d = await settledDetail(hub, id, (x) => x.people.some((p) => p.userId === 'alice'));
      expect(d.people).toMatchObject([{ userId: 'alice', outcome: 'read' }]);
      expect(d.check?.kind).toBe('group');
    });
  });

  describe.skipIf(backend.skip)(`twin: no send-result checker (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({ notices: { ...FAST, checkResults: false, droppedFallback: 'app-robot' } }),
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('the same duplicate notice is dropped by DingTalk, yet the hub shows only `sent` and sends no fallback', async () => {
      const { hub } = f;
      await sendNotice(hub, 'lisi', 'standup moved to 10:30');
      const second = await sendNotice(hub, 'lisi', 'standup moved to 10:30');
      // DingTalk (the emulator) did drop it...
      await waitFor(() => hub.emulator!.notices('lisi').some((n) => n.forbiddenCode === 143106));
      await waitFor(async () => (await hub.getDelivery(second))?.status === 'sent');
      // ...and the hub cannot tell: a few rounds of the (off) checker later, nothing is known.
      await hub.results.runOnce();
      const d = (await hub.getDelivery(second))!;
      expect(d.people).toEqual([]);
      expect(d.recipients).toBeUndefined();
      expect(await hub.listDeliveries({ dropped: true })).toEqual([]);
      expect(hub.emulator!.messages('oto:lisi')).toEqual([]);
    });
  });
}
