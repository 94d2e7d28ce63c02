/**
 * An app-robot 1:1 message DingTalk accepts but flow-controls (docs/dingtalk.md §3.1: success, with the person in
 * `flowControlledStaffIdList` and nothing delivered). The emulator flow-controls a second 1:1 message to the same
 * person within its window (`otoFlowLimit`); the hub must take that answer for what it is, a message not sent, and
 * send it again after `dispatcher.flowControlRetryMs` instead of marking it sent. On SQLite and PostgreSQL.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMessage } from '../../src/api/robot/app-templates.js';
import { clientFor } from '../integration/api-support.js';
import { backends, type HubFixture, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const WINDOW_MS = 1_200;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`app-robot 1:1 sends DingTalk flow-controls (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({
          dispatcher: { pollMs: 20, leaseMs: 5_000, maxAttempts: 3, flowControlRetryMs: 300 },
          // Nothing asked after the send: this test is about the send's own answer.
          notices: { checkResults: false },
        }),
        emulator: { limits: { otoFlowLimit: 1, otoFlowWindowMs: WINDOW_MS } },
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('the fault is real: DingTalk answers success, names the person, and delivers nothing', async () => {
      const emu = f.hub.emulator!;
      const dt = clientFor(emu);
      const before = emu.messages('oto:wangwu').length;
      const first = await dt.robot.sendToUsers({ userIds: ['wangwu'], message: appMessage.text('one') });
      const second = await dt.robot.sendToUsers({ userIds: ['wangwu'], message: appMessage.text('two') });
      expect(first.flowControlledStaffIdList).toEqual([]);
      expect(second.flowControlledStaffIdList).toEqual(['wangwu']);
      expect(second.processQueryKey).not.toBe('');
      expect(
        emu
          .messages('oto:wangwu')
          .slice(before)
          .map((m) => m.text),
      ).toEqual(['one']);
    });

    it('the hub sends a flow-controlled message again after the wait; both arrive, each once', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const a = await hub.sendMessage({ to: ['李四'], text: 'first of two' }, { by: 't' });
      const b = await hub.sendMessage({ to: ['李四'], text: 'second of two' }, { by: 't' });
      const idB = b.deliveries[0]!.id;
      const texts = () =>
        emu
          .messages('oto:lisi')
          .map((m) => m.text)
          .filter((t) => t.endsWith('of two'));
      await waitFor(() => texts().length === 2, 10_000, 'both messages at the emulator');
      expect(texts().sort()).toEqual(['first of two', 'second of two']);
      // The one that came second was flow-controlled first: deferred (not an attempt), then sent.
      const status = async (id: string) => (await hub.getMessage(id))?.deliveries[0]?.status;
      await waitFor(
        async () => (await status(a.messageId)) === 'sent' && (await status(b.messageId)) === 'sent',
      );
      const d = (await hub.getMessage(b.messageId))!.deliveries[0]!;
      const first = (await hub.getMessage(a.messageId))!.deliveries[0]!;
      const later = [d, first].find((x) => x.lastError?.includes('flow-controlled'));
      expect(later, `one of ${idB} / ${first.id} was deferred as flow-controlled`).toBeDefined();
      // Each once: nothing was marked sent while DingTalk held it back, and nothing arrived twice.
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      expect(texts()).toHaveLength(2);
    });
  });
}
