/**
 * Faults on demand over real sockets: seeded and reproducible; 5xx, throttle, hang, resets before
 * and after the request is read (accepting the message first on a seeded share), added latency, per-route and
 * per-robot rules; the fault log and the records let a test count lost and duplicated effects exactly.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, type FaultRule, startEmulator } from '../../src/emulator/index.js';
import { call } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const emus: Emulator[] = [];
afterEach(async () => {
  for (const e of emus.splice(0)) await e.close();
});

/** No robot penalty here: an injected throttle would otherwise block the robot (tested on its own below). */
async function start(rules: FaultRule[], seed = 42): Promise<Emulator> {
  const emu = await startEmulator({
    seed,
    limits: { robotLimit: 100_000, robotPenaltyMs: 0 },
    initialFaults: { seed, rules },
  });
  emus.push(emu);
  return emu;
}

type Outcome = { kind: 'answer'; status: number; errcode: unknown } | { kind: 'error'; code: string };

async function send(emu: Emulator, robot: string, n: number, timeoutMs = 150): Promise<Outcome> {
  try {
    const res = await request(emu.webhookUrl(robot), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'text', text: { content: `通知 notice ${n}` } }),
      // AbortSignal is precise; undici's own headersTimeout ticks on a coarse (~1 s) timer.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    let errcode: unknown;
    try {
      errcode = (JSON.parse(text) as { errcode: unknown }).errcode;
    } catch {
      errcode = undefined;
    }
    return { kind: 'answer', status: res.statusCode, errcode };
  } catch (e) {
    return {
      kind: 'error',
      code:
        (e as Error).name === 'TimeoutError'
          ? 'timeout'
          : String((e as { code?: string }).code ?? (e as Error).name),
    };
  }
}

async function sendMany(emu: Emulator, robot: string, n: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) out.push(await send(emu, robot, i));
  return out;
}

