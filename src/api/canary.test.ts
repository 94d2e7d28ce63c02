/**
 * Secrets canary over the domain APIs: unique canary values for the app secret, the
 * app access token, a custom robot's token and signing secret are driven through success and failure paths,
 * including DingTalk answers that echo them back; every log line (all levels), error message, serialized error
 * and inspected error (with its cause) is searched for each canary and its URL-encoded and base64 forms.
 */

import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fakeTransport, type RecordedRequest, type Reply } from '../../test/support/fake-transport.js';
import { DingTalk } from '../client.js';
import type { Logger } from '../core/logger.js';
import type { RawRequest, Transport } from '../core/transport.js';
import { appMessage } from './robot/app-templates.js';
import { CustomRobot } from './robot/custom-robot.js';
import { signWebhook } from './robot/webhook-sign.js';

const APP_SECRET = 'CanaryAppSecret-9f8e7d6c5b4a';
const APP_TOKEN = 'CanaryAppToken-1a2b3c4d5e6f';
const ROBOT_TOKEN = `CanaryRobotToken${'7'.repeat(48)}`;
const ROBOT_SECRET = 'SECCanaryRobotSecret0123456789abcdef';
/** One-time values of the sign-in calls (docs/dingtalk.md §13): redacted per call, never registered client-wide. */
const AUTH_CODE = 'CanaryAuthCode-0f1e2d3c4b5a';
const USER_TOKEN = 'CanaryUserToken-6a7b8c9d0e1f';
const REFRESH_TOKEN = 'CanaryRefreshToken-a1b2c3d4';
const NOW = 1700000000000;
const SIGN = signWebhook(ROBOT_SECRET, NOW).sign;

function forms(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64');
  return [secret, encodeURIComponent(secret), b64, b64.replace(/=+$/, ''), encodeURIComponent(b64)];
}
const NEEDLES = [
  APP_SECRET,
  APP_TOKEN,
  ROBOT_TOKEN,
  ROBOT_SECRET,
  SIGN,
  AUTH_CODE,
  USER_TOKEN,
  REFRESH_TOKEN,
].flatMap(forms);

/**
 * An answer that quotes back everything it received plus every secret of the client that sent it, the way a
 * misbehaving proxy or error page might. (A standalone robot never holds the app's secrets, so none can be
 * echoed to it.)
 */
function echo(req: RecordedRequest): string {
  const app = req.headers['x-canary-standalone'] ? '' : `${tokenIssued ? APP_TOKEN : ''} ${APP_SECRET}`;
  return `${req.origin}${req.path} ${JSON.stringify(req.headers)} ${req.bytes.toString('utf8')} ${ROBOT_TOKEN} ${ROBOT_SECRET} ${app} ${bare(req)}`;
}

/** The request's own one-time values quoted bare (no `name=` in front), so only redaction by value can catch them. */
function bare(req: RecordedRequest): string {
  const j = (req.json ?? {}) as Record<string, unknown>;
  return [req.headers['x-acs-dingtalk-access-token'], j['code'], j['refreshToken'], j['clientSecret']]
    .filter((x) => typeof x === 'string')
    .join(' ');
}

/** The app token can only be quoted back once DingTalk has issued it. */
let tokenIssued = false;

const FAILURES: Array<(req: RecordedRequest) => Reply> = [
  (r) => ({ body: { errcode: 310000, errmsg: `sign not match ${echo(r)}` } }),
  (r) => ({ body: { errcode: 300005, errmsg: `token is not exist: ${echo(r)}` } }),
  (r) => ({ body: { errcode: 410100, errmsg: `send too fast ${echo(r)}` } }),
  (r) => ({ status: 502, body: `<html>${echo(r)}</html>` }),
  (r) => ({ status: 200, body: `<html>${echo(r)}</html>` }),
  (r) => ({ status: 400, body: { code: 'InvalidAuthentication', message: echo(r), requestid: 'R' } }),
  (r) => ({
    status: 400,
    body: { code: 'invalidParameter.msgParam.invalid', message: echo(r), requestid: 'R' },
  }),
  (r) => ({ body: { errcode: 88, sub_code: '60011', sub_msg: echo(r), errmsg: echo(r) } }),
  (r) => Object.assign(new Error(`socket hang up ${echo(r)}`), { code: 'ECONNRESET' }),
];

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: Record<string, unknown>, msg?: string) =>
    lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
  };
}

function scan(texts: string[]): string[] {
  const hits: string[] = [];
  for (const t of texts) for (const n of NEEDLES) if (t.includes(n)) hits.push(`${n} in ${t.slice(0, 200)}`);
  return hits;
}

function errorTexts(e: unknown): string[] {
  const err = e as Error;
  return [String(err), err.message, JSON.stringify(err), inspect(err, { depth: 5 }), String(err.stack)];
}

