/**
 * Secrets canary over real sockets (library side): the emulator is seeded with canary
 * values for the app secret and a custom robot's token and signing secret, issues its own access tokens, and
 * injects faults (5xx, resets, hangs, throttles) while the client runs every domain through success and
 * failure. Every log line (all levels) and every error (message, JSON, inspected with its cause) is searched
 * for each secret — including each access token the emulator issued — and its URL-encoded and base64 forms.
 */

import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMessage, noticeMessage } from '../../src/api/index.js';
import { DingTalk } from '../../src/client.js';
import type { Logger } from '../../src/core/logger.js';
import { demoOrg, type Emulator, startEmulator } from '../../src/emulator/index.js';

const APP_SECRET = 'CanaryItAppSecret-5c4b3a2918';
const ROBOT_TOKEN = `ca11a7e0${'9'.repeat(56)}`;
const ROBOT_SECRET = 'SECCanaryItRobotSecret-7f6e5d4c3b2a';
const OPS = 'cidDemoOps000000002==';

let emu: Emulator;
const lines: string[] = [];
const errors: unknown[] = [];

function forms(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64');
  return [secret, encodeURIComponent(secret), b64, b64.replace(/=+$/, ''), encodeURIComponent(b64)];
}

const logger: Logger = Object.fromEntries(
  ['debug', 'info', 'warn', 'error'].map((level) => [
    level,
    (obj: Record<string, unknown>, msg?: string) =>
      lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`),
  ]),
) as unknown as Logger;

beforeAll(async () => {
  const fixture = demoOrg();
  fixture.org.apps[0]!.appSecret = APP_SECRET;
  const alerts = fixture.org.customRobots.find((r) => r.name === 'alerts')!;
  alerts.token = ROBOT_TOKEN;
  alerts.security = { secret: ROBOT_SECRET, keywords: ['alert'] };
  emu = await startEmulator({ fixture, seed: 21, limits: { robotLimit: 1_000_000 } });
});
afterAll(async () => {
  await emu.close();
});

describe('secrets canary over the emulator', () => {
  it('finds no secret in logs or errors across success and faults', async () => {
    const app = emu.state.org.apps[0]!;
    const dt = new DingTalk({
      appKey: app.appKey,
      appSecret: APP_SECRET,
      agentId: app.agentId,
      oapiBase: emu.url,
      apiBase: emu.url,
      env: {},
      logger,
      timeoutMs: 250,
      rateLimit: false,
      errors: { appThrottleRetryMs: 5 },
      retry: { minDelayMs: 1, maxDelayMs: 2, retries: 1 },
    });
    const robot = dt.webhook({ accessToken: ROBOT_TOKEN, secret: ROBOT_SECRET });
    const wrongSecret = dt.webhook({ accessToken: ROBOT_TOKEN, secret: `${ROBOT_SECRET}X`, name: 'wrong' });
    const calls: Array<() => Promise<unknown>> = [
      () => robot.text('alert: disk full'),
      () => robot.text('no keyword'),
      () => wrongSecret.text('alert: x'),
      () => dt.robot.sendToGroup({ openConversationId: OPS, message: appMessage.text('hello') }),
      () => dt.notice.send({ userIds: ['zhangsan'], message: noticeMessage.text(`n ${Math.random()}`) }),
      () => dt.users.userIdByMobile('13800000001'),
      () => dt.media.upload({ type: 'file', source: Buffer.from('pdf'), fileName: 'a.pdf' }),
    ];
    const faults = [
      {},
      { rules: [{ error5xx: 1 }] },
      { rules: [{ resetBefore: 1 }] },
      { rules: [{ resetAfter: 1 }] },
      { rules: [{ throttle: 1 }] },
      { rules: [{ hang: 1 }] },
    ];
    let ok = 0;
    for (const f of faults) {
      emu.setFaults(f);
      for (const call of calls) {
        dt.users.clearCache();
        await call().then(
          () => ok++,
          (e) => errors.push(e),
        );
      }
    }
    emu.setFaults({});
    await dt.close();
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(errors.length).toBeGreaterThan(faults.length * 3);
    expect(lines.length).toBeGreaterThan(0);

    const issued = [...emu.state.tokens.keys()];
    expect(issued.length).toBeGreaterThan(0);
    const needles = [APP_SECRET, ROBOT_TOKEN, ROBOT_SECRET, ...issued].flatMap(forms);
    const texts = [
      ...lines,
      ...errors.flatMap((e) => [String(e), JSON.stringify(e), inspect(e, { depth: 5 })]),
    ];
    const hits = texts.flatMap((t) =>
      needles.filter((n) => t.includes(n)).map((n) => `${n} in ${t.slice(0, 160)}`),
    );
    expect(hits).toEqual([]);
  });
});
