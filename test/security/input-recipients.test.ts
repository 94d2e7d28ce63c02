/**
 * Attack: one recipient named many times (100 copies of `lisi` in `to`, or the same person by name and by userId)
 * made the hub send one identical message per copy: spam on the recipient's phone and the app's DingTalk quota
 * burnt. Defence: every list of recipients is merged (first order kept) after names are resolved to people, so
 * `['张三', 'zhangsan']` is one person too. Through a real hub's HTTP API; counted at the emulator.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  type HubApi,
  type HubFixture,
  hubApi,
  OPS,
  startTestHub,
  waitFor,
} from '../e2e/hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

describe('duplicate recipients are merged', () => {
  let fx: HubFixture;
  let app: HubApi['app'];
  let token = '';
  const post = (path: string, body: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    fx = await startTestHub(sqlite);
    ({ app, token } = await hubApi(fx.hub));
  }, 60_000);

  afterAll(async () => {
    await fx?.cleanup();
  });

  it('100 copies of one person in `to` send exactly one message (and one delivery)', async () => {
    const res = await post('/v1/messages', { to: Array(100).fill('lisi'), text: 'only once please' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { messageId: string; deliveries: unknown[] };
    expect(body.deliveries).toHaveLength(1);
    const emu = fx.hub.emulator!;
    await waitFor(async () => (await fx.hub.getMessage(body.messageId))?.deliveries[0]?.status === 'sent');
    const got = emu.messages('oto:lisi').filter((m) => m.text.includes('only once please'));
    expect(got).toHaveLength(1);
  });

  it('the same person by name and by userId is one recipient; notices too', async () => {
    const res = await post('/v1/messages', {
      to: ['张三', 'zhangsan', '张三'],
      via: 'notice',
      text: 'one notice',
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { messageId: string; deliveries: unknown[] };
    await waitFor(async () =>
      (await fx.hub.getMessage(body.messageId))?.deliveries.every((d) => d.status === 'sent'),
    );
    const notices = fx.hub
      .emulator!.notices('zhangsan')
      .filter((n) => JSON.stringify(n.msg).includes('one notice'));
    expect(notices).toHaveLength(1);
    expect(body.deliveries).toHaveLength(1);
  });

  it('mentions named twice are one @ and one atUserId', async () => {
    const res = await post('/v1/messages', {
      group: 'ops',
      text: 'look here',
      mention: ['bob', 'bob', 'bob'],
    });
    expect(res.status).toBe(202);
    const m = await waitFor(() => fx.hub.emulator!.messages(OPS).find((x) => x.text.includes('look here')));
    expect(m.text.match(/@bob/g) ?? []).toHaveLength(1);
    expect(m.atUserIds).toEqual(['bob']);
  });

  it('task assignees named twice (by name and userId) get one Todo', async () => {
    const before = fx.hub.emulator!.todos().length;
    const res = await post('/v1/tasks', { title: 'dup assignees', assignees: ['张三', 'zhangsan', '张三'] });
    expect(res.status).toBe(201);
    const task = (await res.json()) as { id: number; assignees: unknown[] };
    expect(task.assignees).toHaveLength(1);
    await waitFor(() => fx.hub.emulator!.todos().length > before);
    // Give a second (wrong) Todo the same chance to arrive before counting.
    await waitFor(async () => (await fx.hub.listDeliveries({ status: 'queued' })).length === 0);
    expect(fx.hub.emulator!.todos().filter((t) => t.subject === 'dup assignees')).toHaveLength(1);
  });

  it('a file shared with one person twice is sent once', async () => {
    const form = new FormData();
    form.append('to', 'lisi, lisi,lisi');
    form.append('file', new Blob([Buffer.from('%PDF-1.4 twice')]), 'twice.pdf');
    const res = await app.request('/v1/files', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () => (await fx.hub.listShares()).find((s) => s.fileName === 'twice.pdf')?.status === 'sent',
    );
    const files = fx.hub.emulator!.messages('oto:lisi').filter((m) => m.type === 'sampleFile');
    expect(files).toHaveLength(1);
  });
});