describe('secrets canary', () => {
  it('no canary or encoded form in any log line or error, over success and failure paths', async () => {
    let failure: ((req: RecordedRequest) => Reply) | undefined;
    const t = fakeTransport((req) => (failure ? failure(req) : okFor(req)));
    const send: Transport = async (raw: RawRequest) => {
      if (raw.path.startsWith('/v1.0/oauth2/accessToken')) {
        tokenIssued = true;
        return {
          status: 200,
          headers: {},
          body: Buffer.from(JSON.stringify({ accessToken: APP_TOKEN, expireIn: 7200 })),
        };
      }
      return t.send(raw);
    };
    const { logger, lines } = capture();
    const dt = new DingTalk({
      appKey: 'dingcanaryapp',
      appSecret: APP_SECRET,
      agentId: 1,
      env: {},
      transport: send,
      logger,
      now: () => NOW,
      retry: { sleep: async () => {}, retries: 1 },
      rateLimit: false,
    });
    const hook = dt.webhook({ accessToken: ROBOT_TOKEN, secret: ROBOT_SECRET });
    const standalone = new CustomRobot({
      webhook: `https://oapi.dingtalk.com/robot/send?access_token=${ROBOT_TOKEN}`,
      secret: ROBOT_SECRET,
      env: {},
      transport: (raw) => send({ ...raw, headers: { ...raw.headers, 'x-canary-standalone': '1' } }),
      logger,
      now: () => NOW,
      retry: { sleep: async () => {}, retries: 1 },
    });
    const calls: Array<() => Promise<unknown>> = [
      () => hook.text('hello'),
      () => standalone.markdown('T', 'hello'),
      () => dt.robot.sendToGroup({ openConversationId: 'cid', message: appMessage.text('x') }),
      () => dt.notice.send({ userIds: ['u'], message: { msgtype: 'text', text: { content: 'x' } } }),
      () => dt.users.userIdByMobile('13800000000'),
      () => dt.media.upload({ type: 'file', source: Buffer.from('x'), fileName: 'a.pdf' }),
      () => dt.todo.get('union', 'task'),
      () => dt.auth.userByCode(AUTH_CODE),
      () => dt.auth.userAccessToken(AUTH_CODE),
      () => dt.auth.refreshUserAccessToken(REFRESH_TOKEN),
      () => dt.auth.me(USER_TOKEN),
    ];
    const errors: unknown[] = [];
    let successes = 0;
    for (const call of calls) {
      failure = undefined;
      await call().then(
        () => successes++,
        (e) => errors.push(e),
      );
      for (const f of FAILURES) {
        failure = f;
        dt.users.clearCache();
        await call().then(
          () => {},
          (e) => errors.push(e),
        );
      }
    }
    expect(successes).toBe(calls.length);
    expect(errors.length).toBe(calls.length * FAILURES.length);
    expect(lines.length).toBeGreaterThan(calls.length * FAILURES.length);
    // The sends did carry the secrets: the scan is looking at the right values.
    expect(t.calls.some((c) => c.path.includes(ROBOT_TOKEN))).toBe(true);
    expect(t.calls.some((c) => c.headers['x-acs-dingtalk-access-token'] === APP_TOKEN)).toBe(true);
    expect(t.calls.some((c) => c.headers['x-acs-dingtalk-access-token'] === USER_TOKEN)).toBe(true);
    expect(t.calls.some((c) => c.bytes.toString().includes(REFRESH_TOKEN))).toBe(true);
    const hits = scan([...lines, ...errors.flatMap(errorTexts)]);
    expect(hits).toEqual([]);
  });

  it('twin: the scan finds a canary when one is there', () => {
    expect(scan([`x ${encodeURIComponent(Buffer.from(ROBOT_SECRET).toString('base64'))} y`])).not.toEqual([]);
    expect(scan(errorTexts(new Error(`boom ${APP_TOKEN}`)))).not.toEqual([]);
  });
});

function okFor(req: RecordedRequest): Reply {
  const p = req.url.pathname;
  if (p === '/robot/send') return { body: { errcode: 0, errmsg: 'ok' } };
  if (p.startsWith('/v1.0/robot')) return { body: { processQueryKey: 'k' } };
  if (p.startsWith('/topapi/message')) return { body: { errcode: 0, task_id: 1 } };
  if (p === '/topapi/v2/user/getuserinfo')
    return { body: { errcode: 0, result: { userid: 'u', unionid: 'n' } } };
  if (p === '/v1.0/oauth2/userAccessToken')
    return { body: { accessToken: 'ut', refreshToken: 'rt', expireIn: 7200 } };
  if (p === '/v1.0/contact/users/me') return { body: { unionId: 'n' } };
  if (p.startsWith('/topapi/v2/user')) return { body: { errcode: 0, result: { userid: 'u' } } };
  if (p === '/media/upload') return { body: { errcode: 0, media_id: '@m' } };
  if (p.startsWith('/v1.0/todo')) return { body: { id: 't' } };
  return { body: { errcode: 404 } };
}
