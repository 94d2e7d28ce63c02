/**
 * The send-result checker on both stores, with a fake DingTalk port that counts questions: several hub processes
 * (each its own store connection) never ask about one delivery at once, the per-app budget holds, and a drop's
 * fallback is enqueued once. Each defence is written as the attack, with its twin: the same round without the
 * claim asks twice, the same round without the budget asks more, the same drop with its fallback mark cleared
 * sends again.
 */

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { parseConfig } from '../../src/hub/config.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { createOutboxPort } from '../../src/hub/delivery/outbox-adapter.js';
import type { DingTalkPort, NoticeSendResult } from '../../src/hub/dingtalk/port.js';
import { ResultChecker } from '../../src/hub/results/checker.js';
import { EventBus } from '../../src/observe/events.js';
import { Registry } from '../../src/observe/metrics.js';
import type { Store } from '../../src/store/open-store.js';
import { backends, freshStores } from './backends.js';
import { FakeClock } from './helpers.js';

function config(notices: Record<string, unknown> = {}) {
  return parseConfig(
    {
      apps: { hub: { appKey: 'dingapp', appSecret: 's3cr3t-app-secret', agentId: 3001 } },
      notices: {
        firstCheckMs: 1_000,
        maxIntervalMs: 60_000,
        windowMs: 3_600_000,
        // Room for every question of a test, unless the test is about the budget.
        budget: { limit: 1_000, windowMs: 1_000 },
        ...notices,
      },
    },
    {},
  );
}

/** A port that answers getsendresult from `answer` and counts the questions, each taking `delayMs`. */
function fakePort(answer: (taskId: string) => NoticeSendResult, delayMs = 15) {
  const asked: string[] = [];
  const port = {
    async noticeResult(_app: string, taskId: string) {
      asked.push(taskId);
      await new Promise((r) => setTimeout(r, delayMs));
      return answer(taskId);
    },
  } as unknown as DingTalkPort;
  return { port, asked };
}

const delivered = (userId: string): NoticeSendResult => ({
  invalidUserIds: [],
  failedUserIds: [],
  readUserIds: [],
  unreadUserIds: [userId],
  forbidden: [],
});

/** `n` work notices to `userId`, sent (as the dispatcher records a send) at `at`. */
async function sentNotices(store: Store, n: number, at: number, userId = 'lisi'): Promise<number[]> {
  const box = new Outbox(store, { now: () => at });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await box.enqueue({
      kind: 'message',
      request: { i },
      jobs: [
        {
          channel: 'notice',
          target: 'Li Si',
          payload: {
            t: 'notice',
            app: 'hub',
            userIds: [userId],
            msg: { msgtype: 'text', text: { content: `n${i}` } },
          },
        },
      ],
    });
    const id = r.deliveries[0]!.id;
    await store.db
      .updateTable('deliveries')
      .set({ status: 'sent', remote_id: String(9_000 + id), finished_at: at, updated_at: at })
      .where('id', '=', id)
      .execute();
    ids.push(id);
  }
  return ids;
}

