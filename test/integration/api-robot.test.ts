/**
 * The robot APIs over real sockets against the emulator: custom-robot webhook (sign, keywords, mentions, the
 * per-robot limit and its throttle answer) and the app robot (group / 1:1 sends, every template, recall, read
 * status), each checked against what the emulator recorded.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appMessage,
  CustomRobot,
  type MsgKey,
  TEMPLATE_FIELDS,
  type TemplateMessage,
} from '../../src/api/index.js';
import type { DingTalk } from '../../src/client.js';
import {
  PlatformError,
  RateLimitedError,
  RobotSecurityError,
  ValidationError,
} from '../../src/core/errors.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { ALERTS, clientFor, NEWS, OPS } from './api-support.js';

let emu: Emulator;
let dt: DingTalk;

beforeAll(async () => {
  emu = await startEmulator({
    seed: 11,
    limits: { robotWindowMs: 2_000, robotLimit: 20, robotPenaltyMs: 3_000 },
  });
  dt = clientFor(emu);
});
afterAll(async () => {
  await dt.close();
  await emu.close();
});
afterEach(() => emu.setFaults({}));

describe('custom robot webhook', () => {
  it('a signed standalone robot delivers text with mentions into its group', async () => {
    const robot = new CustomRobot({
      webhook: `${emu.url}/robot/send?access_token=${ALERTS.token}`,
      secret: ALERTS.security.secret,
      env: {},
    });
    try {
      await robot.text('disk full on db-1', { mobiles: ['13800000004'] });
      const last = emu.messages(OPS).at(-1)!;
      expect(JSON.stringify(last)).toContain('disk full on db-1');
      expect(JSON.stringify(last)).toContain('@13800000004');
    } finally {
      await robot.close();
    }
  });

  it('all five message types are accepted', async () => {
    const robot = dt.webhook({ accessToken: ALERTS.token, secret: ALERTS.security.secret, name: 'alerts-5' });
    const before = emu.messages(OPS).length;
    await robot.text('t');
    await robot.markdown('M', '**m**');
    await robot.link({ title: 'L', text: 'l', messageUrl: 'https://example.com' });
    await robot.actionCard({ title: 'A', text: 'a', singleTitle: 'go', singleURL: 'https://example.com' });
    await robot.feedCard([
      { title: 'F', messageURL: 'https://example.com', picURL: 'https://example.com/p.png' },
    ]);
    expect(emu.messages(OPS).length - before).toBe(5);
  });

  it('a wrong secret is refused by the emulator as "sign" (310000)', async () => {
    const robot = dt.webhook({
      accessToken: ALERTS.token,
      secret: `${ALERTS.security.secret}x`,
      name: 'badsign',
    });
    const err = await robot.text('x').catch((e) => e);
    expect(err).toBeInstanceOf(RobotSecurityError);
    expect(err.check).toBe('sign');
  });

  it('keywords: the local check stops what the emulator would refuse; a matching message passes', async () => {
    const local = dt.webhook({
      accessToken: NEWS.token,
      keywords: NEWS.security.keywords,
      name: 'news-local',
    });
    await expect(local.text('no keyword here')).rejects.toBeInstanceOf(ValidationError);
    await local.text('通知: release 2.0');
    // Without the local list the emulator refuses with 310000 "keywords not in content".
    const remote = dt.webhook({ accessToken: NEWS.token, name: 'news-remote' });
    const err = await remote.text('no keyword here').catch((e) => e);
    expect(err).toBeInstanceOf(RobotSecurityError);
    expect(err.check).toBe('keyword');
  });

  // The two limit tests each get an emulator of their own: a fresh robot window with nothing of the tests
  // above in it, and a penalty that ends with the test, instead of waiting out the shared one's window.
  const LIMITS = { robotWindowMs: 2_000, robotLimit: 20, robotPenaltyMs: 3_000 };

  it('the client limiter keeps a burst within the budget; the emulator never throttles', async () => {
    const own = await startEmulator({ seed: 11, limits: LIMITS });
    // A window a little longer than the server's covers the gap between acquiring a slot and arriving (the
    // default robot budget does the same at scale: 20 per 61 s).
    const c = clientFor(own, { rateLimit: { robot: { limit: 20, windowMs: 2_300 } } });
    try {
      const limited = c.webhook({ accessToken: ALERTS.token, secret: ALERTS.security.secret, name: 'burst' });
      const started = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => limited.text(`m${i}`)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      expect(own.messages(OPS).length).toBe(25);
    } finally {
      await c.close();
      await own.close();
    }
  });

  it('twin: without the limiter the same burst is throttled by the emulator and the robot is penalised', async () => {
    const own = await startEmulator({ seed: 11, limits: LIMITS });
    const c = clientFor(own, { rateLimit: false, retry: false });
    try {
      const robot = c.webhook({ accessToken: ALERTS.token, secret: ALERTS.security.secret });
      const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => robot.text(`n${i}`)));
      const throttled = results.filter(
        (r) => r.status === 'rejected' && r.reason instanceof RateLimitedError,
      );
      expect(throttled.length).toBeGreaterThanOrEqual(5);
      expect((throttled[0] as PromiseRejectedResult).reason.scope).toBe('robot');
    } finally {
      await c.close();
      await own.close();
    }
  });
});

describe('app robot', () => {
  const sample = (key: MsgKey): TemplateMessage =>
    ({
      msgKey: key,
      msgParam: Object.fromEntries(
        TEMPLATE_FIELDS[key].map((f) => [
          f,
          /url/i.test(f) ? 'https://example.com/x' : f === 'duration' ? '3000' : `v-${f}`,
        ]),
      ),
    }) as TemplateMessage;

  it.each(Object.keys(TEMPLATE_FIELDS) as MsgKey[])('group send %s is accepted and recorded', async (key) => {
    const r = await dt.robot.sendToGroup({ openConversationId: OPS, message: sample(key) });
    expect(r.processQueryKey).toMatch(/\S/);
    const last = emu.messages(OPS).at(-1)!;
    expect(JSON.stringify(last)).toContain(key === 'sampleText' ? 'v-content' : '');
  });

  it('1:1 send reports unknown users, then read status and recall work with the processQueryKey', async () => {
    const r = await dt.robot.sendToUsers({
      userIds: ['zhangsan', 'nobody-here'],
      message: appMessage.text('hi 1:1'),
    });
    expect(r.invalidStaffIdList).toContain('nobody-here');
    const status = await dt.robot.usersReadStatus({ processQueryKey: r.processQueryKey });
    expect(status.sendStatus).toBeDefined();
    const recall = await dt.robot.recallUsers({ processQueryKeys: [r.processQueryKey] });
    expect(recall.successResult).toEqual([r.processQueryKey]);
  });

  it('group read status and recall', async () => {
    const { processQueryKey } = await dt.robot.sendToGroup({
      openConversationId: OPS,
      message: appMessage.text('to recall'),
    });
    const q = await dt.robot.groupReadStatus({ processQueryKey, openConversationId: OPS });
    expect(Array.isArray(q.readUserIds)).toBe(true);
    const r = await dt.robot.recallGroup({ openConversationId: OPS, processQueryKeys: [processQueryKey] });
    expect(r.successResult).toEqual([processQueryKey]);
  });

  it("a group the robot is not in is refused with DingTalk's error", async () => {
    const err = await dt.robot
      .sendToGroup({ openConversationId: 'cidDemoProduct000003==', message: appMessage.text('x') })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.status).toBeGreaterThanOrEqual(400);
  });
});
