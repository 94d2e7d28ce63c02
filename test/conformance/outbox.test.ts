import { describe, expect, it, vi } from 'vitest';
import { type EnqueueInput, Outbox, toDelivery } from '../../src/hub/delivery/outbox.js';
import { IdempotencyConflictError } from '../../src/store/idempotency.js';
import { backends, freshStores } from './backends.js';
import { FakeClock } from './helpers.js';

const msg = (key?: string, n = 1): EnqueueInput => ({
  kind: 'message',
  request: { text: 'hello', group: 'ops' },
  ...(key !== undefined ? { idempotencyKey: key } : {}),
  jobs: Array.from({ length: n }, (_, i) => ({
    channel: 'robot' as const,
    target: 'ops',
    rateKey: 'webhook:ops',
    payload: {
      t: 'webhook' as const,
      robot: 'ops',
      body: { msgtype: 'text', text: { content: `part ${i + 1}` } },
    },
    part: { index: i + 1, count: n },
  })),
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`outbox (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('enqueue writes the message and all its deliveries, queued, in part order', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const r = await box.enqueue(msg(undefined, 3));
      expect(r.duplicate).toBe(false);
      expect(r.deliveries.map((d) => [d.status, d.part_index, d.part_count])).toEqual([
        ['queued', 1, 3],
        ['queued', 2, 3],
        ['queued', 3, 3],
      ]);
      expect(r.deliveries[0]!.id).toBeLessThan(r.deliveries[1]!.id);
      const got = await box.getMessage(r.messageId);
      expect(got?.deliveries).toHaveLength(3);
      const view = toDelivery(got!.deliveries[1]!);
      expect(view).toMatchObject({
        status: 'queued',
        channel: 'robot',
        target: 'ops',
        part: { index: 2, count: 3 },
      });
      expect(view.id).toBe(String(got!.deliveries[1]!.id));
    });

    it('a failure mid-enqueue leaves nothing behind (one transaction)', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const bad = msg(undefined, 2);
      // The second delivery violates NOT NULL in the database, after the message row was written.
      (bad.jobs as unknown as Array<{ channel: unknown }>)[1]!.channel = null;
      await expect(box.enqueue(bad)).rejects.toThrow();
      const counts = await s!.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(counts.n)).toBe(0);
      expect((await box.counts()).queued).toBe(0);
    });

    it('concurrent enqueues: a bad one fails alone, the others are written with their own answers', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const bad = msg(undefined, 2);
      (bad.jobs as unknown as Array<{ channel: unknown }>)[1]!.channel = null;
      const calls = [
        ...Array.from({ length: 10 }, () => box.enqueue(msg())),
        box.enqueue(bad),
        box.enqueue({ ...msg('same-key'), requestHash: 'request A' }),
        // The same key with another request in the same turn: refused, writes nothing, harms nobody else.
        box.enqueue({ ...msg('same-key'), requestHash: 'request B' }),
        ...Array.from({ length: 5 }, () => box.enqueue(msg())),
      ];
      const out = await Promise.allSettled(calls);
      expect(out.map((o) => o.status)).toEqual([
        ...Array(10).fill('fulfilled'),
        'rejected',
        // The two requests under one key: whichever comes first takes it (on SQLite the first in the group; on
        // PostgreSQL they race on the pool), the other is refused.
        ...(out[11]!.status === 'fulfilled' ? ['fulfilled', 'rejected'] : ['rejected', 'fulfilled']),
        ...Array(5).fill('fulfilled'),
      ]);
      const refused = [out[11]!, out[12]!].find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(IdempotencyConflictError);
      if (backend.name === 'sqlite') expect(out[11]!.status).toBe('fulfilled');
      const ok = out.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(new Set(ok.map((r) => r.messageId)).size).toBe(16);
      const n = await s!.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(16);
      expect((await box.counts()).queued).toBe(16);
      // Each answer is its own message's rows, as written.
      for (const r of ok) {
        expect((await box.getMessage(r.messageId))?.deliveries.map((d) => d.id)).toEqual(
          r.deliveries.map((d) => d.id),
        );
      }
    });

    it.runIf(backend.name === 'sqlite')(
      'SQLite: the enqueues of one event-loop turn share one transaction (group commit), in arrival order',
      async () => {
        const [s] = await stores(1);
        const box = new Outbox(s!);
        const spy = vi.spyOn(s!, 'transaction');
        const rs = await Promise.all(Array.from({ length: 20 }, () => box.enqueue(msg())));
        expect(spy).toHaveBeenCalledTimes(1);
        const ids = rs.map((r) => r.deliveries[0]!.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        spy.mockRestore();
      },
    );

    it('the same idempotency key from 3 stores x 20 concurrent calls makes one message; all get its id', async () => {
      const ss = await stores(3);
      const boxes = ss.map((s) => new Outbox(s));
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => boxes[i % 3]!.enqueue(msg('client-key-1', 2))),
      );
      const ids = new Set(results.map((r) => r.messageId));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(results.every((r) => r.deliveries.length === 2)).toBe(true);
      const n = await ss[0]!.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(2);
    });

    it('twin: without a key, the same 60 calls write 60 messages (the key is what dedupes)', async () => {
      const ss = await stores(3);
      const boxes = ss.map((s) => new Outbox(s));
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => boxes[i % 3]!.enqueue(msg())));
      expect(new Set(results.map((r) => r.messageId)).size).toBe(60);
    });

    it('a key is honoured for 24 h, then starts a new message', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const box = new Outbox(s!, { now: clock.now });
      const a = await box.enqueue(msg('k'));
      clock.advance(86_400_000 - 1);
      const b = await box.enqueue(msg('k'));
      expect(b).toMatchObject({ messageId: a.messageId, duplicate: true });
      clock.advance(1);
      const c = await box.enqueue(msg('k'));
      expect(c.duplicate).toBe(false);
      expect(c.messageId).not.toBe(a.messageId);
      // The first message and its rows are kept.
      expect((await box.getMessage(a.messageId))?.deliveries).toHaveLength(1);
    });

    it('refuses payloads that carry secret-named fields, and bad input, with a ValidationError', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const leaky = msg();
      (leaky.jobs[0] as { payload: unknown }).payload = { robot: 'ops', access_token: 'abcdef123456' };
      await expect(box.enqueue(leaky)).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(box.enqueue({ ...msg(), jobs: [] })).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(box.enqueue(msg('x'.repeat(201)))).rejects.toMatchObject({ code: 'VALIDATION' });
      expect((await box.counts()).queued).toBe(0);
    });

    it('redrive puts dead and parked rows back (attempts restart), cancel stops queued ones', async () => {
      const [s] = await stores(1);
      const box = new Outbox(s!);
      const r = await box.enqueue(msg(undefined, 3));
      const [a, b, c] = r.deliveries.map((d) => d.id) as [number, number, number];
      await s!.db
        .updateTable('deliveries')
        .set({ status: 'dead', attempts: 8, last_error: 'X' })
        .where('id', '=', a)
        .execute();
      await s!.db
        .updateTable('deliveries')
        .set({ status: 'parked', attempts: 1 })
        .where('id', '=', b)
        .execute();
      expect(await box.redrive('all-dead')).toBe(1);
      expect(await box.getDelivery(a)).toMatchObject({ status: 'queued', attempts: 0, last_error: 'X' });
      expect(await box.redrive([String(b), 'nonsense', c])).toBe(1); // c is queued: not redriven
      expect((await box.getDelivery(b))?.status).toBe('queued');
      expect(await box.cancel([c])).toBe(1);
      expect((await box.getDelivery(c))?.status).toBe('cancelled');
      expect(await box.cancel([c])).toBe(0);
      expect(await box.counts()).toMatchObject({ queued: 2, cancelled: 1, dead: 0 });
      const listed = await box.listDeliveries({ status: 'queued' });
      expect(listed.map((d) => d.id).sort()).toEqual([a, b].sort());
    });

    it('purge drops old sent rows and empty messages, keeps dead ones and anything inside the key window', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const box = new Outbox(s!, { now: clock.now });
      const a = await box.enqueue(msg('old-key'));
      const b = await box.enqueue(msg());
      const [da, db] = [a.deliveries[0]!.id, b.deliveries[0]!.id];
      await s!.db
        .updateTable('deliveries')
        .set({ status: 'sent', finished_at: clock.now() })
        .where('id', '=', da)
        .execute();
      await s!.db
        .updateTable('deliveries')
        .set({ status: 'dead', finished_at: clock.now() })
        .where('id', '=', db)
        .execute();
      clock.advance(3_600_000);
      // Inside the 24 h window nothing goes, whatever the caller asks.
      expect(await box.purge(clock.now())).toEqual({ deliveries: 0, messages: 0 });
      clock.advance(86_400_000);
      expect(await box.purge(clock.now())).toEqual({ deliveries: 1, messages: 1 });
      expect(await box.getMessage(a.messageId)).toBeUndefined();
      expect((await box.getDelivery(db))?.status).toBe('dead');
      const again = await box.enqueue(msg('old-key'));
      expect(again.duplicate).toBe(false);
    });
  });
}
