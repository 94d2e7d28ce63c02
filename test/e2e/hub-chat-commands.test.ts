/**
 * The whole chat command set over each receiver (`inbound.mode` stream and http) on each store: the same commands
 * give the same answers and the same changes whichever door DingTalk used (src/hub/inbound/receiver.ts). Over
 * Stream the emulator pushes a bot CALLBACK frame (docs/dingtalk.md §S7); over HTTP a signed POST to
 * `/callbacks/robot` (§9a). Each command is checked for its answer in the group and its effect applied once; the
 * inbox records which door each message came through, and the health report names the receiver.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/server/api-server.js';
import {
  backends,
  ENG,
  type HubFixture,
  serveCallbacks,
  startTestHub,
  testConfig,
  waitFor,
} from './hub-helpers.js';

const MODES = ['stream', 'http'] as const;

for (const backend of backends) {
  for (const mode of MODES) {
    describe.skipIf(backend.skip)(`chat commands over ${mode} (${backend.name})`, () => {
      let f: HubFixture;
      let server: ApiServer | undefined;
      let posted = 0;
      beforeAll(async () => {
        f = await startTestHub(backend, { config: testConfig({ inbound: { mode } }) });
        if (mode === 'http') {
          server = await serveCallbacks(f.hub);
        }
      });
      afterAll(async () => {
        await server?.close();
        await f?.cleanup();
      });

      /** Posts in the engineering group, @bot, and waits for a bot message there that `match`es. */
      const say = async (from: string, text: string, match: (t: string) => boolean) => {
        const emu = f.hub.emulator!;
        const seen = emu.messages(ENG).length;
        const r = await emu.postMessage(ENG, { from, text, atBot: true });
        posted++;
        if (mode === 'http') expect(r.http).toMatchObject({ ok: true });
        else expect(r.frameMessageId).toBeDefined();
        return waitFor(
          () =>
            emu
              .messages(ENG)
              .slice(seen)
              .find((m) => m.source !== 'user' && match(m.text)),
          5_000,
          `answer to "${text}"`,
        );
      };
      const task = (title: string, assignees = ['lisi']) =>
        f.hub.assignTask({ title, assignees, group: 'engineering' }, { by: 'test' });
      const history = async (id: number, kind: string) =>
        (await f.hub.getTask(id))!.history.filter((e) => e.kind === kind).length;

      it('the health report names this receiver', async () => {
        const h = await f.hub.health();
        expect(h.receivers?.map((r) => r.name)).toEqual([mode]);
        if (mode === 'http') {
          expect(h.receivers?.[0]).toMatchObject({
            state: 'ready',
            routes: ['/callbacks/robot', '/callbacks/events', '/callbacks/card'],
          });
          expect(h.stream).toBe('off');
        } else {
          await waitFor(async () => (await f.hub.health()).receivers?.[0]?.state === 'connected');
        }
      });

      it('help (English and Chinese) and an unknown command', async () => {
        await say('lisi', 'help', (t) => t.startsWith('I understand (English or Chinese):'));
        await say('lisi', '帮助', (t) => t.startsWith('我能听懂'));
        await say('lisi', 'fly me to the moon', (t) =>
          t.startsWith('I did not understand "fly me to the moon"'),
        );
      });

      it('tasks: the sender’s open tasks only', async () => {
        const mine = await task(`${mode}-mine`);
        const theirs = await task(`${mode}-theirs`, ['wangwu']);
        const answer = await say('lisi', 'tasks', (t) => t.startsWith('Your open tasks'));
        expect(answer.text).toContain(`#${mine.id} ${mode}-mine`);
        expect(answer.text).not.toContain(`#${theirs.id} `);
        await say('alice', 'tasks', (t) => t === 'You have no open tasks.');
      });

      it('start, done and cancel: each announced once in the task’s group and applied once', async () => {
        const a = await task(`${mode}-a`);
        await say('lisi', `start ${a.id}`, (t) => t === `Task #${a.id} started by 李四: ${mode}-a`);
        await say('lisi', `done ${a.id}`, (t) => t === `Task #${a.id} finished by 李四: ${mode}-a`);
        const b = await task(`${mode}-b`);
        await say('lisi', `cancel ${b.id}`, (t) => t === `Task #${b.id} cancelled by 李四: ${mode}-b`);
        await f.hub.drainInbox();
        expect((await f.hub.getTask(a.id))?.state).toBe('done');
        expect((await f.hub.getTask(b.id))?.state).toBe('cancelled');
        expect([
          await history(a.id, 'start'),
          await history(a.id, 'done'),
          await history(b.id, 'cancel'),
        ]).toEqual([1, 1, 1]);
      });

      it('refusals: no such task, not yours, already done (nothing changes)', async () => {
        await say('lisi', 'start 999999', (t) =>
          t.startsWith('I cannot change task #999999: there is no such task, or it is not yours'),
        );
        const other = await task(`${mode}-other`, ['wangwu']);
        // Not an assignee: the same answer as "no such task", and nothing changes.
        await say('lisi', `done ${other.id}`, (t) =>
          t.startsWith(`I cannot change task #${other.id}: there is no such`),
        );
        expect((await f.hub.getTask(other.id))?.state).toBe('open');
        const fin = await task(`${mode}-fin`);
        await say('lisi', `done ${fin.id}`, (t) => t === `Task #${fin.id} finished by 李四: ${mode}-fin`);
        await say('lisi', `start ${fin.id}`, (t) => t === `Task #${fin.id} is already done.`);
        await say('lisi', `done ${fin.id}`, (t) => t === `Task #${fin.id} is already done.`);
        expect(await history(fin.id, 'done')).toBe(1);
        expect(await history(fin.id, 'start')).toBe(0);
      });

      it('a message DingTalk pushes again after its answer is applied once (the inbox keys it by msgId)', async () => {
        const emu = f.hub.emulator!;
        const t = await task(`${mode}-again`);
        // Stream: acked frames pushed again (§S9); HTTP: answered callbacks pushed again (a lost 200).
        emu.setFaults(
          mode === 'http'
            ? { seed: 5, callbacks: { repushAnsweredRate: 1 } }
            : { stream: { repushAckedRate: 1, seed: 5 } },
        );
        try {
          await say('lisi', `start ${t.id}`, (x) => x === `Task #${t.id} started by 李四: ${mode}-again`);
          if (mode === 'http') {
            expect(emu.acting.callbacks.at(-1)).toMatchObject({ reason: 'answered_repush', ok: true });
          } else {
            await waitFor(() => emu.gateway.log().frames.some((fr) => fr.reason === 'acked_repush'));
          }
          await new Promise((r) => setTimeout(r, 200));
          await f.hub.drainInbox();
        } finally {
          emu.setFaults({});
        }
        expect(await history(t.id, 'start')).toBe(1);
        // One answer: a second application would have answered "already in progress" as well.
        const about = emu
          .messages(ENG)
          .filter((m) => m.source !== 'user' && m.text.startsWith(`Task #${t.id} `));
        expect(about.map((m) => m.text)).toEqual([`Task #${t.id} started by 李四: ${mode}-again`]);
      });

      it('twin: the same words as a new message (a new msgId) are a second command, so the dedupe above held', async () => {
        const t = await task(`${mode}-twice`);
        await say('lisi', `start ${t.id}`, (x) => x === `Task #${t.id} started by 李四: ${mode}-twice`);
        await say('lisi', `start ${t.id}`, (x) => x.startsWith(`Task #${t.id} is already`));
        const emu = f.hub.emulator!;
        expect(
          emu.messages(ENG).filter((m) => m.source !== 'user' && m.text.startsWith(`Task #${t.id} `)),
        ).toHaveLength(2);
      });

      it('every message is one inbox entry, handled, from this door', async () => {
        await f.hub.drainInbox();
        const rows = await f.store.db
          .selectFrom('inbox')
          .select(['id', 'source', 'status'])
          .where('id', 'like', 'bot:%')
          .execute();
        expect(rows).toHaveLength(posted);
        expect(new Set(rows.map((r) => r.source))).toEqual(new Set([mode]));
        expect(rows.every((r) => r.status === 'handled')).toBe(true);
      });
    });
  }
}
