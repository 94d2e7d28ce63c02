import { afterEach, describe, expect, it } from 'vitest';
import { NetworkError, PlatformError, RateLimitedError, TimeoutError } from '../../src/core/errors.js';
import { Redactor } from '../../src/core/redact.js';
import { Dispatcher, type DispatcherOptions } from '../../src/hub/dispatcher.js';
import { EventBus } from '../../src/server/events.js';
import { Registry } from '../../src/server/metrics.js';
import { claimDue, markStarted } from '../../src/store/delivery-queue.js';
import type { Store } from '../../src/store/open-store.js';
import { type DeliverySpec, Outbox } from '../../src/store/outbox.js';
import { backends } from './backends.js';
import { FakeClock, RecordingSender, sleep, until } from './helpers.js';

const spec = (target: string, extra: Partial<DeliverySpec> = {}): DeliverySpec => ({
  channel: 'robot',
  target,
  payload: { robot: target, msgtype: 'text', text: { content: `to ${target}` } },
  ...extra,
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`dispatcher (${backend.name})`, () => {
    let cleanup: (() => Promise<void>) | undefined;
    const running: Dispatcher[] = [];
    afterEach(async () => {
      for (const d of running.splice(0)) await d.stop({ deadlineMs: 1_000 });
      await cleanup?.();
      cleanup = undefined;
    });
    async function stores(n: number): Promise<Store[]> {
      const f = await backend.fresh();
      cleanup = f.cleanup;
      const out: Store[] = [];
      for (let i = 0; i < n; i++) out.push(await f.open());
      return out;
    }
    async function enqueueMany(s: Store, specs: DeliverySpec[], now?: () => number): Promise<number[]> {
      const box = new Outbox(s, now ? { now } : {});
      const ids: number[] = [];
      for (const d of specs) {
        const r = await box.enqueue({ kind: 'message', request: {}, deliveries: [d] });
        ids.push(r.deliveries[0]!.id);
      }
      return ids;
    }
    function dispatcher(o: DispatcherOptions): Dispatcher {
      const d = new Dispatcher({ pollMs: 10, ...o });
      running.push(d);
      return d;
    }
    const row = (s: Store, id: number) =>
      s.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

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
      // Unknown outcome of a non-idempotent send, mode hold: parked, never resent (goal D3).
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
      await until(async () => (await new Outbox(ss[0]!).counts()).sent === 200, 20_000);
      const counts = sender.countById();
      expect(counts.size).toBe(200);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(ids.every((id) => counts.has(id))).toBe(true);
    });

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
          // DingTalk's robot throttle: 130101, blocked for 10 minutes (reference §2.6).
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
      const specs: DeliverySpec[] = [];
      for (let i = 0; i < 30; i++) {
        specs.push(spec('ops', { orderKey: 'conv-1', payload: { n: i } }));
        specs.push(spec('dev', { orderKey: 'conv-2', payload: { n: i } }));
      }
      const ids = await enqueueMany(ss[0]!, specs);
      // Every job fails its first attempt (not_sent); some randomly fail more.
      const sender = new RecordingSender(Date.now, (job) =>
        job.attempt === 1 || Math.random() < 0.2 ? new NetworkError('reset') : undefined,
      );
      for (const s of ss) {
        dispatcher({
          store: s,
          sender,
          workers: 4,
          policy: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 50 },
        }).start();
      }
      await until(async () => (await new Outbox(ss[0]!).counts()).sent === 60, 30_000);
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
      const specs = Array.from({ length: 60 }, (_, i) => spec('ops', { payload: { n: i } }));
      const ids = await enqueueMany(ss[0]!, specs);
      const sender = new RecordingSender(Date.now, (job) =>
        job.attempt === 1 || Math.random() < 0.2 ? new NetworkError('reset') : undefined,
      );
      for (const s of ss) {
        dispatcher({
          store: s,
          sender,
          workers: 4,
          policy: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 50 },
        }).start();
      }
      await until(async () => (await new Outbox(ss[0]!).counts()).sent === 60, 30_000);
      const succeeded = sender.calls.filter((c, i, all) => all.findLastIndex((x) => x.id === c.id) === i);
      expect(succeeded.map((c) => c.id)).not.toEqual(ids);
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
      await until(() => d.inFlight === 3);
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
      await until(() => d.inFlight === 1);
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
        sender: new RecordingSender(Date.now, () => sleep(700)),
        leaseMs: 200,
        renewLeases,
      });
      // Another process whose reclaimer runs all the time (it only reclaims: the job is the slow one's).
      const other = dispatcher({ store: s2!, sender: new RecordingSender(), leaseMs: 200 });
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

    it('publishes change events and metrics', async () => {
      const [s] = await stores(1);
      await enqueueMany(s!, [spec('a'), spec('b')]);
      const bus = new EventBus();
      const seen: string[] = [];
      bus.subscribe((e) => seen.push(`${e.type}:${String(e.data['status'])}`));
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
      expect(text).toMatch(/dingkit_deliveries_sent_total\{channel="robot"\} 1/);
      expect(text).toMatch(/dingkit_deliveries_parked_total\{channel="robot"\} 1/);
      expect(text).toMatch(/dingkit_send_duration_seconds_count\{channel="robot"\} 2/);
      expect(text).toMatch(/dingkit_outbox_deliveries\{status="sent"\} 1/);
      expect(text).toMatch(/dingkit_outbox_deliveries\{status="parked"\} 1/);
    });
  });
}
