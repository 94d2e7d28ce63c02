/**
 * Parked deliveries through the HTTP API over the real hub (store, dispatcher, emulator), on SQLite and PostgreSQL:
 * an app-robot group send cut off after DingTalk read it has an unknown outcome and is parked; an admin reads its
 * evidence and settles it (mark-sent, redrive, drop), the decision is recorded and shown, a second operator is
 * refused with the decision that stands, tokens that may not are refused, and `/metrics` counts it all.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { backends, ENG, type HubApi, type HubFixture, hubApi, startTestHub, waitFor } from './hub-helpers.js';

const APP_GROUP_SEND = 'POST /v1.0/robot/groupMessages/send';

async function parkedSend(hub: RunningHub<Emulator>, text: string): Promise<string> {
  const emu = hub.emulator!;
  emu.setFaults({ rules: [{ route: APP_GROUP_SEND, resetAfter: 1, acceptFirst: 0 }] });
  try {
    const r = await hub.sendMessage({ group: 'engineering', text }, { by: 't' });
    return await waitFor(
      async () => {
        const d = (await hub.getMessage(r.messageId))?.deliveries[0];
        return d?.status === 'parked' ? d.id : undefined;
      },
      10_000,
      `"${text}" parked`,
    );
  } finally {
    emu.setFaults({ rules: [] });
  }
}

const metric = async (api: HubApi, line: RegExp) => {
  const text = await (await api.call('GET', '/metrics')).text();
  return text.split('\n').find((l) => line.test(l));
};

for (const backend of backends) {
  describe.skipIf(backend.skip)(`parked deliveries over the API (${backend.name})`, () => {
    let f: HubFixture;
    let admin: HubApi;
    let other: HubApi;
    beforeAll(async () => {
      f = await startTestHub(backend);
      admin = await hubApi(f.hub, ['admin']);
      other = await hubApi(f.hub, ['admin']);
    }, 60_000);
    afterAll(async () => {
      await f?.cleanup();
    });

    it('shows the evidence; mark-sent is recorded once, a second operator gets 409 with the decision that won', async () => {
      const { hub } = f;
      const id = await parkedSend(hub, 'did this arrive? <b>bold</b>');
      const ev = await admin.call('GET', `/v1/deliveries/${id}`);
      expect(ev.status).toBe(200);
      const e = (await ev.json()) as Record<string, unknown> & {
        failures: Array<Record<string, unknown>>;
        payload: unknown;
      };
      expect(e).toMatchObject({
        id,
        status: 'parked',
        kind: 'message',
        target: 'engineering',
        decisions: [],
      });
      expect(e['via']).toMatch(/^app:/);
      expect(JSON.stringify(e.payload)).toContain('did this arrive? <b>bold</b>');
      expect(e['parkedAt']).toEqual(e.failures.at(-1)!['at']);
      expect(e.failures.at(-1)).toMatchObject({ action: 'park', outcome: 'unknown' });
      await waitFor(
        async () => (await metric(admin, /^dingkit_deliveries_parked /)) === 'dingkit_deliveries_parked 1',
        5_000,
        'parked gauge at 1',
      );

      const r = await admin.call('POST', `/v1/deliveries/${id}/resolve`, {
        action: 'mark-sent',
        note: 'seen in the group',
      });
      expect(r.status).toBe(200);
      const won = (await r.json()) as { decision: Record<string, unknown>; delivery: { status: string } };
      expect(won).toMatchObject({
        delivery: { status: 'sent' },
        decision: {
          action: 'mark-sent',
          by: 'api:test-caller',
          note: 'seen in the group',
          previousStatus: 'parked',
        },
        duplicate: false,
      });
      // The same request again (a retry): the same decision, nothing new.
      const again = await admin.call('POST', `/v1/deliveries/${id}/resolve`, { action: 'mark-sent' });
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ duplicate: true, decision: won.decision });
      // Another operator, another decision: refused with the one that stands.
      const lost = await other.call('POST', `/v1/deliveries/${id}/resolve`, { action: 'redrive' });
      expect(lost.status).toBe(409);
      expect(await lost.json()).toMatchObject({
        error: { code: 'already_resolved', details: { status: 'sent', decision: won.decision } },
      });
      const shown = (await (await admin.call('GET', `/v1/deliveries/${id}`)).json()) as {
        decisions: unknown[];
      };
      expect(shown.decisions).toEqual([won.decision]);
      await waitFor(
        async () => (await metric(admin, /^dingkit_deliveries_parked /)) === 'dingkit_deliveries_parked 0',
        5_000,
        'parked gauge back at 0',
      );
      expect(await metric(admin, /^dingkit_delivery_decisions_total\{action="mark-sent"\}/)).toBe(
        'dingkit_delivery_decisions_total{action="mark-sent"} 1',
      );
    });

    it('redrive sends it again; drop never does', async () => {
      const { hub } = f;
      const a = await parkedSend(hub, 'send me again');
      const b = await parkedSend(hub, 'forget me');
      const before = hub.emulator!.messages(ENG).length;
      expect((await admin.call('POST', `/v1/deliveries/${a}/resolve`, { action: 'redrive' })).status).toBe(
        200,
      );
      expect((await admin.call('POST', `/v1/deliveries/${b}/resolve`, { action: 'drop' })).status).toBe(200);
      await waitFor(
        () => hub.emulator!.messages(ENG).some((m) => m.text === 'send me again'),
        10_000,
        'the redriven message',
      );
      const status = async (id: string) =>
        ((await (await admin.call('GET', `/v1/deliveries/${id}`)).json()) as { status: string }).status;
      await waitFor(async () => (await status(a)) === 'sent', 5_000, 'redriven delivery sent');
      expect(await status(b)).toBe('cancelled');
      const texts = hub
        .emulator!.messages(ENG)
        .slice(before)
        .map((m) => m.text);
      expect(texts).toContain('send me again');
      expect(texts).not.toContain('forget me');
    });

    it('the bulk redrive records a decision on each parked delivery it moves, and none on one it did not', async () => {
      const { hub } = f;
      const a = await parkedSend(hub, 'bulk one');
      const b = await parkedSend(hub, 'bulk two');
      const r = await admin.call('POST', '/v1/deliveries/redrive', { ids: [a, b, '999999'] });
      expect(await r.json()).toEqual({ moved: 2 });
      for (const id of [a, b]) {
        const shown = (await (await admin.call('GET', `/v1/deliveries/${id}`)).json()) as {
          decisions: Array<Record<string, unknown>>;
        };
        expect(shown.decisions).toEqual([
          expect.objectContaining({ action: 'redrive', by: 'api:test-caller', previousStatus: 'parked' }),
        ]);
      }
      // Moving them again is no decision: they are no longer parked or dead.
      const again = await admin.call('POST', '/v1/deliveries/redrive', { ids: [a] });
      expect(await again.json()).toEqual({ moved: 0 });
      const shownA = (await (await admin.call('GET', `/v1/deliveries/${a}`)).json()) as {
        decisions: unknown[];
      };
      expect(shownA.decisions).toHaveLength(1);
    });

    it('refuses read tokens, bad actions and ids (limited tokens: security/token-limits.test.ts), and answers 404 for an unknown delivery', async () => {
      const { hub } = f;
      const id = await parkedSend(hub, 'hands off');
      const reader = await hubApi(hub, ['read']);
      expect((await reader.call('GET', `/v1/deliveries/${id}`)).status).toBe(200);
      const refused = await reader.call('POST', `/v1/deliveries/${id}/resolve`, { action: 'drop' });
      expect(refused.status).toBe(403);
      expect((await admin.call('POST', `/v1/deliveries/${id}/resolve`, { action: 'delete' })).status).toBe(
        400,
      );
      expect(
        (await admin.call('POST', `/v1/deliveries/${id}/resolve`, { action: 'drop', x: 1 })).status,
      ).toBe(400);
      expect(
        (
          await admin.call('POST', `/v1/deliveries/${id}/resolve`, {
            action: 'drop',
            note: 'x'.repeat(1_001),
          })
        ).status,
      ).toBe(400);
      expect((await admin.call('POST', '/v1/deliveries/abc/resolve', { action: 'drop' })).status).toBe(400);
      expect((await admin.call('GET', '/v1/deliveries/0')).status).toBe(400);
      const missing = await admin.call('POST', '/v1/deliveries/987654/resolve', { action: 'drop' });
      expect(missing.status).toBe(404);
      expect((await admin.call('GET', '/v1/deliveries/987654')).status).toBe(404);
      // Nothing above changed it.
      const e = (await (await admin.call('GET', `/v1/deliveries/${id}`)).json()) as {
        status: string;
        decisions: unknown[];
      };
      expect(e).toMatchObject({ status: 'parked', decisions: [] });
    });
  });
}
