/** Dispatcher conformance: claims, leases, reclaim, concurrency, graceful stop, lease renewal. */

import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { claimDue, markStarted } from '../../src/hub/delivery/queue.js';
import { waitFor } from '../support/wait-for.js';
import { backends } from './backends.js';
import { dispatchFixture, spec } from './dispatch-fixture.js';
import { FakeClock, RecordingSender, sleep } from './helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`dispatcher leases (${backend.name})`, () => {
    const { stores, enqueueMany, dispatcher, row, running } = dispatchFixture(backend);

    it('a claim leases jobs to one owner; others see nothing until the lease expires, then reclaim them', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const ids = await enqueueMany(s!, [spec('a'), spec('b'), spec('c')], clock.now);
      const base = { limit: 10, leaseMs: 30_000, budgetFor: () => undefined, guardMs: 0 };
      const a = await claimDue(s!, { ...base, owner: 'A', now: clock.now() });
      expect(a.claimed.map((r) => r.id)).toEqual(ids);
      expect(a.claimed.every((r) => r.status === 'sending' && r.lease_owner === 'A')).toBe(true);
      clock.advance(29_999);
      expect((await claimDue(s!, { ...base, owner: 'B', now: clock.now() })).claimed).toEqual([]);
      // A started one send before it died; the other two never started.
      expect(await markStarted(s!, ids[0]!, 'A', clock.now())).toBe(true);
      clock.advance(2);
      const sender = new RecordingSender(clock.now);
      const b = dispatcher({ store: s!, sender, owner: 'B', now: clock.now, leaseMs: 30_000 });
      expect(await b.reclaimExpired()).toBe(3);
      // Unknown outcome of a non-idempotent send, mode hold: parked, never resent.
      expect(await row(s!, ids[0]!)).toMatchObject({ status: 'parked', attempts: 1 });
      expect((await row(s!, ids[0]!)).last_error).toMatch(/^LEASE_EXPIRED/);
      expect(await b.runOnce()).toBe(2);
      expect(sender.calls.map((c) => c.id)).toEqual([ids[1], ids[2]]);
      expect(sender.calls.every((c) => c.attempt === 1)).toBe(true);
    });

    it('an expired started lease is retried in ambiguous=retry mode and for idempotent endpoints', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const [plain, idem] = await enqueueMany(s!, [spec('a'), spec('b', { idempotent: true })], clock.now);
      const base = { limit: 10, leaseMs: 1_000, budgetFor: () => undefined, guardMs: 0, owner: 'A' };
      await claimDue(s!, { ...base, now: clock.now() });
      await markStarted(s!, plain!, 'A', clock.now());
      await markStarted(s!, idem!, 'A', clock.now());
      clock.advance(1_001);
      const hold = dispatcher({ store: s!, sender: new RecordingSender(), now: clock.now, leaseMs: 1_000 });
      await hold.reclaimExpired();
      expect((await row(s!, plain!)).status).toBe('parked');
      expect(await row(s!, idem!)).toMatchObject({ status: 'queued', attempts: 1 });

      const [p2] = await enqueueMany(s!, [spec('c')], clock.now);
      await claimDue(s!, { ...base, now: clock.now() });
      await markStarted(s!, p2!, 'A', clock.now());
      clock.advance(1_001);
      const retry = dispatcher({
        store: s!,
        sender: new RecordingSender(),
        now: clock.now,
        leaseMs: 1_000,
        policy: { ambiguous: 'retry' },
      });
      await retry.reclaimExpired();
      expect((await row(s!, p2!)).status).toBe('queued');
    });

    it('three stores claiming concurrently never claim the same job', async () => {
      const ss = await stores(3);
      await enqueueMany(
        ss[0]!,
        Array.from({ length: 150 }, (_, i) => spec(`t${i}`)),
      );
      const seen: number[] = [];
      await Promise.all(
        ss.map(async (s, i) => {
          for (;;) {
            const r = await claimDue(s, {
              owner: `w${i}`,
              limit: 7,
              now: Date.now(),
              leaseMs: 60_000,
              budgetFor: () => undefined,
              guardMs: 0,
            });
            if (r.claimed.length === 0) return;
            seen.push(...r.claimed.map((c) => c.id));
          }
        }),
      );
      expect(seen).toHaveLength(150);
      expect(new Set(seen).size).toBe(150);
    });

    it('twin: a naive select-then-update claim (no lock, no status fence) does hand jobs out twice', async () => {
      const ss = await stores(3);
      await enqueueMany(
        ss[0]!,
        Array.from({ length: 60 }, (_, i) => spec(`t${i}`)),
      );
      const seen: number[] = [];
      await Promise.all(
        ss.map(async (s, i) => {
          for (let round = 0; round < 20; round++) {
            const ids = (
              await s.db
                .selectFrom('deliveries')
                .select('id')
                .where('status', '=', 'queued')
                .orderBy('id')
                .limit(7)
                .execute()
            ).map((r) => r.id);
            if (ids.length === 0) return;
            await sleep(2);
            await s.db
              .updateTable('deliveries')
              .set({ status: 'sending', lease_owner: `w${i}` })
              .where('id', 'in', ids)
              .execute();
            seen.push(...ids);
          }
        }),
      );
      expect(new Set(seen).size).toBeLessThan(seen.length);
    });

    it('three running dispatchers send 200 jobs exactly once each', async () => {
      const ss = await stores(3);
      const ids = await enqueueMany(
        ss[0]!,
        Array.from({ length: 200 }, (_, i) => spec(`t${i % 20}`)),
      );
      const sender = new RecordingSender(Date.now, () => sleep(Math.random() * 3));
      for (const s of ss) dispatcher({ store: s, sender, workers: 4 }).start();
      await waitFor(async () => (await new Outbox(ss[0]!).counts()).sent === 200, 20_000);
      const counts = sender.countById();
      expect(counts.size).toBe(200);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(ids.every((id) => counts.has(id))).toBe(true);
    });

    it('stop() stops claiming at once, waits for in-flight sends, and leaves nothing in sending', async () => {
      const [s] = await stores(1);
      await enqueueMany(
        s!,
        Array.from({ length: 10 }, (_, i) => spec(`t${i}`)),
      );
      let open!: () => void;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const sender = new RecordingSender(Date.now, () => gate);
      const d = dispatcher({ store: s!, sender, workers: 3 });
      d.start();
      await waitFor(() => sender.calls.length === 3, 10_000);
      const stopping = d.stop({ deadlineMs: 5_000 });
      await sleep(50);
      open();
      const r = await stopping;
      expect(r).toEqual({ released: 0, unfinished: 0 });
      expect(sender.calls).toHaveLength(3);
      const c = await new Outbox(s!).counts();
      expect(c).toMatchObject({ sent: 3, queued: 7, sending: 0 });
    });

    it('stop() returns at its deadline when a send hangs; the hung job keeps its lease for the reclaimer', async () => {
      const [s] = await stores(1);
      await enqueueMany(s!, [spec('a'), spec('b')]);
      const sender = new RecordingSender(Date.now, () => new Promise(() => {}));
      const d = dispatcher({ store: s!, sender, workers: 1 });
      d.start();
      await waitFor(() => d.inFlight === 1, 10_000);
      const started = Date.now();
      const r = await d.stop({ deadlineMs: 100 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(r.unfinished).toBe(1);
      const c = await new Outbox(s!).counts();
      expect(c).toMatchObject({ sending: 1, queued: 1 });
      running.splice(running.indexOf(d), 1);
    });

    async function slowSendWithReclaimer(renewLeases: boolean): Promise<string> {
      const [s1, s2] = await stores(2);
      const [id] = await enqueueMany(s1!, [spec('slow')]);
      const slow = dispatcher({
        store: s1!,
        sender: new RecordingSender(Date.now, () => sleep(1_500)),
        leaseMs: 600,
        renewLeases,
      });
      // Another process whose reclaimer runs all the time (it only reclaims: the job is the slow one's).
      const other = dispatcher({ store: s2!, sender: new RecordingSender(), leaseMs: 600 });
      let reclaiming = true;
      const reclaimer = (async () => {
        while (reclaiming) {
          await other.reclaimExpired();
          await sleep(20);
        }
      })();
      await slow.runOnce();
      reclaiming = false;
      await reclaimer;
      return (await row(s1!, id!)).status;
    }

    it('a slow but live send renews its lease and ends sent, even with a reclaimer running elsewhere', async () => {
      expect(await slowSendWithReclaimer(true)).toBe('sent');
    });

    it('twin: without lease renewal the same slow send is taken for a dead worker and parked', async () => {
      expect(await slowSendWithReclaimer(false)).toBe('parked');
    });
  });
}
