/**
 * Per-conversation ordering is opt-in: an ordered message waits for the earlier ordered
 * messages of its conversation, and a parked one holds back those of its own key only; unordered messages are
 * never held back by a parked one. The parked head is made with the emulator: an app-robot group send whose
 * connection is reset after the request was read has an unknown outcome, which the hub parks (hold mode).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { backends, ENG, type HubFixture, startTestHub, waitFor } from './hub-helpers.js';

const APP_GROUP_SEND = 'POST /v1.0/robot/groupMessages/send';

/** Sends `text` while every app-robot group send is cut off unapplied, and waits until the hub parked it. */
async function parkedSend(hub: RunningHub<Emulator>, text: string, ordered: boolean): Promise<string> {
  const emu = hub.emulator!;
  emu.setFaults({ rules: [{ route: APP_GROUP_SEND, resetAfter: 1, acceptFirst: 0 }] });
  try {
    const r = await hub.sendMessage({ group: 'engineering', text, ordered }, { by: 't' });
    return await waitFor(
      async () => {
        const d = (await hub.getMessage(r.messageId))?.deliveries[0];
        return d?.status === 'parked' ? d.id : undefined;
      },
      10_000,
      `"${text}" parked`,
    );
  } finally {
    emu.setFaults({ rules: [] });
  }
}

const texts = (hub: RunningHub<Emulator>) => hub.emulator!.messages(ENG).map((m) => m.text);

async function statusOf(hub: RunningHub<Emulator>, messageId: string): Promise<string | undefined> {
  return (await hub.getMessage(messageId))?.deliveries[0]?.status;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub ordering over the emulator (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('holds ordered messages behind a parked ordered head of their key only, then delivers all in order', async () => {
      const { hub } = f;
      const head = await parkedSend(hub, 'ordered head', true);
      const after: string[] = [];
      for (const n of [1, 2, 3]) {
        after.push(
          (
            await hub.sendMessage(
              { group: 'engineering', text: `ordered after ${n}`, ordered: true },
              { by: 't' },
            )
          ).messageId,
        );
      }
      // Not held back: an unordered message of the same group, and an ordered message of another conversation.
      await hub.sendMessage(
        { group: 'engineering', text: 'unordered meanwhile', ordered: false },
        { by: 't' },
      );
      await hub.sendMessage({ to: ['张三'], text: 'other conversation', ordered: true }, { by: 't' });
      await waitFor(() => texts(hub).includes('unordered meanwhile'), 5_000, 'the unordered message');
      await waitFor(
        () => hub.emulator!.messages('oto:zhangsan').some((m) => m.text === 'other conversation'),
        5_000,
        'the other conversation',
      );
      // The dispatcher polls every 20 ms: give it many rounds to (wrongly) send the held messages.
      await new Promise((r) => setTimeout(r, 400));
      expect(texts(hub).filter((t) => t.startsWith('ordered'))).toEqual([]);
      for (const id of after) expect(await statusOf(hub, id)).toBe('queued');

      // The operator redrives the head: it goes first, then the rest in acceptance order.
      expect(await hub.redrive([head], { by: 't' })).toBe(1);
      await waitFor(() => texts(hub).filter((t) => t.startsWith('ordered')).length === 4, 5_000, 'all four');
      expect(texts(hub).filter((t) => t.startsWith('ordered'))).toEqual([
        'ordered head',
        'ordered after 1',
        'ordered after 2',
        'ordered after 3',
      ]);
    });

    it('does not hold back later messages of an unordered conversation behind a parked one', async () => {
      const { hub } = f;
      const parked = await parkedSend(hub, 'free head', false);
      const later = ['free 1', 'free 2', 'free 3'];
      for (const text of later) await hub.sendMessage({ group: 'engineering', text }, { by: 't' });
      await waitFor(() => later.every((t) => texts(hub).includes(t)), 5_000, 'the later messages');
      expect(texts(hub)).not.toContain('free head');
      expect((await hub.listDeliveries({ status: 'parked' })).map((d) => d.id)).toContain(parked);
    });

    it('keeps the parts of one split message in order in an unordered conversation', async () => {
      const { hub } = f;
      const lines = Array.from(
        { length: 3000 },
        (_, i) => `item ${String(i).padStart(4, '0')} ${'y'.repeat(8)}`,
      );
      // App-robot sends cap msgParam at 15,000 bytes: several parts, each on the message's own key.
      const r = await hub.sendMessage({ group: 'engineering', text: lines.join('\n') }, { by: 't' });
      expect(r.deliveries.length).toBeGreaterThan(2);
      const parts = await waitFor(() => {
        const ms = texts(hub).filter((t) => /item \d{4}/.test(t));
        return ms.length >= r.deliveries.length ? ms : undefined;
      });
      const firstItems = parts.map((t) => Number(/item (\d{4})/.exec(t)![1]));
      expect(firstItems).toEqual([...firstItems].sort((a, b) => a - b));
      expect(parts.flatMap((t) => [...t.matchAll(/item (\d{4})/g)])).toHaveLength(3000);
    });
  });
}
