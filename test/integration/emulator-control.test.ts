/**
 * The control API's inspection routes and the fixture format: org, robots, webhook URLs,
 * the request log (filter by route and `since`, no tokens recorded), messages by conversation, reset, fixture
 * files loaded at start and saved on close (records included), and broken fixtures refused with a reason.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoOrg,
  type Emulator,
  type EmulatorFixture,
  type RequestRecord,
  startEmulator,
} from '../../src/emulator/index.js';
import { call } from './emulator-http.js';

let emu: Emulator;
const dir = mkdtempSync(join(tmpdir(), 'dingkit-emu-'));

beforeAll(async () => {
  emu = await startEmulator({ seed: 1 });
});
afterAll(async () => {
  await emu.close();
});

describe('inspection', () => {
  it('serves the org and the robots with their webhook URLs', async () => {
    const org = await call<{ corpId: string; users: unknown[] }>(`${emu.url}/_emulator/org`);
    expect(org.body.users).toHaveLength(5);
    const robots = await call<Array<{ name: string; webhook: string }>>(`${emu.url}/_emulator/robots`);
    expect(robots.body.map((r) => r.name)).toEqual(['alerts', 'news']);
    const signed = await call<{ url: string }>(`${emu.url}/_emulator/robots/alerts/webhook`);
    expect(signed.body.url).toMatch(/access_token=[0-9a-f]{64}&timestamp=\d+&sign=/);
    const r = await call(signed.body.url, {
      body: { msgtype: 'text', text: { content: 'from control url' } },
    });
    expect(r.body['errcode']).toBe(0);
    expect((await call(`${emu.url}/_emulator/robots/nope/webhook`)).status).toBe(404);
  });

  it('stats count records and requests', async () => {
    const st = await call<{
      messages: number;
      requests: number;
      handlerErrors: number;
      stream: { openConnections: number };
    }>(`${emu.url}/_emulator/stats`);
    expect(st.body.messages).toBe(emu.messages().length);
    expect(st.body.requests).toBeGreaterThan(0);
    expect(st.body.handlerErrors).toBe(0);
    expect(st.body.stream.openConnections).toBe(0);
  });

  it('request log: route filter, since, and no token or signature recorded', async () => {
    await call(emu.webhookUrl('news'), { body: { msgtype: 'text', text: { content: '通知 1' } } });
    const all = await call<RequestRecord[]>(
      `${emu.url}/_emulator/requests?route=${encodeURIComponent('POST /robot/send')}`,
    );
    expect(all.body.length).toBeGreaterThanOrEqual(2);
    const last = all.body.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', path: '/robot/send', status: 200, code: 0, robot: 'news' });
    const since = await call<RequestRecord[]>(`${emu.url}/_emulator/requests?since=${last.seq}`);
    expect(since.body).toEqual([]);
    expect(JSON.stringify(all.body)).not.toMatch(/access_token|sign=|[0-9a-f]{64}/);
  });

  it('messages by conversation and since; notices by user; reset clears records', async () => {
    const ops = await call<Array<{ seq: number; text: string }>>(
      `${emu.url}/_emulator/messages?conversation=${encodeURIComponent('cidDemoOps000000002==')}`,
    );
    expect(ops.body.map((m) => m.text)).toEqual(['from control url']);
    const after = await call<unknown[]>(`${emu.url}/_emulator/messages?since=${ops.body[0]!.seq}`);
    expect(after.body).toHaveLength(1);
    expect((await call<unknown[]>(`${emu.url}/_emulator/notices?user=zhangsan`)).body).toEqual([]);
    expect((await call(`${emu.url}/_emulator/reset`, { body: {} })).status).toBe(200);
    expect((await call<unknown[]>(`${emu.url}/_emulator/messages`)).body).toEqual([]);
    expect(emu.requests()).toEqual([]);
  });

  it('expires tokens on demand (the refresh-once path can be driven)', async () => {
    const app = emu.state.org.apps[0]!;
    const t = (
      await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
        body: { appKey: app.appKey, appSecret: app.appSecret },
      })
    ).body.accessToken;
    expect((await call(`${emu.url}/_emulator/tokens/expire`, { body: {} })).body).toEqual({ expired: 1 });
    const r = await call(`${emu.url}/v1.0/im/chat/x/convertToOpenConversationId`, {
      body: {},
      headers: { 'x-acs-dingtalk-access-token': t },
    });
    expect(r.body['code']).toBe('InvalidAuthentication');
  });
});

describe('org changes', () => {
  it('a dissolved group answers 400013 to its webhook and group.disbanded to the app robot; a disabled robot 400102', async () => {
    const other = await startEmulator({ seed: 4 });
    try {
      const app = other.state.org.apps[0]!;
      const token = (
        await call<{ accessToken: string }>(`${other.url}/v1.0/oauth2/accessToken`, {
          body: { appKey: app.appKey, appSecret: app.appSecret },
        })
      ).body.accessToken;
      const ops = 'cidDemoOps000000002==';
      expect(
        (await call(`${other.url}/_emulator/robots/alerts`, { method: 'PUT', body: { disabled: true } }))
          .status,
      ).toBe(200);
      expect(
        (await call(other.webhookUrl('alerts'), { body: { msgtype: 'text', text: { content: 'x' } } })).body[
          'errcode'
        ],
      ).toBe(400102);
      await call(`${other.url}/_emulator/robots/alerts`, { method: 'PUT', body: { disabled: false } });
      expect(
        (await call(`${other.url}/_emulator/groups/${encodeURIComponent(ops)}/dissolve`, { body: {} }))
          .status,
      ).toBe(200);
      expect(
        (await call(other.webhookUrl('alerts'), { body: { msgtype: 'text', text: { content: 'x' } } })).body[
          'errcode'
        ],
      ).toBe(400013);
      const r = await call(`${other.url}/v1.0/robot/groupMessages/send`, {
        headers: { 'x-acs-dingtalk-access-token': token },
        body: {
          robotCode: app.robotCode,
          openConversationId: ops,
          msgKey: 'sampleText',
          msgParam: '{"content":"x"}',
        },
      });
      expect(r.body['code']).toBe('group.disbanded');
      const eng = 'cidDemoEngineering0001==';
      expect(
        (
          await call(`${other.url}/_emulator/groups/${encodeURIComponent(eng)}/members`, {
            method: 'PUT',
            body: { members: ['ghost'] },
          })
        ).status,
      ).toBe(400);
      await call(`${other.url}/_emulator/groups/${encodeURIComponent(eng)}/members`, {
        method: 'PUT',
        body: { members: ['alice'] },
      });
      const post = await call(`${other.url}/_emulator/groups/${encodeURIComponent(eng)}/messages`, {
        body: { from: 'bob', text: 'x' },
      });
      expect(post.status).toBe(400);
    } finally {
      await other.close();
    }
  });
});

describe('fixtures', () => {
  it('loads a fixture file, and saves org + records on close; the saved file starts a new emulator', async () => {
    const f: EmulatorFixture = demoOrg();
    f.org.users.push({
      userId: 'zhaoliu',
      unionId: 'unionZhaoLiu00006',
      mobile: '13800000006',
      name: '赵六',
    });
    f.org.groups[1]!.members.push('zhaoliu');
    const path = join(dir, 'org.json');
    const saved = join(dir, 'saved.json');
    writeFileSync(path, JSON.stringify(f));
    const a = await startEmulator({ fixture: path, save: saved });
    await a.postMessage('cidDemoOps000000002==', { from: 'zhaoliu', text: '我来了' });
    await a.close();
    const data = JSON.parse(readFileSync(saved, 'utf8')) as EmulatorFixture;
    expect(data.version).toBe(1);
    expect(data.records?.messages?.[0]).toMatchObject({ from: 'zhaoliu', text: '我来了' });
    const b = await startEmulator({ fixture: saved });
    try {
      expect(b.messages('cidDemoOps000000002==')[0]?.text).toBe('我来了');
      expect(b.state.users.get('zhaoliu')?.name).toBe('赵六');
    } finally {
      await b.close();
    }
  });

  it('refuses broken fixtures with a reason', async () => {
    await expect(startEmulator({ fixture: { version: 2 } as unknown as EmulatorFixture })).rejects.toThrow(
      /version must be 1/,
    );
    const noApps = demoOrg() as unknown as { org: Record<string, unknown> };
    noApps.org['apps'] = 'x';
    await expect(startEmulator({ fixture: noApps as unknown as EmulatorFixture })).rejects.toThrow(
      /org.apps must be an array/,
    );
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{');
    await expect(startEmulator({ fixture: path })).rejects.toThrow();
  });

  it('POST /_emulator/save refuses without a configured save path (a caller never picks a file)', async () => {
    expect((await call(`${emu.url}/_emulator/save`, { body: { path: '/tmp/x.json' } })).status).toBe(409);
  });
});