describe('fault plan', () => {
  it('the same seed replays the same schedule; another seed does not', async () => {
    const rules: FaultRule[] = [{ route: 'POST /robot/send', error5xx: 0.3, throttle: 0.2 }];
    const kinds = async (seed: number) => {
      const emu = await start(rules, seed);
      await sendMany(emu, 'news', 60);
      return emu.faultLog().map((f) => `${f.request}:${f.kind}`);
    };
    const a = await kinds(7);
    const b = await kinds(7);
    const c = await kinds(8);
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('5xx and throttle answers apply nothing; every fault is logged; accepted = answers with errcode 0', async () => {
    const emu = await start([{ route: 'POST /robot/send', error5xx: 0.3, throttle: 0.2 }]);
    const out = await sendMany(emu, 'news', 200);
    const fivexx = out.filter((o) => o.kind === 'answer' && o.status === 502).length;
    const throttled = out.filter((o) => o.kind === 'answer' && o.errcode === 410100).length;
    const ok = out.filter((o) => o.kind === 'answer' && o.errcode === 0).length;
    const log = emu.faultLog();
    expect(log.filter((f) => f.kind === 'error_5xx').length).toBe(fivexx);
    expect(log.filter((f) => f.kind === 'throttle').length).toBe(throttled);
    expect(fivexx).toBeGreaterThan(30);
    expect(throttled).toBeGreaterThan(15);
    expect(emu.messages('cidDemoProduct000003==').length).toBe(ok);
    expect(fivexx + throttled + ok).toBe(200);
  });

  it('reset before the body is read: a socket error and no effect', async () => {
    const emu = await start([{ route: '/robot/*', resetBefore: 1 }]);
    const out = await send(emu, 'news', 1);
    expect(out.kind).toBe('error');
    expect(emu.messages()).toHaveLength(0);
    expect(emu.faultLog()).toMatchObject([{ kind: 'reset_before', accepted: false, robot: 'news' }]);
  });

  it('reset after reading, accepting first: a socket error, yet the message is recorded and tagged', async () => {
    const emu = await start([{ robot: 'news', resetAfter: 1, acceptFirst: 1 }]);
    const out = await send(emu, 'news', 1);
    expect(out.kind).toBe('error');
    const [m] = emu.messages();
    expect(m).toMatchObject({ fault: 'reset_after', robot: 'news' });
    expect(emu.faultLog()).toMatchObject([{ kind: 'reset_after', accepted: true, message: m?.seq }]);
  });

  it('hang: the client times out; with acceptFirst 0 nothing is applied, with 1 the message is applied', async () => {
    const none = await start([{ hang: 1, acceptFirst: 0 }]);
    expect(await send(none, 'news', 1)).toEqual({ kind: 'error', code: 'timeout' });
    expect(none.messages()).toHaveLength(0);
    const first = await start([{ hang: 1, acceptFirst: 1 }]);
    expect((await send(first, 'news', 1)).kind).toBe('error');
    expect(first.messages()).toMatchObject([{ fault: 'hang' }]);
  });

  it('the oracle counts ambiguous effects exactly: recorded = ok answers + accepted faults', async () => {
    const emu = await start(
      [{ resetAfter: 0.15, hang: 0.1, resetBefore: 0.1, error5xx: 0.1, acceptFirst: 0.5 }],
      99,
    );
    // All at once with a long timeout: only a hang may time out. One by one with the short timeout, a loaded machine
    // made an unfaulted request miss it now and then: recorded, yet neither an ok answer nor a fault.
    const out = await Promise.all(Array.from({ length: 150 }, (_, i) => send(emu, 'news', i, 3_000)));
    const ok = out.filter((o) => o.kind === 'answer' && o.errcode === 0).length;
    const log = emu.faultLog();
    const accepted = log.filter((f) => f.accepted);
    expect(accepted.length).toBeGreaterThan(0);
    expect(log.some((f) => (f.kind === 'hang' || f.kind === 'reset_after') && !f.accepted)).toBe(true);
    const msgs = emu.messages();
    expect(msgs.length).toBe(ok + accepted.length);
    expect(
      msgs
        .filter((m) => m.fault !== undefined)
        .map((m) => m.seq)
        .sort(),
    ).toEqual(accepted.map((f) => f.message).sort());
  });

  it('rules filter by robot: only the named robot is hit', async () => {
    const emu = await start([{ robot: 'alerts', error5xx: 1 }]);
    expect((await send(emu, 'alerts', 1)).kind === 'answer' && (await send(emu, 'alerts', 2))).toMatchObject({
      status: 502,
    });
    expect(await send(emu, 'news', 3)).toEqual({ kind: 'answer', status: 200, errcode: 0 });
  });

  it('v1.0 routes: 5xx is 503 {code,message,requestid}, throttle is 403 QpsLimitForAppkeyAndApi; the app robot filter uses robotCode', async () => {
    const emu = await start([
      { route: 'POST /v1.0/robot/groupMessages/send', robot: app.robotCode, throttle: 1 },
    ]);
    const token = (
      await call<{ accessToken: string }>(`${emu.url}/v1.0/oauth2/accessToken`, {
        body: { appKey: app.appKey, appSecret: app.appSecret },
      })
    ).body.accessToken;
    const r = await call(`${emu.url}/v1.0/robot/groupMessages/send`, {
      headers: { 'x-acs-dingtalk-access-token': token },
      body: {
        robotCode: app.robotCode,
        openConversationId: DEMO_ORG.org.groups[0]!.openConversationId,
        msgKey: 'sampleText',
        msgParam: '{"content":"x"}',
      },
    });
    expect(r.status).toBe(403);
    expect(r.body['code']).toBe('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
    emu.setFaults({ rules: [{ route: '/v1.0/*', error5xx: 1 }] });
    const e = await call(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    });
    expect(e.status).toBe(503);
    expect(Object.keys(e.body).sort()).toEqual(['code', 'message', 'requestid']);
  });

  it('latency is added and logged; requests carry the fault in the request log', async () => {
    const emu = await start([{ latencyMs: 60 }]);
    expect(await send(emu, 'news', 1)).toEqual({ kind: 'answer', status: 200, errcode: 0 });
    expect(emu.faultLog()).toMatchObject([{ kind: 'latency', accepted: true }]);
    emu.setFaults({ rules: [{ error5xx: 1 }] });
    await send(emu, 'news', 2);
    expect(emu.requests({ route: 'POST /robot/send' }).map((r) => r.fault ?? 'none')).toEqual([
      'none',
      'error_5xx',
    ]);
  });

  it('PUT /_emulator/faults validates rules and round-trips; {} clears', async () => {
    const emu = await start([]);
    const bad = await call(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      body: { rules: [{ error5xx: 2 }] },
    });
    expect(bad.status).toBe(400);
    const over = await call(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      body: { rules: [{ error5xx: 0.6, hang: 0.6 }] },
    });
    expect(over.status).toBe(400);
    const good = await call(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      body: { seed: 1, rules: [{ route: 'POST /robot/send', error5xx: 1 }] },
    });
    expect(good.body).toEqual({ seed: 1, rules: [{ route: 'POST /robot/send', error5xx: 1 }] });
    expect((await send(emu, 'news', 1)) as unknown).toMatchObject({ status: 502 });
    await call(`${emu.url}/_emulator/faults`, { method: 'PUT', body: {} });
    expect(await send(emu, 'news', 2)).toMatchObject({ errcode: 0 });
    const log = await call<unknown[]>(`${emu.url}/_emulator/faults/log`);
    expect(log.body).toHaveLength(1);
  });

  it('Stream faults pass through to the gateway (refused upgrades)', async () => {
    const emu = await start([]);
    emu.setFaults({ stream: { refuseUpgrades: true } });
    const open = await call<{ endpoint: string; ticket: string }>(
      `${emu.url}/v1.0/gateway/connections/open`,
      {
        body: {
          clientId: app.appKey,
          clientSecret: app.appSecret,
          subscriptions: [{ type: 'EVENT', topic: '*' }],
        },
      },
    );
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${open.body.endpoint}?ticket=${open.body.ticket}`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(503);
    expect(emu.gateway.log().faults.some((f) => f.kind === 'upgrade_refused')).toBe(true);
  });
});

describe('an injected robot throttle arms the penalty (docs/dingtalk.md §2.6)', () => {
  it('the robot stays blocked after the fault is cleared, until the penalty ends (fake clock)', async () => {
    let t = 1_700_000_000_000;
    const emu = await startEmulator({
      now: () => t,
      limits: { robotPenaltyMs: 5000 },
      initialFaults: { rules: [{ robot: 'news', throttle: 1 }] },
    });
    emus.push(emu);
    const post = () => call(emu.webhookUrl('news'), { body: { msgtype: 'text', text: { content: '通知' } } });
    expect((await post()).body['errcode']).toBe(410100);
    emu.setFaults({});
    expect((await post()).body['errcode']).toBe(410100);
    expect(emu.requests({ route: 'POST /robot/send' }).map((r) => r.fault ?? 'none')).toEqual([
      'throttle',
      'none',
    ]);
    t += 5000;
    expect((await post()).body['errcode']).toBe(0);
  });
});
