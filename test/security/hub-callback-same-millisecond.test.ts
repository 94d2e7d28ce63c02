/**
 * Two genuine robot callbacks in the same millisecond (found by test/chaos/hub-http.test.ts). A robot callback's
 * signature covers only its timestamp (docs/dingtalk.md §9a), so two messages DingTalk pushes to the hub in one
 * millisecond carry the same `timestamp`/`sign` pair, exactly as an attacker's body under a captured pair would.
 * The hub used to answer the second 200 as a "replay" and store nothing: the message was lost without a trace.
 * Now the second is answered 500 and not stored, DingTalk sends it again under a new timestamp, and both apply once.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { signBotCallback } from '../../src/callback/index.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import type { ApiTokenVerifier } from '../../src/server/auth.js';
import { backends, ENG, type HubFixture, startTestHub, testConfig } from '../e2e/hub-helpers.js';

const noTokens: ApiTokenVerifier = {
  verify: async () => undefined,
  check: async () => ({ ok: false, reason: 'unknown' }) as never,
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`robot callbacks sharing a millisecond (${backend.name})`, () => {
    it('the second is answered 500 and stored only when sent again under a new timestamp; both apply once', async () => {
      const f: HubFixture = await startTestHub(backend, {
        config: testConfig({ inbound: { mode: 'http' } }),
      });
      cleanups.push(() => f.cleanup());
      const server: ApiServer = await createApiServer(f.hub, {
        tokens: noTokens,
        callbacks: f.hub.callbacks!,
      });
      cleanups.push(() => server.close());
      const app = f.hub.emulator!.state.org.apps[0]!;
      const t1 = await f.hub.assignTask(
        { title: 'ms-1', assignees: ['lisi'], group: 'engineering' },
        { by: 't' },
      );
      const t2 = await f.hub.assignTask(
        { title: 'ms-2', assignees: ['lisi'], group: 'engineering' },
        { by: 't' },
      );
      const body = (msgId: string, text: string) =>
        JSON.stringify({
          msgtype: 'text',
          text: { content: ` ${text}` },
          msgId,
          createAt: Date.now(),
          conversationType: '2',
          conversationId: ENG,
          senderStaffId: 'lisi',
          senderNick: '李四',
          robotCode: app.appKey,
          isInAtList: true,
        });
      const send = async (ts: number, b: string) => {
        const res = await fetch(`${server.url}/callbacks/robot`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            timestamp: String(ts),
            sign: signBotCallback(app.appSecret, ts),
          },
          body: b,
        });
        await res.text();
        return res.status;
      };
      const ts = Date.now();
      expect(await send(ts, body('msgSameMs1', `start ${t1.id}`))).toBe(200);
      // DingTalk's second message of the same millisecond: not taken, and not answered success.
      expect(await send(ts, body('msgSameMs2', `start ${t2.id}`))).toBe(500);
      const ids = async () =>
        (await f.store.db.selectFrom('inbox').select('id').where('id', 'like', 'bot:msgSameMs%').execute())
          .map((r) => r.id)
          .sort();
      expect(await ids()).toEqual(['bot:msgSameMs1']);
      // DingTalk's retry: the same message under a new timestamp.
      expect(await send(ts + 7, body('msgSameMs2', `start ${t2.id}`))).toBe(200);
      expect(await ids()).toEqual(['bot:msgSameMs1', 'bot:msgSameMs2']);
      await f.hub.drainInbox();
      for (const t of [t1, t2]) {
        const task = (await f.hub.getTask(t.id))!;
        expect(task.state).toBe('in_progress');
        expect(task.history.filter((e) => e.kind === 'start')).toHaveLength(1);
      }
      // The first message again under its own pair: a replay, answered 200, applied no second time.
      expect(await send(ts, body('msgSameMs1', `start ${t1.id}`))).toBe(200);
      expect(await ids()).toEqual(['bot:msgSameMs1', 'bot:msgSameMs2']);
    });
  });
}
