import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { Inbox } from '../../src/hub/inbound/inbox.js';
import type { Store, Tx } from '../../src/store/open-store.js';
import { backends, freshStores } from './backends.js';
import { FakeClock } from './helpers.js';

/** The handler's effect: one counter row per inbox id, incremented in the handler's transaction. */
async function bump(db: Tx | Store['db'], id: string): Promise<void> {
  await db
    .insertInto('kv')
    .values({ key: `effect:${id}`, value: '1', expires_at: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: sql<string>`cast(cast(kv.value as integer) + 1 as text)` }),
    )
    .execute();
}

async function effects(s: Store): Promise<Map<string, number>> {
  const rows = await s.db.selectFrom('kv').selectAll().where('key', 'like', 'effect:%').execute();
  return new Map(rows.map((r) => [r.key.slice('effect:'.length), Number(r.value)]));
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`inbox (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('commit says new once and duplicate for every re-push, also when racing from 3 stores', async () => {
      const ss = await stores(3);
      const inboxes = ss.map((s) => new Inbox(s));
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          inboxes[i % 3]!.commit('msg-1', 'stream', '/v1.0/im/bot/messages/get', { text: 'hi' }),
        ),
      );
      expect(answers.filter((a) => a === 'new')).toHaveLength(1);
      expect(await inboxes[0]!.get('msg-1')).toMatchObject({ status: 'pending', source: 'stream' });
      await expect(inboxes[0]!.commit('', 's', 't', {})).rejects.toMatchObject({ code: 'VALIDATION' });
    });

    it('100 events pushed 3 times each, processed by 3 stores at once: exactly one effect per event', async () => {
      const ss = await stores(3);
      const inboxes = ss.map((s) => new Inbox(s));
      const ids = Array.from({ length: 100 }, (_, i) => `evt-${i}`);
      // Re-deliveries arrive interleaved with processing.
      const pushes = ids.flatMap((id) => [id, id, id]).sort(() => Math.random() - 0.5);
      const committing = Promise.all(
        pushes.map((id, i) => inboxes[i % 3]!.commit(id, 'stream', 'evt', { id })),
      );
      const work = inboxes.map(async (inbox) => {
        for (let round = 0; round < 200; round++) {
          const r = await inbox.process(async (e, tx) => bump(tx, e.id), { limit: 10 });
          if (r.handled === 0 && round > 20) break;
        }
      });
      await Promise.all([committing, ...work]);
      await inboxes[0]!.process(async (e, tx) => bump(tx, e.id));
      const fx = await effects(ss[0]!);
      expect(fx.size).toBe(100);
      expect([...fx.values()].every((n) => n === 1)).toBe(true);
    });

    it('a handler that fails leaves no effect; the entry runs again and then succeeds once', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now });
      await inbox.commit('e1', 'stream', 'evt', {});
      let calls = 0;
      const handler = async (e: { id: string }, tx: Tx) => {
        calls++;
        await bump(tx, e.id);
        if (calls === 1) throw new Error('crashed after writing: access_token=leaky');
      };
      expect(await inbox.process(handler)).toMatchObject({ handled: 0, retried: 1 });
      const failed = await inbox.get('e1');
      expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
      expect(failed!.error).not.toContain('leaky');
      expect((await effects(s!)).get('e1')).toBeUndefined();
      expect(await inbox.process(handler)).toMatchObject({ handled: 0 }); // not due yet
      clock.advance(1_000);
      expect(await inbox.process(handler)).toMatchObject({ handled: 1 });
      expect((await effects(s!)).get('e1')).toBe(1);
      expect(await inbox.get('e1')).toMatchObject({ status: 'handled', attempts: 2 });
    });

    it('twin: an effect written outside the transaction is doubled by the same failure', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now });
      await inbox.commit('e1', 'stream', 'evt', {});
      const side = await stores(1); // a separate connection, as a non-transactional effect would use
      let calls = 0;
      await inbox.process(async (e) => {
        calls++;
        await bump(side[0]!.db, e.id);
        if (calls === 1) throw new Error('crash');
      });
      clock.advance(1_000);
      await inbox.process(async (e) => bump(side[0]!.db, e.id));
      expect((await effects(side[0]!)).get('e1')).toBe(2);
    });

    it('effects queued with afterCommit run once the entry has committed, never for a run that rolled back', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now });
      await inbox.commit('e1', 'stream', 'evt', {});
      // What an observer of the feed sees when the event arrives: the entry's status read from the store.
      const seen: string[] = [];
      let calls = 0;
      const handler = async (e: { id: string }, tx: Tx, afterCommit: (f: () => void) => void) => {
        calls++;
        await bump(tx, e.id);
        afterCommit(() => {
          seen.push(`published run ${calls}`);
        });
        if (calls === 1) throw new Error('rolled back after queueing the event');
      };
      expect(await inbox.process(handler)).toMatchObject({ handled: 0, retried: 1 });
      expect(seen).toEqual([]);
      clock.advance(1_000);
      const statusAtPublish: Array<string | undefined> = [];
      expect(
        await inbox.process(async (e, tx, afterCommit) => {
          await handler(e, tx, (f) =>
            afterCommit(() => {
              f();
              // Not awaited by process: read the status the next tick sees (committed, so "handled").
              void inbox.get('e1').then((r) => statusAtPublish.push(r?.status));
            }),
          );
        }),
      ).toMatchObject({ handled: 1 });
      expect(seen).toEqual(['published run 2']);
      await expect.poll(() => statusAtPublish).toEqual(['handled']);
    });

    it('twin: publishing inside the handler tells of a run that then rolls back', async () => {
      const [s] = await stores(1);
      const inbox = new Inbox(s!);
      await inbox.commit('e1', 'stream', 'evt', {});
      const seen: string[] = [];
      await inbox.process(async (e, tx) => {
        await bump(tx, e.id);
        seen.push('published'); // as inbound.command was published before the commit
        throw new Error('rolled back');
      });
      expect(seen).toEqual(['published']);
      expect((await effects(s!)).get('e1')).toBeUndefined();
    });

    it('a crashed processor (lease expired) is taken over; the late one cannot mark it handled', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const a = new Inbox(s!, { now: clock.now, owner: 'A', leaseMs: 1_000 });
      const b = new Inbox(s!, { now: clock.now, owner: 'B', leaseMs: 1_000 });
      await a.commit('e1', 'stream', 'evt', {});
      let resumeA!: () => void;
      const aRunning = a.process(async (e, tx) => {
        await bump(tx, e.id);
        await new Promise<void>((r) => {
          resumeA = r;
        });
      });
      // SQLite: A's handler holds the write transaction, so B can only act after it. PostgreSQL: B skips the
      // locked row. Either way B must not produce a second effect.
      if (s!.dialect === 'postgres') {
        await new Promise((r) => setTimeout(r, 50));
        clock.advance(1_001);
        expect(await b.process(async (e, tx) => bump(tx, e.id))).toMatchObject({ handled: 0 });
      }
      await new Promise((r) => setTimeout(r, 20));
      resumeA();
      expect(await aRunning).toMatchObject({ handled: 1 });
      clock.advance(5_000);
      expect(await b.process(async (e, tx) => bump(tx, e.id))).toMatchObject({ handled: 0 });
      expect((await effects(s!)).get('e1')).toBe(1);
    });

    it('lease takeover: an entry claimed by a dead processor is handled by another after the lease', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      await s!.db
        .insertInto('inbox')
        .values({
          id: 'e9',
          source: 'stream',
          topic: 'evt',
          payload: '{}',
          status: 'processing',
          attempts: 0,
          run_at: clock.now(),
          lease_owner: 'dead-process',
          lease_until: clock.now() + 1_000,
          error: null,
          received_at: clock.now(),
          handled_at: null,
        })
        .execute();
      const b = new Inbox(s!, { now: clock.now });
      expect(await b.process(async (e, tx) => bump(tx, e.id))).toMatchObject({ handled: 0 });
      clock.advance(1_001);
      expect(await b.process(async (e, tx) => bump(tx, e.id))).toMatchObject({ handled: 1 });
      expect((await effects(s!)).get('e9')).toBe(1);
    });

    it('the handler can enqueue outbound messages in the same transaction', async () => {
      const [s] = await stores(1);
      const inbox = new Inbox(s!);
      const box = new Outbox(s!);
      await inbox.commit('m1', 'stream', 'bot', { text: '/done 3' });
      await inbox.process(async (e, tx) => {
        await box.enqueue(
          {
            kind: 'reply',
            request: { inbox: e.id },
            idempotencyKey: `reply:${e.id}`,
            jobs: [
              {
                channel: 'robot',
                target: 'ops',
                payload: {
                  t: 'webhook' as const,
                  robot: 'ops',
                  body: { msgtype: 'text', text: { content: 'ok' } },
                },
              },
            ],
          },
          tx,
        );
      });
      expect((await box.counts()).queued).toBe(1);
      // Failing after the enqueue rolls the enqueue back too.
      await inbox.commit('m2', 'stream', 'bot', {});
      await inbox.process(async (e, tx) => {
        await box.enqueue(
          {
            kind: 'reply',
            request: {},
            jobs: [
              {
                channel: 'robot',
                target: e.id,
                payload: {
                  t: 'webhook' as const,
                  robot: 'ops',
                  body: { msgtype: 'text', text: { content: 'ok' } },
                },
              },
            ],
          },
          tx,
        );
        throw new Error('boom');
      });
      expect((await box.counts()).queued).toBe(1);
    });

    it('gives up after maxAttempts (status failed, error kept) and purge keeps unhandled rows', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now, maxAttempts: 2, retryDelayMs: () => 10 });
      await inbox.commit('bad', 'stream', 'evt', {});
      await inbox.commit('good', 'stream', 'evt', {});
      const h = async (e: { id: string }) => {
        if (e.id === 'bad') throw new Error('cannot parse');
      };
      await inbox.process(h);
      clock.advance(10);
      expect(await inbox.process(h)).toMatchObject({ failed: 1 });
      expect(await inbox.get('bad')).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: 'ERROR: cannot parse',
      });
      clock.advance(86_400_000);
      expect(await inbox.purge(clock.now())).toBe(1);
      expect(await inbox.get('bad')).toBeDefined();
      expect(await inbox.get('good')).toBeUndefined();
    });

    it('purge never forgets an id inside the dedupe window, whatever the caller asks', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now, dedupeWindowMs: 86_400_000 });
      await inbox.commit('seen', 'stream', 'evt', {});
      await inbox.process(async () => {});
      clock.advance(23 * 3_600_000);
      expect(await inbox.purge(clock.now())).toBe(0);
      expect(await inbox.commit('seen', 'stream', 'evt', {})).toBe('duplicate');
      clock.advance(3_600_000 + 1);
      expect(await inbox.purge(clock.now())).toBe(1);
      expect(await inbox.commit('seen', 'stream', 'evt', {})).toBe('new');
    });

    it('purges in batches and stops when told to between them', async () => {
      const [s] = await stores(1);
      const clock = new FakeClock();
      const inbox = new Inbox(s!, { now: clock.now });
      for (let i = 0; i < 7; i++) await inbox.commit(`e${i}`, 'stream', 'evt', {});
      await inbox.process(async () => {});
      clock.advance(2 * 86_400_000);
      let batches = 0;
      const first = await inbox.purge(clock.now(), { batchSize: 3, between: () => ++batches < 2 });
      expect([first, batches]).toEqual([6, 2]);
      expect(await inbox.purge(clock.now(), { batchSize: 3 })).toBe(1);
    });
  });
}
