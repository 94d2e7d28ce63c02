/**
 * docs/dingtalk.md §11 "Webhook" row over real sockets: per-robot token registry (the token is the group binding), the five
 * msgtypes and 400105 for others, 40035 for missing fields, the four 310000 variants (keywords, invalid timestamp,
 * sign not match, ip not in whitelist), 20/min → throttle with a 10-minute block (scaled: 20 per 2 s, block 5 s on
 * a fake clock), size cap, `at` parsing, msgUuid dedupe, configurable errcodes (§12), and the sign vector of §2.3.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Emulator, type EmulatorFixture, startEmulator } from '../../src/emulator/index.js';
import { call, fakeClock } from './emulator-http.js';

const VECTOR_SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const fixture: EmulatorFixture = demoOrg();
fixture.org.customRobots.push(
  {
    name: 'vector',
    token: 'c'.repeat(64),
    group: 'cidDemoOps000000002==',
    security: { secret: VECTOR_SECRET },
  },
  {
    name: 'iponly',
    token: 'd'.repeat(64),
    group: 'cidDemoOps000000002==',
    security: { ipAllowlist: ['10.0.0.0/8'] },
  },
  {
    name: 'loopback',
    token: 'e'.repeat(64),
    group: 'cidDemoOps000000002==',
    security: { ipAllowlist: ['127.0.0.0/24'] },
  },
  {
    name: 'off',
    token: 'f'.repeat(64),
    group: 'cidDemoOps000000002==',
    security: { keywords: ['x'] },
    disabled: true,
  },
);

const clock = fakeClock();
let emu: Emulator;

const send = (url: string, body: unknown, headers?: Record<string, string>) =>
  call(url, { body, ...(headers ? { headers } : {}) });
const text = (content: string, extra: Record<string, unknown> = {}) => ({
  msgtype: 'text',
  text: { content },
  ...extra,
});

beforeAll(async () => {
  emu = await startEmulator({
    fixture,
    now: clock.now,
    seed: 5,
    limits: { robotWindowMs: 2000, robotLimit: 20, robotPenaltyMs: 5000 },
  });
});
afterAll(async () => {
  await emu.close();
});

describe('custom robot webhook (§2)', () => {
  it('accepts the five msgtypes on a keyword robot and records them in the robot group', async () => {
    const url = emu.webhookUrl('news');
    const bodies = [
      text('notice: 上线'),
      { msgtype: 'markdown', markdown: { title: '通知', text: '# 发布' } },
      { msgtype: 'link', link: { title: '通知', text: 't', messageUrl: 'https://e.test', picUrl: '' } },
      {
        msgtype: 'actionCard',
        actionCard: { title: '通知', text: 'x', singleTitle: 'Go', singleURL: 'https://e.test' },
      },
      {
        msgtype: 'actionCard',
        actionCard: { title: '通知', text: 'x', btns: [{ title: 'A', actionURL: 'https://e.test/a' }] },
      },
      {
        msgtype: 'feedCard',
        feedCard: { links: [{ title: '通知', messageURL: 'https://e.test', picURL: 'https://e.test/p' }] },
      },
    ];
    for (const b of bodies) expect((await send(url, b)).body).toEqual({ errcode: 0, errmsg: 'ok' });
    const msgs = emu.messages('cidDemoProduct000003==');
    expect(msgs.map((m) => m.type)).toEqual([
      'text',
      'markdown',
      'link',
      'actionCard',
      'actionCard',
      'feedCard',
    ]);
    expect(msgs.every((m) => m.source === 'custom_robot' && m.robot === 'news')).toBe(true);
  });

  it('answers 400105 for another msgtype and 40035 for missing fields or body (exact field names)', async () => {
    const url = emu.webhookUrl('news');
    expect((await send(url, { msgtype: 'image', image: { picURL: 'x' } })).body['errcode']).toBe(400105);
    expect((await send(url, {})).body['errcode']).toBe(40035);
    expect((await send(url, { msgtype: 'text', text: {} })).body['errcode']).toBe(40035);
    // `messageURL` is the feedCard spelling; in link it is `messageUrl` (§2.4).
    expect(
      (await send(url, { msgtype: 'link', link: { title: '通知', text: 't', messageURL: 'x' } })).body[
        'errcode'
      ],
    ).toBe(40035);
    expect(
      (await call(url, { raw: '{not json', headers: { 'content-type': 'application/json' } })).body[
        'errcode'
      ],
    ).toBe(40035);
  });

  it('answers 43004 for a non-JSON content type', async () => {
    const r = await call(emu.webhookUrl('news'), {
      raw: JSON.stringify(text('通知')),
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.body['errcode']).toBe(43004);
  });

  it('keyword robot: "keywords not in content" when no string of the message has a keyword', async () => {
    const r = await send(emu.webhookUrl('news'), text('hello'));
    expect(r.body).toEqual({ errcode: 310000, errmsg: 'keywords not in content' });
  });

  it('sign robot: accepts the §2.3 worked vector URL at its timestamp', async () => {
    const r = await send(
      `${emu.url}/robot/send?access_token=${'c'.repeat(64)}&timestamp=1700000000000&sign=8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw%3D`,
      text('vector'),
    );
    expect(r.body['errcode']).toBe(0);
  });

  it('sign robot: "sign not match", "invalid timestamp" (missing, or older than 1 h)', async () => {
    const base = `${emu.url}/robot/send?access_token=${'c'.repeat(64)}`;
    const sign = (ts: number, secret = VECTOR_SECRET) =>
      encodeURIComponent(createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'));
    const now = clock.now();
    expect((await send(`${base}&timestamp=${now}&sign=${sign(now, 'SECwrong')}`, text('x'))).body).toEqual({
      errcode: 310000,
      errmsg: 'sign not match',
    });
    expect((await send(base, text('x'))).body['errmsg']).toBe('invalid timestamp');
    const old = now - 3_600_001;
    expect((await send(`${base}&timestamp=${old}&sign=${sign(old)}`, text('x'))).body['errmsg']).toBe(
      'invalid timestamp',
    );
    const edge = now - 3_600_000;
    expect((await send(`${base}&timestamp=${edge}&sign=${sign(edge)}`, text('x'))).body['errcode']).toBe(0);
  });

  it('IP robot: "ip 127.0.0.1 not in whitelist" outside the range, accepted inside', async () => {
    expect((await send(emu.webhookUrl('iponly'), text('x'))).body).toEqual({
      errcode: 310000,
      errmsg: 'ip 127.0.0.1 not in whitelist',
    });
    expect((await send(emu.webhookUrl('loopback'), text('x'))).body['errcode']).toBe(0);
  });

  it('unknown token → 300005 "token is not exist" by default; disabled robot → 400102', async () => {
    expect((await send(`${emu.url}/robot/send?access_token=${'0'.repeat(64)}`, text('x'))).body).toEqual({
      errcode: 300005,
      errmsg: 'token is not exist',
    });
    expect((await send(`${emu.url}/robot/send`, text('x'))).body['errcode']).toBe(300005);
    expect((await send(emu.webhookUrl('off'), text('x'))).body['errcode']).toBe(400102);
  });

  it('parses `at`: userIds and mobiles of members, isAtAll; link has no @', async () => {
    const url = emu.webhookUrl('loopback');
    await send(
      url,
      text('hi @13800000004 @bob', {
        at: { atMobiles: ['13800000004', '13800000002'], atUserIds: ['bob', 'lisi'] },
      }),
    );
    const m = emu.messages('cidDemoOps000000002==').at(-1);
    // lisi (13800000002) is not in the Ops group: dropped (§2.5: only current members can be @-ed).
    expect(m?.atUserIds).toEqual(['bob', 'alice']);
    expect(m?.atMobiles).toEqual(['13800000004', '13800000002']);
    await send(url, {
      msgtype: 'link',
      link: { title: 't', text: 't', messageUrl: 'u' },
      at: { isAtAll: true },
    });
    expect(emu.messages('cidDemoOps000000002==').at(-1)?.isAtAll).toBe(false);
    const tooMany = Array.from({ length: 51 }, (_, i) => `u${i}`);
    expect((await send(url, text('x', { at: { atUserIds: tooMany } }))).body['errcode']).toBe(40035);
  });

  it('msgUuid makes a retry idempotent: answered ok, recorded once', async () => {
    const url = emu.webhookUrl('loopback');
    const before = emu.messages('cidDemoOps000000002==').length;
    for (let i = 0; i < 3; i++)
      expect((await send(url, text('once', { msgUuid: 'uuid-1' }))).body['errcode']).toBe(0);
    expect(emu.messages('cidDemoOps000000002==').length).toBe(before + 1);
  });

  it('caps the body size (setting robotMaxBytes)', async () => {
    const r = await send(emu.webhookUrl('loopback'), text('x'.repeat(20_001)));
    expect(r.body['errcode']).toBe(460101);
  });
});

describe('robot throttle (§2.6), scaled to 20 per 2 s with a 5 s block on a fake clock', () => {
  it('accepts 20, refuses the 21st with 410100, stays blocked for the penalty, then accepts again', async () => {
    const url = () => emu.webhookUrl('alerts');
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) codes.push((await send(url(), text(`m${i}`))).body['errcode'] as number);
    expect(codes.slice(0, 20).every((c) => c === 0)).toBe(true);
    expect(codes[20]).toBe(410100);
    clock.advance(2500); // the window has passed, but the block has not
    expect((await send(url(), text('still blocked'))).body['errcode']).toBe(410100);
    clock.advance(2600);
    expect((await send(url(), text('free'))).body['errcode']).toBe(0);
    const accepted = emu.messages('cidDemoOps000000002==').filter((m) => m.robot === 'alerts');
    expect(accepted).toHaveLength(21);
  });

  it('twin: with the limit raised the same burst is never throttled (the test above can fail)', async () => {
    const twin = await startEmulator({ now: clock.now, limits: { robotWindowMs: 2000, robotLimit: 1000 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 21; i++)
        codes.push((await send(twin.webhookUrl('alerts'), text(`m${i}`))).body['errcode'] as number);
      expect(codes.filter((c) => c !== 0)).toEqual([]);
    } finally {
      await twin.close();
    }
  });

  it('throttle and unknown-token errcodes are settings (§12)', async () => {
    const other = await startEmulator({
      limits: { robotLimit: 1, robotThrottleErrcode: 130101, unknownRobotErrcode: 400101 },
    });
    try {
      await send(other.webhookUrl('alerts'), text('1'));
      expect((await send(other.webhookUrl('alerts'), text('2'))).body['errcode']).toBe(130101);
      expect((await send(`${other.url}/robot/send?access_token=zz`, text('x'))).body['errcode']).toBe(400101);
    } finally {
      await other.close();
    }
  });
});
