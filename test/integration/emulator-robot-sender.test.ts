/**
 * Fidelity against the `dingtalk-robot-sender` client (a widely used third-party webhook library that signs as
 * docs/dingtalk.md §2.3 describes): every message type it builds is accepted by the sign-secured demo robot, and a wrong secret is
 * refused with "sign not match".
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';

interface ChatBot {
  text(content: string, at?: unknown): Promise<{ data: { errcode: number; errmsg: string } }>;
  markdown(title: string, text: string, at?: unknown): Promise<{ data: { errcode: number } }>;
  link(link: unknown): Promise<{ data: { errcode: number } }>;
  actionCard(card: unknown): Promise<{ data: { errcode: number } }>;
  feedCard(links: unknown): Promise<{ data: { errcode: number } }>;
}

const require = createRequire(import.meta.url);
const ChatBotClass = require('dingtalk-robot-sender') as new (o: {
  webhook: string;
  secret?: string;
}) => ChatBot;
const alerts = DEMO_ORG.org.customRobots[0]!;
const ops = alerts.group;
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ seed: 8 });
});
afterAll(async () => {
  await emu.close();
});

describe('dingtalk-robot-sender against the emulator', () => {
  it('signs, and every message type it builds is accepted and recorded', async () => {
    const bot = new ChatBotClass({
      webhook: emu.webhookUrl('alerts', { sign: false }),
      ...(alerts.security.secret ? { secret: alerts.security.secret } : {}),
    });
    expect((await bot.text('磁盘告警 @13800000004', { atMobiles: ['13800000004'] })).data).toEqual({
      errcode: 0,
      errmsg: 'ok',
    });
    expect((await bot.markdown('发布', '## v1 已发布')).data.errcode).toBe(0);
    expect(
      (await bot.link({ title: 't', text: 'x', messageUrl: 'https://e.test', picUrl: '' })).data.errcode,
    ).toBe(0);
    expect(
      (await bot.actionCard({ title: 't', text: 'x', btns: [{ title: 'A', actionURL: 'https://e.test' }] }))
        .data.errcode,
    ).toBe(0);
    expect(
      (await bot.feedCard([{ title: 't', messageURL: 'https://e.test', picURL: 'https://e.test/p' }])).data
        .errcode,
    ).toBe(0);
    const msgs = emu.messages(ops);
    expect(msgs.map((m) => m.type)).toEqual(['text', 'markdown', 'link', 'actionCard', 'feedCard']);
    expect(msgs[0]?.atUserIds).toEqual(['alice']);
  });

  it('a wrong secret is refused with "sign not match"', async () => {
    const bot = new ChatBotClass({
      webhook: emu.webhookUrl('alerts', { sign: false }),
      secret: 'SECnot-the-secret',
    });
    expect((await bot.text('x')).data).toEqual({ errcode: 310000, errmsg: 'sign not match' });
  });
});
