/**
 * Dispatcher scheduling conformance: results recorded together share a commit (group commit, still fenced per
 * lease), a budget-bound key resumes at its window's edge rather than at the next poll, the default guard per
 * dialect, and the message-scoped order key of the outbox.
 */

import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { defaultGuardMs } from '../../src/hub/delivery/dispatcher.js';
import { closeHits, lockKeys, penalize, recordHits, restampHit } from '../../src/hub/delivery/limiter.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { claimDue, FinishBatcher, markStartedMany, release } from '../../src/hub/delivery/queue.js';
import type { Store } from '../../src/store/open-store.js';
import { waitFor } from '../support/wait-for.js';
import { backends } from './backends.js';
import { dispatchFixture, flaky, spec } from './dispatch-fixture.js';
import { FakeClock, RecordingSender } from './helpers.js';

describe('defaultGuardMs', () => {
  it('covers cross-host clock skew on PostgreSQL, the claim-to-send delay alone on SQLite (one host)', () => {
    expect(defaultGuardMs('postgres', 60_000)).toBe(5_000);
    expect(defaultGuardMs('postgres', 2_000)).toBe(167);
    expect(defaultGuardMs('sqlite', 60_000)).toBe(1_000);
    expect(defaultGuardMs('sqlite', 2_000)).toBe(40);
    expect(defaultGuardMs('sqlite', 500)).toBe(25);
    expect(defaultGuardMs('sqlite', 0)).toBe(0);
  });
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`dispatcher scheduling (${backend.name})`, () => {
    const { stores, enqueueMany, dispatcher, row } = dispatchFixture(backend);

    async function claimAndStart(s: Store, n: number, owner: string): Promise<number[]> {
      const now = Date.now();
      const r = await claimDue(s, {
        owner,
        limit: n,
        now,
        leaseMs: 30_000,
        budgetFor: () => undefined,
        guardMs: 0,
      });
      const started = await markStartedMany(
        s,
        r.claimed.map((c) => c.id),
        owner,
        now,
      );
      return [...started];
    }

    it('records results that end together in fewer commits than results, each fenced by its lease', async () => {
      const [s] = await stores(1);
      const ids = await enqueueMany(
        s!,
        Array.from({ length: 12 }, (_, i) => spec(`t${i}`)),
      );
      const started = await claimAndStart(s!, 12, 'A');
      expect(started.sort((a, b) => a - b)).toEqual(ids);
      const batcher = new FinishBatcher(s!);
      const now = Date.now();
      // The last one claims a lease it does not hold: fenced out, while the rest of its batch is recorded.
      const statuses = await Promise.all(
        ids.map((id, i) =>
          batcher.finish({
            id,
            owner: i === ids.length - 1 ? 'B' : 'A',
            decision: { action: 'complete' },
            now,
            remoteId: `r${id}`,
            rateKey: null,
          }),
        ),
      );
      expect(statuses).toEqual([...Array(11).fill('sent'), undefined]);
      for (const id of ids.slice(0, 11)) {
        expect(await row(s!, id)).toMatchObject({ status: 'sent', remote_id: `r${id}`, lease_owner: null });
      }
      expect((await row(s!, ids.at(-1)!)).status).toBe('sending');
      // The twelve results came in during one turn of the event loop: one transaction.
      expect(batcher.batches).toBe(1);
    });

    it('retries a whole batch through a brief outage', async () => {
      const [s] = await stores(1);
      const ids = await enqueueMany(s!, [spec('a'), spec('b'), spec('c')]);
      await claimAndStart(s!, 3, 'A');
      const c = flaky(s!);
      c.failUpdates(2);
      const batcher = new FinishBatcher(c.store);
      const statuses = await Promise.all(
        ids.map((id) =>
          batcher.finish({
            id,
            owner: 'A',
            decision: { action: 'complete' },
            now: Date.now(),
            rateKey: null,
          }),
        ),
      );
      expect(statuses).toEqual(['sent', 'sent', 'sent']);
    });

    it('resumes a budget-bound key at its window edge, not at the next poll', async () => {
      const [s] = await stores(1);
      await enqueueMany(
        s!,
        Array.from({ length: 3 }, () => spec('ops', { rateKey: 'webhook:ops' })),
      );
      const sender = new RecordingSender();
      const d = dispatcher({
        store: s!,
        sender,
        pollMs: 5_000,
        guardMs: 100,
        robotBudget: { limit: 2, windowMs: 400 },
      });
      const t0 = Date.now();
      d.start();
      await waitFor(() => sender.calls.length === 3, 3_000);
      const [a, , c] = sender.calls.map((x) => x.at);
      // The third waits out the window and guard (500 ms after the first claim), far less than the 5 s poll. The
      // claim is stamped before its send is called (by 56 ms once on a loaded CI machine), so the full 500 ms is
      // measured from before the start, and from the first send only the window itself.
      expect(c! - t0).toBeGreaterThanOrEqual(500);
      expect(c! - a!).toBeGreaterThanOrEqual(400);
      expect(c! - a!).toBeLessThan(1_500);
    });

    /** A claim's hit: open for `deliveryId` (its send may be in flight). */
    async function hit(s: Store, key: string, at: number, span: number, deliveryId: number): Promise<void> {
      await s.transaction(async (tx) => {
        const st = (await lockKeys(tx, s.dialect, [key], at, () => span)).get(key)!;
        st.hits.push(at);
        await recordHits(tx, [{ state: st, spanMs: span, deliveryId }], at);
      });
    }
    const hitsOf = async (s: Store, key: string) =>
      (await s.db.selectFrom('limiter_hits').select('at').where('key', '=', key).orderBy('at').execute()).map(
        (h) => Number(h.at),
      );

    it('restamps a stale claim at the present when the window has room, and refuses when it has not', async () => {
      const [s] = await stores(1);
      const budget = { limit: 2, windowMs: 1_000 };
      const span = 1_100;
      const t = 1_764_000_000_000;
      await hit(s!, 'k', t, span, 1); // A, claimed, stalled
      await hit(s!, 'k', t, span, 2); // B, claimed, stalled
      expect(await restampHit(s!, 'k', 1, t + 500, budget, span)).toEqual({ ok: true });
      expect(await hitsOf(s!, 'k')).toEqual([t, t + 500]);
      // Without its own hit the window holds one: B moves to its start time as well.
      expect(await restampHit(s!, 'k', 2, t + 700, budget, span)).toEqual({ ok: true });
      expect(await hitsOf(s!, 'k')).toEqual([t + 500, t + 700]);
      // A third claim whose hit is gone (a reclaim closed it long ago) finds the window full: refused, nothing
      // recorded.
      expect(await restampHit(s!, 'k', 3, t + 800, budget, span)).toEqual({
        ok: false,
        retryAt: t + 500 + span + 1,
      });
      expect(await hitsOf(s!, 'k')).toEqual([t + 500, t + 700]);
    });

    it('gives a stale claim hit back when the key is penalised (nothing will be sent for it)', async () => {
      const [s] = await stores(1);
      const t = 1_764_000_000_000;
      await hit(s!, 'k', t, 1_100, 1);
      await penalize(s!.db, 'k', t + 60_000);
      const r = await restampHit(s!, 'k', 1, t + 300, { limit: 2, windowMs: 1_000 }, 1_100);
      expect(r).toEqual({ ok: false, retryAt: t + 60_000 });
      expect(await hitsOf(s!, 'k')).toEqual([]);
    });

    it('a send stalled past the guard goes out restamped instead of being given back', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      await enqueueMany(s!, [spec('ops', { rateKey: 'webhook:ops' })], clock.now);
      // The clock jumps 5 s while the batch is marked started: the send starts long after its claim.
      const plugin: KyselyPlugin = {
        transformQuery(args) {
          if (args.node.kind === 'UpdateQueryNode' && JSON.stringify(args.node).includes('started_at'))
            clock.advance(5_000);
          return args.node;
        },
        transformResult: async (args) => args.result,
      };
      const stalled: Store = { ...s!, db: s!.db.withPlugin(plugin) };
      const sender = new RecordingSender(clock.now);
      const d = dispatcher({
        store: stalled,
        sender,
        now: clock.now,
        guardMs: 100,
        robotBudget: { limit: 19, windowMs: 60_000 },
      });
      await d.runOnce();
      expect(sender.calls).toHaveLength(1);
      // One hit, at the time the send really started.
      expect(await hitsOf(s!, 'webhook:ops')).toEqual([sender.calls[0]!.at]);
    });

    const openOf = async (s: Store, key: string) =>
      (
        await s.db
          .selectFrom('limiter_hits')
          .select(['at', 'delivery_id'])
          .where('key', '=', key)
          .orderBy('at')
          .execute()
      ).map((h) => [Number(h.at), h.delivery_id === null ? null : Number(h.delivery_id)]);

    it('an open hit counts as live past its window until it is closed, and a close only moves it later', async () => {
      const [s] = await stores(1);
      const span = 1_100;
      const t = 1_764_000_000_000;
      await hit(s!, 'k', t, span, 7); // a send still in flight
      await hit(s!, 'k', t, span, 0); // (delivery 0 is a stand-in; closed below at once)
      await s!.transaction((tx) => closeHits(tx, [{ deliveryId: 0, at: 0 }]));
      const later = t + 5_000;
      const read = () =>
        s!.transaction(
          async (tx) => (await lockKeys(tx, s!.dialect, ['k'], later, () => span)).get('k')!.hits,
        );
      // The closed hit left the window long ago; the open one is counted as taken now.
      expect(await read()).toEqual([later]);
      // Pruning (a new hit recorded at `later`) removes the closed hit only.
      await hit(s!, 'k', later, span, 8);
      expect(await openOf(s!, 'k')).toEqual([
        [t, 7],
        [later, 8],
      ]);
      // Closed at its completion minus the guard: it counts from then, and no longer open.
      await s!.transaction((tx) => closeHits(tx, [{ deliveryId: 7, at: t + 4_000 }]));
      // A close never moves a hit earlier than its stamp.
      await s!.transaction((tx) => closeHits(tx, [{ deliveryId: 8, at: later - 1_000 }]));
      expect(await openOf(s!, 'k')).toEqual([
        [t + 4_000, null],
        [later, null],
      ]);
      expect(await read()).toEqual([t + 4_000, later]);
      // A hit left open longer than `openMs` beyond its window (its worker gone without a reclaim) stops counting.
      await hit(s!, 'k', t, span, 9);
      const bounded = await s!.transaction(
        async (tx) => (await lockKeys(tx, s!.dialect, ['k'], later, () => span, 2_000)).get('k')!.hits,
      );
      expect(bounded).toEqual([t + 4_000, later]);
    });

    for (const stampArrival of [true, false]) {
      it(`a slow send's hit ${stampArrival ? 'moves to its completion (minus the guard on SQLite)' : 'keeps its claim stamp (stampArrival off: the twin)'}`, async () => {
        const [s] = await stores(1);
        const clock = new FakeClock();
        const [id] = await enqueueMany(s!, [spec('ops', { rateKey: 'webhook:ops' })], clock.now);
        // The request takes 1.5 s to reach DingTalk and come back (a slow connect, a slow server).
        const sender = new RecordingSender(clock.now, () => clock.advance(1_500));
        const d = dispatcher({
          store: s!,
          sender,
          now: clock.now,
          guardMs: 100,
          robotBudget: { limit: 19, windowMs: 60_000 },
          stampArrival,
        });
        await d.runOnce();
        const claimedAt = sender.calls[0]!.at;
        expect((await row(s!, id!)).status).toBe('sent');
        expect(await openOf(s!, 'webhook:ops')).toEqual([
          // SQLite: completion minus the guard (one clock); PostgreSQL keeps the guard whole for clock skew.
          [stampArrival ? claimedAt + 1_500 - (backend.name === 'sqlite' ? 100 : 0) : claimedAt, null],
        ]);
      });
    }

    it('a reclaim or a release closes the open hits of the jobs it takes back', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      await enqueueMany(
        s!,
        [spec('x', { rateKey: 'webhook:x' }), spec('y', { rateKey: 'webhook:y' })],
        clock.now,
      );
      const budgetFor = () => ({ limit: 19, windowMs: 60_000 });
      const claim = (owner: string) =>
        claimDue(s!, { owner, limit: 1, now: clock.now(), leaseMs: 1_000, budgetFor, guardMs: 0 });
      const first = await claim('A');
      expect(await release(s!, [first.claimed[0]!.id], 'A', clock.now())).toBe(1);
      expect((await openOf(s!, 'webhook:x')).map(([, open]) => open)).toEqual([null]);
      // Claimed, never started, and its worker gone: the reclaim hands it back and closes its hit.
      await claim('A');
      await claim('A');
      clock.advance(2_000);
      await dispatcher({
        store: s!,
        sender: new RecordingSender(clock.now),
        now: clock.now,
      }).reclaimExpired();
      const open = await s!.db.selectFrom('limiter_hits').select('delivery_id').execute();
      expect(open.map((h) => h.delivery_id)).toEqual([null, null, null]);
    });

    it('marks idempotent jobs started in their claim and others just before their send, one attempt each', async () => {
      const [s] = await stores(1);
      const [idem, plain] = await enqueueMany(s!, [spec('a', { idempotent: true }), spec('b')]);
      const now = Date.now();
      const r = await claimDue(s!, {
        owner: 'A',
        limit: 2,
        now,
        leaseMs: 30_000,
        budgetFor: () => undefined,
        guardMs: 0,
        startIdempotent: true,
      });
      const byId = new Map(r.claimed.map((c) => [c.id, c]));
      expect(byId.get(idem!)).toMatchObject({ started_at: now, attempts: 1 });
      expect(byId.get(plain!)).toMatchObject({ started_at: null, attempts: 0 });
      // Through a dispatcher: each is sent once as attempt 1 and ends with one attempt counted.
      const [idem2, plain2] = await enqueueMany(s!, [spec('c', { idempotent: true }), spec('d')]);
      const sender = new RecordingSender();
      await dispatcher({ store: s!, sender }).runOnce();
      expect(sender.calls.map((c) => [c.id, c.attempt])).toEqual(
        expect.arrayContaining([
          [idem2, 1],
          [plain2, 1],
        ]),
      );
      expect(await row(s!, idem2!)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await row(s!, plain2!)).toMatchObject({ status: 'sent', attempts: 1 });
    });

    it('gives a message-scoped order key its own key per request', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const two = (n: number) =>
        box.enqueue({
          kind: 'message',
          request: { n },
          jobs: [1, 2].map((k) =>
            spec('ops', { orderKey: 'group:ops', orderScope: 'message', part: { index: k, count: 2 } }),
          ),
        });
      const a = await two(1);
      const b = await two(2);
      expect(a.deliveries.map((d) => d.order_key)).toEqual([
        `msg:${a.messageId}:group:ops`,
        `msg:${a.messageId}:group:ops`,
      ]);
      expect(b.deliveries[0]!.order_key).toBe(`msg:${b.messageId}:group:ops`);
      // Each request's first part is claimable at once; the second parts wait for theirs.
      const r = await claimDue(s!, {
        owner: 'A',
        limit: 10,
        now: Date.now(),
        leaseMs: 30_000,
        budgetFor: () => undefined,
        guardMs: 0,
      });
      expect(r.claimed.map((x) => x.id).sort((x, y) => x - y)).toEqual([
        a.deliveries[0]!.id,
        b.deliveries[0]!.id,
      ]);
    });
  });
}
