/**
 * "Who is this person" end to end (docs/dingtalk.md §13.2, §13.3): the library's `dt.auth` against the emulator over
 * real sockets. 免登 code → person; a spent, expired or other app's code → `AuthCodeError`, sent once and never
 * again (the emulator's request log counts); the OAuth URL, the login page, userAccessToken → users/me, refresh;
 * a wrong secret fails without the secret in the error or the logs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readLoginCallback } from '../../src/api/auth/auth.js';
import type { DingTalk } from '../../src/client.js';
import {
  AuthCodeError,
  ConfigError,
  NetworkError,
  PlatformError,
  ValidationError,
} from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { demoOrg, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { expectThrows } from '../support/expect-throws.js';
import { APP, clientFor } from './api-support.js';
import { call, fakeClock } from './emulator-http.js';

const OTHER = {
  appKey: 'dingotherappkey00002',
  appSecret: 'other-app-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  agentId: 3001002,
  robotCode: 'dingotherappkey00002',
  name: 'Other App',
};
const USERINFO = 'POST /topapi/v2/user/getuserinfo';
const USER_TOKEN = 'POST /v1.0/oauth2/userAccessToken';

const clock = fakeClock(Date.UTC(2026, 0, 5, 2, 0, 0));
let emu: Emulator;
let dt: DingTalk;
let other: DingTalk;

beforeAll(async () => {
  const fixture = demoOrg();
  fixture.org.apps.push(OTHER);
  emu = await startEmulator({ seed: 21, now: clock.now, fixture });
  dt = clientFor(emu, { now: clock.now, loginBase: emu.url });
  other = clientFor(emu, {
    appKey: OTHER.appKey,
    appSecret: OTHER.appSecret,
    agentId: OTHER.agentId,
    robotCode: OTHER.robotCode,
    now: clock.now,
  });
});
afterAll(async () => {
  await dt.close();
  await other.close();
  await emu.close();
});
beforeEach(() => {
  emu.setFaults({});
});

/** Requests the emulator received on `route` after `since` (a request seq). */
const sent = (route: string, since: number) => emu.requests({ route, since }).length;
const lastSeq = () => emu.state.nextRequestSeqPeek();

