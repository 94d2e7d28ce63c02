/**
 * Faults over real sockets, driven by the emulator's fault plan (share 1 = every matching request), each checked
 * against the emulator's request log and records: how many attempts reached it, and whether the effect happened.
 *
 * The outcome rules under test (style.md "Errors"): `not_sent` and DingTalk-reported failures are retried;
 * an `unknown` outcome (hang past the timeout, reset after the request was read) is retried for reads and
 * never for sends, so a send DingTalk may have applied is not duplicated.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appMessage } from '../../src/api/index.js';
import type { DingTalk } from '../../src/client.js';
import { NetworkError, RateLimitedError, TimeoutError } from '../../src/core/errors.js';
import { demoOrg, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { ALERTS, clientFor, OPS } from './api-support.js';
import { fakeClock } from './emulator-http.js';

const clock = fakeClock(Date.now());
let emu: Emulator;
let dt: DingTalk;

const SEND = 'POST /v1.0/robot/groupMessages/send';
const UUID_TOKEN = '0d'.repeat(32);
const UUID_SECRET = `SEC${'5'.repeat(64)}`;
const READ = 'POST /topapi/v2/user/getbymobile';

beforeAll(async () => {
  const fixture = demoOrg();
  // A robot of its own for the msgUuid tests: the throttle test leaves `alerts` penalised.
  fixture.org.customRobots.push({
    name: 'uuid',
    token: UUID_TOKEN,
    group: OPS,
    security: { secret: UUID_SECRET },
  });
  emu = await startEmulator({ fixture, seed: 13, now: clock.now, limits: { robotLimit: 1_000_000 } });
  dt = clientFor(emu, { timeoutMs: 300, errors: { appThrottleRetryMs: 5 } });
});
afterAll(async () => {
  await dt.close();
  await emu.close();
});
afterEach(() => emu.setFaults({}));

const attempts = (route: string, since: number) => emu.requests({ route, since }).length;
const lastSeq = () => emu.requests().at(-1)?.seq ?? 0;
const send = (text: string) =>
  dt.robot.sendToGroup({ openConversationId: OPS, message: appMessage.text(text) });
const delivered = (text: string) => emu.messages(OPS).filter((m) => JSON.stringify(m).includes(text)).length;

describe('unambiguous failures are retried, for sends too', () => {
  it('5xx: three attempts, nothing delivered, typed error', async () => {
    emu.setFaults({ rules: [{ route: SEND, error5xx: 1 }] });
    const since = lastSeq();
    const err = await send('five-hundred').catch((e) => e);
    expect(err.retryable).toBe(true);
    expect(err.outcome).toBe('rejected');
    expect(attempts(SEND, since)).toBe(3);
    expect(delivered('five-hundred')).toBe(0);
  });

  it('reset before the request was read: a network error, nothing delivered, never a duplicate', async () => {
    // The client cannot tell a reset before the server read the bytes from one after it acted on them once
    // the bytes left the socket, so a send reset this way is classified `unknown` (conservative) unless the
    // connection failed before the request was written.
    emu.setFaults({ rules: [{ route: SEND, resetBefore: 1 }] });
    const err = await send('reset-before').catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(['not_sent', 'unknown']).toContain(err.outcome);
    expect(delivered('reset-before')).toBe(0);
    emu.setFaults({ seed: 1, rules: [{ route: SEND, resetBefore: 0.5 }] });
    for (let i = 0; i < 10; i++) await send(`flaky-${i}`).catch(() => {});
    for (let i = 0; i < 10; i++) expect(delivered(`flaky-${i}`)).toBeLessThanOrEqual(1);
  });

  it('app throttle (403 QpsLimit): waits and retries', async () => {
    emu.setFaults({ rules: [{ route: SEND, throttle: 1 }] });
    const since = lastSeq();
    const err = await send('throttled').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.scope).toBe('app');
    expect(attempts(SEND, since)).toBe(3);
  });

  it('webhook throttle: robot-scoped, penalty respected locally, no further request for that robot', async () => {
    const c = clientFor(emu, { retry: false, rateLimit: { mode: 'fail' } });
    const robot = c.webhook({
      accessToken: ALERTS.token,
      secret: ALERTS.security.secret,
      name: 'throttled-robot',
    });
    emu.setFaults({ rules: [{ route: 'POST /robot/send', throttle: 1 }] });
    const since = lastSeq();
    const err = await robot.text('x').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.scope).toBe('robot');
    emu.setFaults({});
    const again = await robot.text('y').catch((e) => e);
    expect(again.scope).toBe('local');
    expect(attempts('POST /robot/send', since)).toBe(1);
    await c.close();
  });
});

describe('ambiguous failures', () => {
  it('a send that hangs past the timeout is not retried (the emulator did apply it: no duplicate)', async () => {
    emu.setFaults({ rules: [{ route: SEND, hang: 1, acceptFirst: 1 }] });
    const since = lastSeq();
    const err = await send('hung-send').catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.outcome).toBe('unknown');
    expect(attempts(SEND, since)).toBe(1);
    expect(delivered('hung-send')).toBe(1);
  });

  it('a send reset after the request was read is unknown and not retried', async () => {
    emu.setFaults({ rules: [{ route: SEND, resetAfter: 1, acceptFirst: 1 }] });
    const since = lastSeq();
    const err = await send('late-reset').catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.outcome).toBe('unknown');
    expect(attempts(SEND, since)).toBe(1);
    expect(delivered('late-reset')).toBe(1);
  });

  it('a read that hangs is retried (idempotent) and succeeds once the fault clears', async () => {
    emu.setFaults({ rules: [{ route: READ, hang: 1 }] });
    dt.users.clearCache();
    const since = lastSeq();
    const err = await dt.users.userIdByMobile('13800000001').catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(attempts(READ, since)).toBe(3);
    emu.setFaults({});
    expect(await dt.users.userIdByMobile('13800000001')).toBe('zhangsan');
  });
});

describe('webhook idempotency key (msgUuid, docs/dingtalk.md §2.1)', () => {
  const WEBHOOK = 'POST /robot/send';
  const inOps = (text: string) => emu.messages(OPS).filter((m) => JSON.stringify(m).includes(text)).length;

  it('a webhook send with msgUuid whose answer is lost is retried and delivered exactly once', async () => {
    const c = clientFor(emu, {
      timeoutMs: 300,
      rateLimit: false,
      retry: { minDelayMs: 1, maxDelayMs: 2, retries: 6 },
    });
    const robot = c.webhook({ accessToken: UUID_TOKEN, secret: UUID_SECRET });
    emu.setFaults({ seed: 3, rules: [{ route: WEBHOOK, resetAfter: 0.5, acceptFirst: 1 }] });
    const texts = Array.from({ length: 20 }, (_, i) => `uuid-${Date.now()}-[${i}]`);
    const since = lastSeq();
    for (const t of texts) await robot.text(t, undefined, { msgUuid: t });
    expect(attempts(WEBHOOK, since)).toBeGreaterThan(texts.length);
    for (const t of texts) expect(inOps(t)).toBe(1);
    await c.close();
  });

  it('twin: without msgUuid the same faults leave unknown outcomes that are not retried (no duplicate, but no retry either)', async () => {
    const c = clientFor(emu, {
      timeoutMs: 300,
      rateLimit: false,
      retry: { minDelayMs: 1, maxDelayMs: 2, retries: 6 },
    });
    const robot = c.webhook({ accessToken: UUID_TOKEN, secret: UUID_SECRET });
    emu.setFaults({ seed: 3, rules: [{ route: WEBHOOK, resetAfter: 0.5, acceptFirst: 1 }] });
    const texts = Array.from({ length: 20 }, (_, i) => `plain-${Date.now()}-[${i}]`);
    const since = lastSeq();
    const results = [];
    for (const t of texts)
      results.push(
        await robot.text(t).then(
          () => 'ok',
          (e) => e.outcome,
        ),
      );
    expect(results).toContain('unknown');
    expect(attempts(WEBHOOK, since)).toBe(texts.length);
    for (const t of texts) expect(inOps(t)).toBe(1);
    await c.close();
  });
});

describe('tokens', () => {
  it('an expired token triggers one refresh and one replay', async () => {
    const c = clientFor(emu);
    await c.users.userIdByMobile('13800000002');
    const tokenRoute = 'POST /v1.0/oauth2/accessToken';
    const since = lastSeq();
    clock.advance(7_201_000);
    c.users.clearCache();
    expect(await c.users.userIdByMobile('13800000002')).toBe('lisi');
    expect(attempts(tokenRoute, since)).toBe(1);
    expect(attempts(READ, since)).toBe(2);
    await c.close();
  });

  it('wrong app credentials fail as a typed token error without a send', async () => {
    const c = clientFor(emu, { appSecret: 'wrong-secret-value' });
    const since = lastSeq();
    const e2 = await c.robot
      .sendToGroup({ openConversationId: OPS, message: appMessage.text('never') })
      .catch((e) => e);
    expect(e2.name).toBe('TokenError');
    expect(JSON.stringify(e2)).not.toContain('wrong-secret-value');
    expect(attempts(SEND, since)).toBe(0);
    await c.close();
  });
});
