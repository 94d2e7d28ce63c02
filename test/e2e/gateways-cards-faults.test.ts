/**
 * An alert card's update through the outbox's faults: the card's create fails (5xx) while the alert resolves, so the
 * update is queued behind a create that has not reached DingTalk; then the update itself fails once. The order key
 * holds the update until the create is through, and the retry lands it: one card, resolved. The in-flight gate
 * would also hold the resolve back until the create is sent, so it is opened here (`maxInFlight: 10`) to leave the
 * order key as the only protection.
 *
 * Twin: the same run with the update's order key removed (the stored row's `order_key` nulled while the create is
 * failing): the update goes out before the card exists, DingTalk refuses it (§10: no such outTrackId), and the card
 * stays "firing" for an alert that resolved. SQLite and PostgreSQL.
 */

import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import { alertCards, amBody, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, ENG, type HubFixture, startTestHub, waitFor } from './hub-helpers.js';

const CREATE = 'POST /v1.0/card/instances/createAndDeliver';
const UPDATE = 'PUT /v1.0/card/instances';

function config() {
  const c = gatewayConfig({ flapWindowMs: 0, maxInFlight: 10 });
  return { ...c, dispatcher: { ...c.dispatcher, maxAttempts: 8, retryBaseMs: 100 } };
}

const alert = (status: 'firing' | 'resolved') =>
  amBody(
    [{ name: 'FaultCard', fp: 'fp-fault', status, labels: { severity: 'warning', service: 'web-api' } }],
    'g-fault',
  );

async function cardDeliveries(f: HubFixture) {
  const rows = await f.store.db
    .selectFrom('deliveries')
    .select(['id', 'status', 'attempts', 'order_key', 'payload'])
    .where('target', '=', 'engineering')
    .orderBy('id')
    .execute();
  const of = (t: string) => rows.filter((r) => String(r.payload).includes(`"t":"${t}"`));
  return { create: of('cardCreate')[0], update: of('cardUpdate')[0] };
}

const faultsOn = (emu: Emulator, route: string) => emu.faultLog().filter((x) => x.route === route).length;

/** Fires the alert with the card's create failing, then resolves it; returns once the update is queued. */
async function fireAndResolveWhileCreateFails(f: HubFixture) {
  const emu = f.hub.emulator!;
  const { post } = hookApp(f.hub);
  emu.setFaults({ rules: [{ route: CREATE, error5xx: 1 }] });
  expect((await post('/hooks/am', alert('firing'))).status).toBe(202);
  await waitFor(() => faultsOn(emu, CREATE) >= 1, 10_000, 'a failed create');
  expect((await post('/hooks/am', alert('resolved'))).status).toBe(202);
  return waitFor(async () => (await cardDeliveries(f)).update, 10_000, 'the queued update');
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`alert card updates through faults (${backend.name})`, () => {
    it('a failing create holds the update behind it; an update failing once is retried: one card, resolved', async () => {
      const f = await startTestHub(backend, { config: config() });
      try {
        const emu = f.hub.emulator!;
        const update = await fireAndResolveWhileCreateFails(f);
        const { create } = await cardDeliveries(f);
        expect(update.order_key).toBe(create!.order_key);
        expect(update.order_key).toMatch(/^card:dingkit-alert-am-\d+$/);
        // The create is still failing: the update has not been tried.
        expect(update.attempts).toBe(0);
        // Now the create goes through and the update fails once.
        emu.setFaults({ rules: [{ route: UPDATE, error5xx: 1 }] });
        try {
          await waitFor(() => faultsOn(emu, UPDATE) >= 1, 10_000, 'a failed update');
        } finally {
          emu.setFaults({ rules: [] });
        }
        const card = await waitFor(
          () => alertCards(emu, ENG, 'FaultCard').find((c) => c.cardParamMap['state'] === 'resolved'),
          15_000,
          'the resolved card',
        );
        expect(alertCards(emu, ENG, 'FaultCard')).toHaveLength(1);
        expect(card.updates).toBe(1);
        // The card changed a moment before the dispatcher records the send.
        const after = await waitFor(async () => {
          const d = await cardDeliveries(f);
          return d.update?.status === 'sent' ? d : undefined;
        }, 10_000);
        expect(after.create).toMatchObject({ status: 'sent' });
        expect(after.create!.attempts).toBeGreaterThanOrEqual(2);
        expect(after.update).toMatchObject({ status: 'sent' });
        expect(after.update!.attempts).toBeGreaterThanOrEqual(2);
        // DingTalk saw the create succeed before any update call.
        const reqs = emu.requests();
        const created = reqs.find((r) => r.route === CREATE && r.status === 200)!;
        const firstUpdate = reqs.find((r) => r.route === UPDATE)!;
        expect(firstUpdate.seq).toBeGreaterThan(created.seq);
        expect(emu.messages(ENG).filter((m) => m.source === 'card')).toHaveLength(1);
      } finally {
        await f.cleanup();
      }
    });

    it('twin: without the order key the update overtakes the failing create and the card stays firing', async () => {
      const f = await startTestHub(backend, { config: config() });
      try {
        const emu = f.hub.emulator!;
        const update = await fireAndResolveWhileCreateFails(f);
        // The protection removed: the update no longer waits for its create.
        await f.store.db
          .updateTable('deliveries')
          .set({ order_key: null })
          .where('id', '=', update.id)
          .execute();
        const refused = await waitFor(
          () => emu.requests().find((r) => r.route === UPDATE && r.status === 400),
          10_000,
          'the update refused before the card exists',
        );
        expect(refused).toBeTruthy();
        emu.setFaults({ rules: [] });
        await waitFor(async () => (await cardDeliveries(f)).create?.status === 'sent', 15_000, 'the create');
        const [card] = alertCards(emu, ENG, 'FaultCard');
        // The alert resolved, but its card says firing: what the order key prevents.
        expect(card!.cardParamMap['state']).toBe('firing');
        expect(card!.updates).toBe(0);
        // Refused as "no such card" (a rejection, not retried): a dead letter, not a late success.
        expect((await cardDeliveries(f)).update).toMatchObject({ status: 'dead', attempts: 1 });
      } finally {
        await f.cleanup();
      }
    });
  });
}