/** Drives the emulator's login page as a browser would: open the URL, pick a person, follow nothing. */
async function signInAs(userId: string, url: string): Promise<URL> {
  const pageAnswer = await call(url);
  expect(pageAnswer.status).toBe(200);
  expect(pageAnswer.text).toContain(`value="${userId}"`);
  const u = new URL(url);
  const form = new URLSearchParams(u.searchParams);
  form.set('userId', userId);
  const { request } = await import('undici');
  const res = await request(`${u.origin}/oauth2/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: u.origin },
    body: form.toString(),
  });
  await res.body.text();
  expect(res.statusCode).toBe(302);
  return new URL(String(res.headers['location']));
}

describe('免登 code → person (§13.2)', () => {
  it('maps the snake_case result to the typed person', async () => {
    const code = emu.authCode('zhangsan');
    const me = await dt.auth.userByCode(code);
    expect(me).toMatchObject({
      userId: 'zhangsan',
      unionId: 'unionZhangSan0001',
      name: '张三',
      // The demo org's main administrator: sys_level 1, sys true.
      sys: true,
      sysLevel: 1,
    });
    expect(me.deviceId).toMatch(/^[0-9a-f]{16}$/);
    expect(me.associatedUnionId).toBeUndefined();
    // Anyone else: not an administrator.
    expect(await dt.auth.userByCode(emu.authCode('lisi'))).toMatchObject({
      userId: 'lisi',
      sys: false,
      sysLevel: 0,
    });
  });

  it('a code from the control route works once; the reuse is an AuthCodeError sent exactly once', async () => {
    const r = await call<{ code: string }>(`${emu.url}/_emulator/users/lisi/auth-code`, { body: {} });
    expect(r.status).toBe(200);
    expect((await dt.auth.userByCode(r.body.code)).userId).toBe('lisi');

    const before = lastSeq();
    const e = await expectThrows(() => dt.auth.userByCode(r.body.code), AuthCodeError);
    expect(e).toMatchObject({
      code: 'AUTH_CODE_INVALID',
      errcode: 40078,
      outcome: 'rejected',
      retryable: false,
    });
    expect(e.message).not.toContain(r.body.code);
    expect(sent(USERINFO, before)).toBe(1);
  });

  it('the request count above can see retries: a 5xx on the same route is retried (the twin)', async () => {
    emu.setFaults({ rules: [{ route: USERINFO, error5xx: 1 }] });
    const code = emu.authCode('wangwu');
    const before = lastSeq();
    await expectThrows(() => dt.auth.userByCode(code));
    expect(sent(USERINFO, before)).toBe(3);
    emu.setFaults({});
    // DingTalk said it did nothing, so the code is still good.
    expect((await dt.auth.userByCode(code)).userId).toBe('wangwu');
  });

  it('a connection lost after the code was sent is not resent (it may have been spent)', async () => {
    emu.setFaults({ rules: [{ route: USERINFO, resetAfter: 1, acceptFirst: 1 }] });
    const code = emu.authCode('alice');
    const before = lastSeq();
    const e = await expectThrows(() => dt.auth.userByCode(code), NetworkError);
    expect(e.outcome).toBe('unknown');
    expect(sent(USERINFO, before)).toBe(1);
    emu.setFaults({});
    await expectThrows(() => dt.auth.userByCode(code), AuthCodeError);
  });

  it('an expired app token is refreshed and the call replayed once: the refused attempt spent no code', async () => {
    await dt.auth.userByCode(emu.authCode('lisi'));
    expect(emu.state.expireTokens()).toBeGreaterThan(0);
    const code = emu.authCode('lisi');
    const before = lastSeq();
    expect((await dt.auth.userByCode(code)).userId).toBe('lisi');
    expect(emu.requests({ route: USERINFO, since: before }).map((r) => r.code)).toEqual([88, 0]);
  });

  it('expires after 5 minutes on the emulator clock', async () => {
    const fresh = emu.authCode('bob');
    const stale = emu.authCode('bob');
    clock.advance(299_000);
    expect((await dt.auth.userByCode(fresh)).userId).toBe('bob');
    clock.advance(1_000);
    const before = lastSeq();
    await expectThrows(() => dt.auth.userByCode(stale), AuthCodeError);
    expect(sent(USERINFO, before)).toBe(1);
  });

  it("is bound to its app: another app's token is refused and does not spend the code", async () => {
    const code = emu.authCode('zhangsan', { appKey: APP.appKey });
    await expectThrows(() => other.auth.userByCode(code), AuthCodeError);
    expect((await dt.auth.userByCode(code)).userId).toBe('zhangsan');
    const theirs = emu.authCode('zhangsan', { appKey: OTHER.appKey });
    expect((await other.auth.userByCode(theirs)).userId).toBe('zhangsan');
  });

  it('the control route refuses unknown people and apps with 404', async () => {
    expect((await call(`${emu.url}/_emulator/users/nobody/auth-code`, { body: {} })).status).toBe(404);
    const r = await call(`${emu.url}/_emulator/users/lisi/auth-code`, { body: { appKey: 'nope' } });
    expect(r.status).toBe(404);
    expect((await call(`${emu.url}/_emulator/users/lisi/auth-code`, { body: { appKey: 7 } })).status).toBe(
      400,
    );
  });

  it('refuses bad input before sending', async () => {
    const before = lastSeq();
    await expectThrows(() => dt.auth.userByCode(''), ValidationError);
    expect(lastSeq()).toBe(before);
  });
});

describe('browser sign-in (§13.3)', () => {
  it('builds the exact login URL on the configured login host', () => {
    const url = dt.auth.loginUrl({
      redirectUri: 'https://hub.example.com/auth/cb?next=/tasks',
      state: 'st 8&x',
    });
    expect(url).toBe(
      `${emu.url}/oauth2/auth?redirect_uri=https%3A%2F%2Fhub.example.com%2Fauth%2Fcb%3Fnext%3D%2Ftasks` +
        `&response_type=code&client_id=${APP.appKey}&scope=openid&state=st%208%26x&prompt=consent`,
    );
    expect(
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:1/cb', state: 's', scope: 'openid corpid' }),
    ).toContain('&scope=openid%20corpid&');
  });

  it('login page → code → user token → users/me → userId', async () => {
    const back = await signInAs(
      'alice',
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb?keep=1', state: 'state-1' }),
    );
    expect(back.origin + back.pathname).toBe('http://127.0.0.1:9/cb');
    expect(back.searchParams.get('keep')).toBe('1');
    expect(back.searchParams.get('code')).toBe(back.searchParams.get('authCode'));
    const { code, state } = readLoginCallback(back.searchParams);
    expect(state).toBe('state-1');

    const token = await dt.auth.userAccessToken(code);
    expect(token.accessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(token.refreshToken).not.toBe(token.accessToken);
    expect(token.expireIn).toBe(7200);
    expect(token.expiresAt).toBe(clock.now() + 7_200_000);
    expect(token.corpId).toBeUndefined();

    const me = await dt.auth.me(token.accessToken);
    expect(me).toMatchObject({ unionId: 'unionAlice0000004', nick: 'Alice Chen', mobile: '13800000004' });
    expect(me.openId).toMatch(/^open[0-9a-f]{16}$/);
    expect((await dt.users.byUnionId(me.unionId)).userId).toBe('alice');

    // The code was spent by the exchange: a second exchange is refused, and sent once.
    const before = lastSeq();
    await expectThrows(() => dt.auth.userAccessToken(code), AuthCodeError);
    expect(sent(USER_TOKEN, before)).toBe(1);
  });

  it("scope 'openid corpid' returns the corpId", async () => {
    const back = await signInAs(
      'bob',
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's2', scope: 'openid corpid' }),
    );
    const token = await dt.auth.userAccessToken(readLoginCallback(back.searchParams).code);
    expect(token.corpId).toBe(emu.state.org.corpId);
  });

  it('refresh gives a working token; the used refresh token is refused', async () => {
    const back = await signInAs(
      'lisi',
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's3' }),
    );
    const first = await dt.auth.userAccessToken(readLoginCallback(back.searchParams).code);
    const next = await dt.auth.refreshUserAccessToken(first.refreshToken);
    expect(next.accessToken).not.toBe(first.accessToken);
    expect((await dt.auth.me(next.accessToken)).unionId).toBe('unionLiSi00000002');
    const e = await expectThrows(() => dt.auth.refreshUserAccessToken(first.refreshToken), AuthCodeError);
    expect(e.message).not.toContain(first.refreshToken);
  });

  it('an expired user token is refused by users/me', async () => {
    const back = await signInAs(
      'lisi',
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's4' }),
    );
    const t = await dt.auth.userAccessToken(readLoginCallback(back.searchParams).code);
    clock.advance(7_200_000);
    const e = await expectThrows(() => dt.auth.me(t.accessToken), PlatformError);
    expect(e).toMatchObject({ code: 'TOKEN_INVALID', platformCode: 'InvalidAuthentication', status: 400 });
    expect(e.message).not.toContain(t.accessToken);
  });

  it('users/me refuses an app token (403) and the two kinds of code do not mix', async () => {
    const appToken = await dt.tokens!.get();
    const e = await expectThrows(() => dt.auth.me(appToken), PlatformError);
    expect(e).toMatchObject({
      status: 403,
      platformCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
    });

    // A 免登 code is not an OAuth code, and the reverse.
    await expectThrows(() => dt.auth.userAccessToken(emu.authCode('wangwu')), AuthCodeError);
    const back = await signInAs(
      'wangwu',
      dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's5' }),
    );
    const oauthCode = readLoginCallback(back.searchParams).code;
    await expectThrows(() => dt.auth.userByCode(oauthCode), AuthCodeError);
    expect((await dt.auth.userAccessToken(oauthCode)).accessToken).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a wrong secret fails as bad credentials, with no secret in the error or the log, and spends no code', async () => {
    const secret = 'wrong-secret-canary-0123456789';
    const lines: string[] = [];
    const capture = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
      lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
    };
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const wrong = clientFor(emu, { appSecret: secret, now: clock.now, logger });
    try {
      const back = await signInAs(
        'zhangsan',
        dt.auth.loginUrl({ redirectUri: 'http://127.0.0.1:9/cb', state: 's6' }),
      );
      const { code } = readLoginCallback(back.searchParams);
      const e = await expectThrows(() => wrong.auth.userAccessToken(code), PlatformError);
      expect(e).toMatchObject({
        code: 'BAD_CREDENTIALS',
        platformCode: 'invalidClientIdOrSecret',
        status: 400,
      });
      expect(e).not.toBeInstanceOf(AuthCodeError);
      const everything = [e.message, e.stack ?? '', JSON.stringify(e), ...lines].join('\n');
      expect(lines.some((l) => l.includes('auth.userAccessToken'))).toBe(true);
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(APP.appSecret);
      // The emulator checks the credentials before the code: the right secret can still use it.
      expect((await dt.auth.userAccessToken(code)).accessToken).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await wrong.close();
    }
  });

  it('without an app secret the exchange is a configuration error, not a request', async () => {
    const bare = clientFor(emu, { appSecret: undefined });
    try {
      const before = lastSeq();
      await expectThrows(() => bare.auth.userAccessToken('any-code-000000'), ConfigError);
      expect(lastSeq()).toBe(before);
    } finally {
      await bare.close();
    }
  });
});