function checker(
  store: Store,
  port: DingTalkPort,
  clock: FakeClock,
  o: { notices?: Record<string, unknown>; unsafeNoClaim?: boolean } = {},
) {
  return new ResultChecker({
    config: config(o.notices),
    store,
    dingtalk: port,
    outbox: createOutboxPort(new Outbox(store, { now: clock.now })),
    events: new EventBus(),
    metrics: new Registry(),
    logger: silentLogger,
    now: clock.now,
    ...(o.unsafeNoClaim ? { unsafeNoClaim: true } : {}),
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`send-result checker (${backend.name})`, () => {
    const stores = freshStores(backend);

    it('two processes asking at once: each due delivery is asked about once', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      await sentNotices(s1!, 10, clock.t);
      clock.advance(1_000);
      const { port, asked } = fakePort(() => delivered('lisi'));
      const a = checker(s1!, port, clock);
      const b = checker(s2!, port, clock);
      await Promise.all([a.runOnce(), b.runOnce()]);
      expect(asked).toHaveLength(10);
      expect(new Set(asked).size).toBe(10);
      // Not due again until the backoff's wait (2 s) has passed.
      clock.advance(1_500);
      await Promise.all([a.runOnce(), b.runOnce()]);
      expect(asked).toHaveLength(10);
      clock.advance(600);
      await Promise.all([a.runOnce(), b.runOnce()]);
      expect(asked).toHaveLength(20);
    });

    it('twin: the same two rounds without the claim ask about the same deliveries twice', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      await sentNotices(s1!, 10, clock.t);
      clock.advance(1_000);
      const { port, asked } = fakePort(() => delivered('lisi'));
      const a = checker(s1!, port, clock, { unsafeNoClaim: true });
      const b = checker(s2!, port, clock, { unsafeNoClaim: true });
      await Promise.all([a.runOnce(), b.runOnce()]);
      expect(asked.length).toBeGreaterThan(10);
    });

    it('a round whose DingTalk is slow gives back what it cannot ask before its leases run low, for another to ask', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      await sentNotices(s1!, 6, clock.t);
      clock.advance(1_000);
      // Each question takes 4 s of the fake clock; the lease is 10 s, so after two the third would start with less
      // than a third of it left.
      const asked: string[] = [];
      const slow = {
        async noticeResult(_app: string, taskId: string) {
          asked.push(taskId);
          clock.advance(4_000);
          return delivered('lisi');
        },
      } as unknown as DingTalkPort;
      const a = new ResultChecker({
        config: config(),
        store: s1!,
        dingtalk: slow,
        outbox: createOutboxPort(new Outbox(s1!, { now: clock.now })),
        events: new EventBus(),
        metrics: new Registry(),
        logger: silentLogger,
        now: clock.now,
        leaseMs: 10_000,
      });
      await a.runOnce();
      expect(asked).toHaveLength(2);
      const free = await s1!.db
        .selectFrom('send_checks')
        .select('handle')
        .where('lease_owner', 'is', null)
        .where('checks', '=', 0)
        .execute();
      expect(free).toHaveLength(4);
      // Another process takes them at once, not after the leases would have run out.
      const { port, asked: other } = fakePort(() => delivered('lisi'), 1);
      await checker(s2!, port, clock).runOnce();
      expect(other).toEqual(expect.arrayContaining(free.map((f) => f.handle)));
    });

    it('the per-app budget holds across processes: 3 questions per window, the rest wait for it', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      const ids = await sentNotices(s1!, 6, clock.t);
      clock.advance(1_000);
      const { port, asked } = fakePort(() => delivered('lisi'), 1);
      const budget = { budget: { limit: 3, windowMs: 10_000 } };
      await Promise.all([
        checker(s1!, port, clock, { notices: budget }).runOnce(),
        checker(s2!, port, clock, { notices: budget }).runOnce(),
      ]);
      expect(asked).toHaveLength(3);
      const waiting = await s1!.db
        .selectFrom('send_checks')
        .select(['delivery_id', 'due_at', 'checks'])
        .where('checks', '=', 0)
        .execute();
      expect(waiting).toHaveLength(3);
      // They wait for the window's edge, not the next poll.
      for (const w of waiting) expect(Number(w.due_at)).toBeGreaterThan(clock.t + 8_000);
      expect(ids).toHaveLength(6);
    });

    it('twin: without a budget to speak of, the same round asks all six at once', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      await sentNotices(s1!, 6, clock.t);
      clock.advance(1_000);
      const { port, asked } = fakePort(() => delivered('lisi'), 1);
      const budget = { budget: { limit: 1_000, windowMs: 10_000 } };
      await Promise.all([
        checker(s1!, port, clock, { notices: budget }).runOnce(),
        checker(s2!, port, clock, { notices: budget }).runOnce(),
      ]);
      expect(asked).toHaveLength(6);
    });

    it('a drop seen by two checkers that do not coordinate is still given one fallback; with its mark cleared, a second', async () => {
      const [s1, s2] = await stores(2);
      const clock = new FakeClock();
      const [id] = await sentNotices(s1!, 1, clock.t);
      clock.advance(1_000);
      const { port } = fakePort(() => ({
        ...delivered('x'),
        unreadUserIds: [],
        forbidden: [{ userId: 'lisi', code: 143105, reason: 'daily cap reached' }],
      }));
      const fallback = { droppedFallback: 'app-robot' };
      const a = checker(s1!, port, clock, { notices: fallback, unsafeNoClaim: true });
      const b = checker(s2!, port, clock, { notices: fallback, unsafeNoClaim: true });
      await Promise.all([a.runOnce(), b.runOnce()]);
      const fallbacks = () =>
        s1!.db.selectFrom('messages').select('id').where('kind', '=', 'fallback').execute();
      expect(await fallbacks()).toHaveLength(1);
      const row = await s1!.db
        .selectFrom('delivery_recipients')
        .selectAll()
        .where('delivery_id', '=', id!)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ outcome: 'dropped', reason_code: '143105' });
      expect(row.fallback_delivery_id).not.toBeNull();

      // Twin: the mark is what stops a second one (the outbox's own key is per request and scoped, so clear both).
      await s1!.db
        .updateTable('delivery_recipients')
        .set({ fallback_at: null, outcome: 'pending' })
        .execute();
      await s1!.db
        .updateTable('messages')
        .set({ idempotency_key: null })
        .where('kind', '=', 'fallback')
        .execute();
      await s1!.db.updateTable('send_checks').set({ done_at: null, due_at: clock.t }).execute();
      await a.runOnce();
      expect(await fallbacks()).toHaveLength(2);
    });
  });
}
