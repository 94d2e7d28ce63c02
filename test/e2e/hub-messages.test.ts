import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, ENG, type HubFixture, OPS, startTestHub, waitFor } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub messages over the emulator (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend);
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('derives its config from the demo org and routes a group message through the custom robot', async () => {
      const { hub } = f;
      expect(Object.keys(hub.config.groups).sort()).toEqual(['engineering', 'ops', 'product']);
      const r = await hub.sendMessage(
        { group: 'ops', text: 'deploy {{v}} done', vars: { v: 'v2' } },
        { by: 't' },
      );
      expect(r.duplicate).toBe(false);
      expect(r.deliveries).toHaveLength(1);
      const got = await waitFor(() =>
        hub.emulator!.messages(OPS).find((m) => m.text.includes('deploy v2 done')),
      );
      expect(got.source).toBe('custom_robot');
      expect(got.robot).toBe('alerts');
      await waitFor(async () => (await hub.getMessage(r.messageId))?.deliveries[0]?.status === 'sent');
    });

    it('writes @mentions by name as rendered handles and fills `at`', async () => {
      const { hub } = f;
      await hub.sendMessage(
        { group: 'ops', text: 'please look @Alice Chen', mention: ['Alice Chen', 'bob'] },
        { by: 't' },
      );
      const m = await waitFor(() => hub.emulator!.messages(OPS).find((x) => x.text.includes('please look')));
      expect(m.text).toContain('@alice');
      expect(m.text).toContain('@bob');
      expect(m.text).not.toContain('@Alice Chen');
      expect(m.atUserIds.sort()).toEqual(['alice', 'bob']);
    });

    it('sends through the app robot where the group has no custom robot, and 1:1 to a person by name', async () => {
      const { hub } = f;
      await hub.sendMessage({ group: 'engineering', text: '**build** green', title: 'CI' }, { by: 't' });
      const g = await waitFor(() => hub.emulator!.messages(ENG).find((x) => x.text.includes('green')));
      expect(g.source).toBe('app_robot');
      expect(g.type).toBe('sampleMarkdown');
      await hub.sendMessage({ to: ['张三'], text: 'hello 张三' }, { by: 't' });
      const o = await waitFor(() =>
        hub.emulator!.messages('oto:zhangsan').find((x) => x.text.includes('hello')),
      );
      expect(o.source).toBe('app_robot');
      await hub.sendMessage({ to: ['lisi'], via: 'notice', text: 'notice for lisi' }, { by: 't' });
      await waitFor(() =>
        hub.emulator!.notices('lisi').find((n) => JSON.stringify(n.msg).includes('notice for lisi')),
      );
    });

    it('splits a long text into ordered parts that arrive in order', async () => {
      const { hub } = f;
      const lines = Array.from(
        { length: 2500 },
        (_, i) => `row ${String(i).padStart(4, '0')} ${'x'.repeat(10)}`,
      );
      const r = await hub.sendMessage({ group: 'ops', text: `BIG\n${lines.join('\n')}` }, { by: 't' });
      expect(r.deliveries.length).toBeGreaterThan(1);
      const count = r.deliveries.length;
      const parts = await waitFor(() => {
        const ms = hub.emulator!.messages(OPS).filter((m) => /row \d{4}/.test(m.text));
        return ms.length >= count ? ms : undefined;
      });
      expect(parts).toHaveLength(count);
      const firstRows = parts.map((m) => Number(/row (\d{4})/.exec(m.text)![1]));
      expect([...firstRows].sort((a, b) => a - b)).toEqual(firstRows);
      for (const m of parts) expect(Buffer.byteLength(m.text)).toBeLessThanOrEqual(20_000);
      // Nothing lost: every row arrived exactly once.
      const all = parts.flatMap((m) => [...m.text.matchAll(/row (\d{4})/g)].map((x) => x[1]));
      expect(new Set(all).size).toBe(2500);
      expect(all).toHaveLength(2500);
    });

    it('answers a repeated idempotency key with the first result and sends nothing new', async () => {
      const { hub } = f;
      const a = await hub.sendMessage(
        { group: 'ops', text: 'once only', idempotencyKey: 'k-1' },
        { by: 't' },
      );
      const b = await hub.sendMessage(
        { group: 'ops', text: 'once only', idempotencyKey: 'k-1' },
        { by: 't' },
      );
      expect(b.duplicate).toBe(true);
      expect(b.messageId).toBe(a.messageId);
      await waitFor(() => hub.emulator!.messages(OPS).some((m) => m.text === 'once only'));
      await new Promise((r) => setTimeout(r, 200));
      expect(hub.emulator!.messages(OPS).filter((m) => m.text === 'once only')).toHaveLength(1);
    });

    it('retries a webhook send whose outcome was unknown without a duplicate (msgUuid)', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const faultsBefore = emu.faultLog().length;
      // The emulator accepts the message, then resets the connection: the hub cannot know it arrived.
      emu.setFaults({ rules: [{ route: 'POST /robot/send', resetAfter: 1, acceptFirst: 1 }] });
      let id = '';
      try {
        id = (await hub.sendMessage({ group: 'ops', text: 'ambiguous once' }, { by: 't' })).messageId;
        await waitFor(() => emu.faultLog().length > faultsBefore);
      } finally {
        emu.setFaults({ rules: [] });
      }
      const d = await waitFor(async () => {
        const m = await hub.getMessage(id);
        return m?.deliveries[0]?.status === 'sent' ? m.deliveries[0] : undefined;
      }, 10_000);
      expect(d.attempts).toBeGreaterThanOrEqual(2);
      expect(emu.messages(OPS).filter((m) => m.text === 'ambiguous once')).toHaveLength(1);
    });

    it('refuses bad input with a typed error and sends nothing', async () => {
      const { hub } = f;
      const before = hub.emulator!.messages().length;
      await expect(hub.sendMessage({ group: 'nope', text: 'x' }, { by: 't' })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
      await expect(hub.sendMessage({ group: 'product', text: 'no keyword' }, { by: 't' })).rejects.toThrow(
        /keywords/,
      );
      await expect(hub.sendMessage({ to: ['nobody'], text: 'x' }, { by: 't' })).rejects.toThrow(
        /unknown person/,
      );
      await expect(hub.sendMessage({ group: 'ops', text: '{{missing}}' }, { by: 't' })).rejects.toThrow(
        /missing/,
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(hub.emulator!.messages().length).toBe(before);
    });
  });
}
