/** Dispatcher conformance: retries, park, dead letters, redrive, penalties, ordering, events and metrics. */

import { describe, expect, it } from 'vitest';
import { NetworkError, PlatformError, RateLimitedError, TimeoutError } from '../../src/core/errors.js';
import { Redactor } from '../../src/core/redact.js';
import type { Job } from '../../src/hub/delivery/jobs.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { EventBus } from '../../src/observe/events.js';
import { Registry } from '../../src/observe/metrics.js';
import { waitFor } from '../support/wait-for.js';
import { backends } from './backends.js';
import { dispatchFixture, failSome, flaky, spec } from './dispatch-fixture.js';
import { FakeClock, RecordingSender } from './helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`dispatcher outcomes (${backend.name})`, () => {
    const { stores, enqueueMany, dispatcher, row } = dispatchFixture(backend);

    it('not_sent failures retry on the jittered schedule until sent; remote id recorded', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const [id] = await enqueueMany(s!, [spec('a')], clock.now);
      const sender = new RecordingSender(clock.now, (job) =>
        job.attempt <= 2 ? new NetworkError('connect ECONNREFUSED') : undefined,
      );
      const d = dispatcher({ store: s!, sender, now: clock.now, random: () => 0.5 });
      await d.runOnce();
      const after1 = await row(s!, id!);
      expect(after1).toMatchObject({ status: 'queued', attempts: 1 });
      expect(after1.run_at - clock.now()).toBe(1_000); // base delay, jitter centred
      expect(after1.last_error).toMatch(/^NETWORK/);
      expect(await d.runOnce()).toBe(0); // not due yet
      clock.advance(1_000);
      await d.runOnce();
      expect((await row(s!, id!)).run_at - clock.now()).toBe(2_000);
      clock.advance(2_000);
      await d.runOnce();
      expect(await row(s!, id!)).toMatchObject({ status: 'sent', attempts: 3, remote_id: `remote-${id}-3` });
      expect(sender.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    });

    it('retry delays are jittered within ±20 %', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const ids = await enqueueMany(
        s!,
        Array.from({ length: 40 }, (_, i) => spec(`t${i}`)),
        clock.now,
      );
      const d = dispatcher({
        store: s!,
        sender: new RecordingSender(clock.now, () => new NetworkError('reset before write')),
        now: clock.now,
        workers: 40,
      });
      await d.runOnce();
      const delays = await Promise.all(ids.map(async (id) => (await row(s!, id)).run_at - clock.now()));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(800);
      expect(Math.max(...delays)).toBeLessThanOrEqual(1_200);
      expect(new Set(delays).size).toBeGreaterThan(10);
    });

    it('unknown outcomes park (hold) or retry (retry mode, idempotent); rejections go dead with a redacted reason', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const [timeout, timeoutIdem, rejected] = await enqueueMany(
        s!,
        [spec('a'), spec('b', { idempotent: true }), spec('c')],
        clock.now,
      );
      const canary = 'canary-robot-token-77f1';
      const sender = new RecordingSender(clock.now, (job) => {
        if (job.id === rejected) {
          return new PlatformError('BAD_REQUEST', `bad receiver for ${canary}: access_token=${canary}`, {
            status: 200,
            errcode: 400_105,
          });
        }
        return new TimeoutError('no answer in 10 s', 10_000);
      });
      const d = dispatcher({ store: s!, sender, now: clock.now, redactor: new Redactor([canary]) });
      await d.runOnce();
      expect(await row(s!, timeout!)).toMatchObject({ status: 'parked', attempts: 1 });
      expect(await row(s!, timeoutIdem!)).toMatchObject({ status: 'queued', attempts: 1 });
      const dead = await row(s!, rejected!);
      expect(dead).toMatchObject({ status: 'dead', attempts: 1 });
      expect(dead.last_error).toMatch(/^BAD_REQUEST/);
      const all = JSON.stringify(await s!.db.selectFrom('deliveries').selectAll().execute());
      expect(all).not.toContain(canary);
      // Parked and dead rows are never picked up again on their own.
      clock.advance(3_600_000);
      sender.calls.length = 0;
      await d.runOnce();
      expect(sender.calls.map((c) => c.id)).toEqual([timeoutIdem]);
    });

    it('a plain Error from the sender is a dead letter with secret-named fields redacted', async () => {
      const [s] = await stores(1);
      const [id] = await enqueueMany(s!, [spec('a')]);
      const sender = new RecordingSender(
        Date.now,
        () => new Error('POST /robot/send?access_token=plain-leak-42 broke'),
      );
      await dispatcher({ store: s!, sender }).runOnce();
      const dead = await row(s!, id!);
      expect(dead.status).toBe('dead');
      expect(dead.last_error).toContain('access_token=[REDACTED]');
      expect(dead.last_error).not.toContain('plain-leak-42');
    });

    it('gives up after maxAttempts; redrive sends the dead letter again', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const [id] = await enqueueMany(s!, [spec('a')], clock.now);
      let fail = true;
      const sender = new RecordingSender(clock.now, () => (fail ? new NetworkError('down') : undefined));
      const d = dispatcher({ store: s!, sender, now: clock.now, policy: { maxAttempts: 3 } });
      for (let i = 0; i < 5; i++) {
        await d.runOnce();
        clock.advance(10_000);
      }
      const dead = await row(s!, id!);
      expect(dead).toMatchObject({ status: 'dead', attempts: 3 });
      expect(dead.last_error).toMatch(/gave up after 3 attempts/);
      expect(sender.calls).toHaveLength(3);
      fail = false;
      expect(await new Outbox(s!, { now: clock.now }).redrive('all-dead')).toBe(1);
      await d.runOnce();
      expect(await row(s!, id!)).toMatchObject({ status: 'sent', attempts: 1 });
    });

    it("a robot's throttle penalty holds that robot only, and the throttled try is not counted", async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const t0 = clock.now();
      const ids = await enqueueMany(
        s!,
        [
          spec('a', { rateKey: 'webhook:a' }),
          spec('a', { rateKey: 'webhook:a' }),
          spec('b', { rateKey: 'webhook:b' }),
          spec('b', { rateKey: 'webhook:b' }),
        ],
        clock.now,
      );
      let throttled = false;
      const sender = new RecordingSender(clock.now, (job) => {
        if (job.rateKey === 'webhook:a' && !throttled) {
          throttled = true;
          // DingTalk's robot throttle: 130101, blocked for 10 minutes (docs/dingtalk.md §2.6).
          return new RateLimitedError('robot', 600_000, 'send too fast', { status: 200, errcode: 130101 });
        }
        return undefined;
      });
      const d = dispatcher({ store: s!, sender, now: clock.now, workers: 1 });
      for (let t = 0; t < 700; t++) {
        await d.runOnce();
        clock.advance(1_000);
      }
      const aCalls = sender.calls.filter((c) => c.rateKey === 'webhook:a');
      const bCalls = sender.calls.filter((c) => c.rateKey === 'webhook:b');
      expect(aCalls[0]!.at).toBe(t0);
      expect(aCalls.slice(1).every((c) => c.at >= t0 + 600_000)).toBe(true);
      expect(aCalls).toHaveLength(3);
      expect(bCalls.every((c) => c.at < t0 + 10_000)).toBe(true);
      expect(await row(s!, ids[0]!)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await row(s!, ids[1]!)).toMatchObject({ status: 'sent' });
    });

    it('per-conversation ordering: a failing head holds its key only; sends follow enqueue order', async () => {
      const ss = await stores(3);
      const specs: Job[] = [];
      for (let i = 0; i < 30; i++) {
        specs.push(spec('ops', { orderKey: 'conv-1', n: i }));
        specs.push(spec('dev', { orderKey: 'conv-2', n: i }));
      }
      const ids = await enqueueMany(ss[0]!, specs);
      const sender = new RecordingSender(Date.now, failSome);
      for (const s of ss) {
        dispatcher({
          store: s,
          sender,
          workers: 4,
          policy: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 50 },
        }).start();
      }
      await waitFor(async () => (await new Outbox(ss[0]!).counts()).sent === 60, 30_000);
      const delivered = await ss[0]!.db.selectFrom('deliveries').selectAll().orderBy('finished_at').execute();
      for (const key of ['conv-1', 'conv-2']) {
        const successes = sender.calls.filter((c) => c.orderKey === key);
        // The attempts of job n all come before any attempt of job n+1.
        const firstIdx = new Map<number, number>();
        const lastIdx = new Map<number, number>();
        successes.forEach((c, i) => {
          if (!firstIdx.has(c.id)) firstIdx.set(c.id, i);
          lastIdx.set(c.id, i);
        });
        const order = [...firstIdx.keys()];
        expect(order).toEqual(ids.filter((_, i) => specs[i]!.orderKey === key));
        for (let i = 1; i < order.length; i++) {
          expect(firstIdx.get(order[i]!)!).toBeGreaterThan(lastIdx.get(order[i - 1]!)!);
        }
      }
      expect(delivered.every((d) => d.status === 'sent')).toBe(true);
    });

    it('twin: without an order key the same run does not keep enqueue order', async () => {
      const ss = await stores(3);
      const specs = Array.from({ length: 60 }, (_, i) => spec('ops', { n: i }));
      const ids = await enqueueMany(ss[0]!, specs);
      const sender = new RecordingSender(Date.now, failSome);
      for (const s of ss) {
        dispatcher({
          store: s,
          sender,
          workers: 4,
          policy: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 50 },
        }).start();
      }
      await waitFor(async () => (await new Outbox(ss[0]!).counts()).sent === 60, 30_000);
      const succeeded = sender.calls.filter((c, i, all) => all.findLastIndex((x) => x.id === c.id) === i);
      expect(succeeded.map((c) => c.id)).not.toEqual(ids);
    });

    it('a result is recorded even when the database drops the first writes after the send', async () => {
      const [s] = await stores(1);
      const [id] = await enqueueMany(s!, [spec('a')]);
      const f = flaky(s!);
      const sender = new RecordingSender(Date.now, () => f.failUpdates(3));
      await dispatcher({ store: f.store, sender }).runOnce();
      expect(await row(s!, id!)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(sender.calls).toHaveLength(1);
    });

    it('an outage longer than the batch retries: the known result waits and is written when the store is back', async () => {
      const [s] = await stores(1);
      const [id] = await enqueueMany(s!, [spec('a')]);
      const f = flaky(s!);
      const errors: unknown[] = [];
      // More failed writes than FinishBatcher's six tries: the store stays out past them.
      const sender = new RecordingSender(Date.now, () => f.failUpdates(10));
      await dispatcher({ store: f.store, sender, onError: (e) => errors.push(e) }).runOnce();
      expect(await row(s!, id!)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(sender.calls).toHaveLength(1);
      expect(errors.length).toBeGreaterThan(0);
    });

    it('twin: a stopped dispatcher gives a waiting result up, leaving the job leased for the reclaimer', async () => {
      const [s] = await stores(1);
      const [id] = await enqueueMany(s!, [spec('a')]);
      const f = flaky(s!);
      const sender = new RecordingSender(Date.now, () => f.failUpdates(1_000_000));
      const d = dispatcher({ store: f.store, sender, onError: () => {} });
      d.start();
      await waitFor(() => sender.calls.length === 1, 10_000);
      await d.stop({ deadlineMs: 20 });
      // The store stays out: the waiting result gives up after its current try.
      await waitFor(() => d.inFlight === 0, 10_000);
      expect((await row(s!, id!)).status).toBe('sending');
    });

    it('publishes change events and metrics', async () => {
      const [s] = await stores(1);
      await enqueueMany(s!, [spec('a'), spec('b')]);
      const bus = new EventBus();
      const seen: string[] = [];
      bus.subscribe((e) => seen.push(e.type === 'delivery' ? `delivery:${e.data.status}` : e.type));
      const registry = new Registry();
      const d = dispatcher({
        store: s!,
        sender: new RecordingSender(Date.now, (j) =>
          j.target === 'b' ? new TimeoutError('t', 1) : undefined,
        ),
        events: bus,
        metrics: registry,
      });
      await d.runOnce();
      expect(seen.sort()).toEqual(['delivery:parked', 'delivery:sent']);
      const text = registry.render();
      expect(text).toMatch(/dingkit_deliveries_sent_total\{channel="app"\} 1/);
      expect(text).toMatch(/dingkit_deliveries_parked_total\{channel="app"\} 1/);
      expect(text).toMatch(/dingkit_send_duration_seconds_count\{channel="app"\} 2/);
      expect(text).toMatch(/dingkit_outbox_deliveries\{status="sent"\} 1/);
      expect(text).toMatch(/dingkit_outbox_deliveries\{status="parked"\} 1/);
    });

    it('a stored job that does not read back is dead with its reason and counted, unsent; the rest still go', async () => {
      const [s] = await stores(1);
      const [bad, odd, good] = await enqueueMany(s!, [
        spec('a', { rateKey: 'webhook:a' }),
        spec('b'),
        spec('c'),
      ]);
      // What a hand edit, a bug of an older version or a corrupt page could leave in the table.
      await s!.db
        .updateTable('deliveries')
        .set({ payload: '{"t":"group","app":"hub"}' })
        .where('id', '=', bad!)
        .execute();
      await s!.db.updateTable('deliveries').set({ payload: 'not json {' }).where('id', '=', odd!).execute();
      const registry = new Registry();
      const changes: string[] = [];
      const sender = new RecordingSender();
      const d = dispatcher({
        store: s!,
        sender,
        metrics: registry,
        budgets: { 'webhook:a': { limit: 1, windowMs: 60_000 } },
        onChange: (c) => changes.push(`${c.id}:${c.status}`),
      });
      await d.runOnce();
      expect(sender.calls.map((c) => c.id)).toEqual([good]);
      // The sender gets the job as enqueued, its payload an object of its kind (not the stored JSON text).
      expect(sender.calls[0]!.payload).toEqual(spec('c').payload);
      expect(await row(s!, bad!)).toMatchObject({
        status: 'dead',
        last_error: 'UNREADABLE_JOB: payload of kind group has a missing or malformed openConversationId',
      });
      expect(await row(s!, odd!)).toMatchObject({
        status: 'dead',
        last_error: 'UNREADABLE_JOB: payload is not JSON',
      });
      expect(await row(s!, good!)).toMatchObject({ status: 'sent' });
      expect(changes.sort()).toEqual([`${bad}:dead`, `${good}:sent`, `${odd}:dead`].sort());
      expect(registry.render()).toMatch(/dingkit_deliveries_unreadable_total\{channel="app"\} 2/);
      // Nothing left for the unreadable job: its budget hit is closed, not held open until a lease runs out.
      const hits = await s!.db
        .selectFrom('limiter_hits')
        .selectAll()
        .where('key', '=', 'webhook:a')
        .execute();
      expect(hits.map((h) => h.delivery_id)).toEqual([null]);
    });
  });
}
