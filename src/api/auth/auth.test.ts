import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../../test/support/expect-throws.js';
import { fakeTransport, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import {
  AuthCodeError,
  ConfigError,
  NetworkError,
  PlatformError,
  ValidationError,
} from '../../core/errors.js';
import { readLoginCallback } from './auth.js';

const USER_INFO = {
  errcode: 0,
  errmsg: 'ok',
  result: {
    userid: 'u1',
    unionid: 'un1',
    name: 'Ann',
    device_id: 'dev9',
    sys: true,
    sys_level: 1,
    associated_unionid: 'assoc1',
  },
  request_id: 'r1',
};

describe('auth.loginUrl (§13.3)', () => {
  it('has the exact documented form on login.dingtalk.com by default', () => {
    const dt = new DingTalk(testOptions);
    expect(dt.auth.loginUrl({ redirectUri: 'https://hub.example.com/cb', state: 'abc' })).toBe(
      'https://login.dingtalk.com/oauth2/auth?redirect_uri=https%3A%2F%2Fhub.example.com%2Fcb' +
        '&response_type=code&client_id=dingtestappkey&scope=openid&state=abc&prompt=consent',
    );
  });

  it('takes the login host from loginBase, or from DINGTALK_LOGIN_BASE', () => {
    const a = new DingTalk({ ...testOptions, loginBase: 'http://127.0.0.1:8788/' });
    expect(a.auth.loginUrl({ redirectUri: 'http://x.test/cb', state: 's' })).toMatch(
      /^http:\/\/127\.0\.0\.1:8788\/oauth2\/auth\?/,
    );
    const b = new DingTalk({ ...testOptions, env: { DINGTALK_LOGIN_BASE: 'http://127.0.0.1:9' } });
    expect(b.loginBase).toBe('http://127.0.0.1:9');
    expectThrows(() => new DingTalk({ ...testOptions, loginBase: 'javascript:alert(1)' }), ConfigError);
  });

  it('refuses what would make a bad or unsafe redirect', () => {
    const dt = new DingTalk(testOptions);
    for (const redirectUri of [
      'javascript:alert(1)',
      'data:text/html,x',
      '/relative',
      'https://h.test/cb#frag',
    ]) {
      const e = expectThrows(() => dt.auth.loginUrl({ redirectUri, state: 's' }), ValidationError);
      expect(e.field).toBe('redirectUri');
    }
    expect(
      expectThrows(() => dt.auth.loginUrl({ redirectUri: 'https://h.test', state: '' }), ValidationError)
        .field,
    ).toBe('state');
    const scope = 'openid email' as 'openid';
    expect(
      expectThrows(
        () => dt.auth.loginUrl({ redirectUri: 'https://h.test', state: 's', scope }),
        ValidationError,
      ).field,
    ).toBe('scope');
    const noKey = new DingTalk({ env: {} });
    expectThrows(() => noKey.auth.loginUrl({ redirectUri: 'https://h.test', state: 's' }), ConfigError);
  });
});

describe('readLoginCallback', () => {
  it('reads authCode, falls back to code, and requires state', () => {
    expect(readLoginCallback(new URLSearchParams('authCode=a1&code=zz&state=s'))).toEqual({
      code: 'a1',
      state: 's',
    });
    expect(readLoginCallback(new URLSearchParams('code=c1&state=s'))).toEqual({ code: 'c1', state: 's' });
    expect(expectThrows(() => readLoginCallback(new URLSearchParams('code=c1')), ValidationError).field).toBe(
      'state',
    );
    expect(expectThrows(() => readLoginCallback(new URLSearchParams('state=s')), ValidationError).field).toBe(
      'authCode',
    );
  });
});

describe('auth.userByCode (§13.2)', () => {
  it('posts {code} with the app token in the query and maps the answer', async () => {
    const t = fakeTransport(() => ({ body: USER_INFO }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const u = await dt.auth.userByCode('code-1');
    expect(u).toEqual({
      userId: 'u1',
      unionId: 'un1',
      name: 'Ann',
      deviceId: 'dev9',
      sys: true,
      sysLevel: 1,
      associatedUnionId: 'assoc1',
    });
    const req = t.calls[0]!;
    expect(req.url.pathname).toBe('/topapi/v2/user/getuserinfo');
    expect(req.url.searchParams.get('access_token')).toBe('app-token-canary-777');
    expect(req.json).toEqual({ code: 'code-1' });
  });

  it('an errcode without a known meaning is an AuthCodeError, sent once, with the code scrubbed', async () => {
    const code = 'one-time-code-canary-42';
    const t = fakeTransport(() => ({ body: { errcode: 40099, errmsg: `bad code ${code}` } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const e = await expectThrows(() => dt.auth.userByCode(code), AuthCodeError);
    expect(e).toMatchObject({ code: 'AUTH_CODE_INVALID', errcode: 40099, retryable: false });
    expect(e.message).toContain('[REDACTED]');
    expect(e.message).not.toContain(code);
    expect(t.calls).toHaveLength(1);
  });

  it('keeps the meaning of known errors (a missing permission is not a bad code)', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 60011, errmsg: 'no permission' } }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const e = await expectThrows(() => dt.auth.userByCode('c-000001'), PlatformError);
    expect(e).not.toBeInstanceOf(AuthCodeError);
    expect(e.code).toBe('NO_PERMISSION');
  });

  it('is resent after not_sent, never after an unknown outcome', async () => {
    const t1 = fakeTransport((_r, n) =>
      n === 1 ? new NetworkError('refused', { outcome: 'not_sent' }) : { body: USER_INFO },
    );
    const a = new DingTalk({ ...testOptions, transport: t1.send });
    expect((await a.auth.userByCode('c-000002')).userId).toBe('u1');
    expect(t1.calls).toHaveLength(2);

    const t2 = fakeTransport(
      () => new NetworkError('reset after send', { outcome: 'unknown', retryable: false }),
    );
    const b = new DingTalk({ ...testOptions, transport: t2.send });
    await expectThrows(() => b.auth.userByCode('c-000003'), NetworkError);
    expect(t2.calls).toHaveLength(1);
  });
});

describe('auth.userAccessToken / me (§13.3)', () => {
  it('sends the grant without an app token and reads the token', async () => {
    const t = fakeTransport(() => ({
      body: { accessToken: 'ut-1', refreshToken: 'rt-1', expireIn: 7200, corpId: 'dingcorp' },
    }));
    const dt = new DingTalk({ ...testOptions, transport: t.send, now: () => 1_000 });
    const tok = await dt.auth.userAccessToken('oauth-code-1');
    expect(tok).toEqual({
      accessToken: 'ut-1',
      refreshToken: 'rt-1',
      expireIn: 7200,
      expiresAt: 1_000 + 7_200_000,
      corpId: 'dingcorp',
    });
    const req = t.calls[0]!;
    expect(req.url.pathname).toBe('/v1.0/oauth2/userAccessToken');
    expect(req.headers['x-acs-dingtalk-access-token']).toBeUndefined();
    expect(req.json).toEqual({
      clientId: 'dingtestappkey',
      clientSecret: testOptions.appSecret,
      code: 'oauth-code-1',
      grantType: 'authorization_code',
    });
    await dt.auth.refreshUserAccessToken('rt-1');
    expect(t.calls[1]!.json).toMatchObject({ refreshToken: 'rt-1', grantType: 'refresh_token' });
  });

  it('an answer that quotes the secret is redacted before anyone sees it', async () => {
    const t = fakeTransport((req) => ({
      status: 400,
      body: {
        code: 'invalidClientIdOrSecret',
        // Quoted bare (no `name=` in front), so only redaction by value can catch it.
        message: `no app ${(req.json as { clientId: string; clientSecret: string }).clientId}/${(req.json as { clientSecret: string }).clientSecret}`,
      },
    }));
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    const e = await expectThrows(() => dt.auth.userAccessToken('oauth-code-2'), PlatformError);
    expect(e.code).toBe('BAD_CREDENTIALS');
    expect(e.message).toContain('[REDACTED]');
    expect(`${e.message}${JSON.stringify(e)}`).not.toContain(testOptions.appSecret);
  });

  it('reads the person with the user token in the header; an answer quoting the token is scrubbed', async () => {
    const user = 'user-token-canary-9876';
    const t = fakeTransport((req, n) =>
      n === 1
        ? { body: { nick: 'Ann', unionId: 'un1', openId: 'o1', stateCode: '86' } }
        : {
            status: 400,
            body: {
              code: 'InvalidAuthentication',
              message: `token ${req.headers['x-acs-dingtalk-access-token']}`,
            },
          },
    );
    const dt = new DingTalk({ ...testOptions, transport: t.send });
    expect(await dt.auth.me(user)).toEqual({
      unionId: 'un1',
      nick: 'Ann',
      avatarUrl: undefined,
      mobile: undefined,
      openId: 'o1',
      email: undefined,
      stateCode: '86',
    });
    expect(t.calls[0]!.url.pathname).toBe('/v1.0/contact/users/me');
    expect(t.calls[0]!.headers['x-acs-dingtalk-access-token']).toBe(user);
    const e = await expectThrows(() => dt.auth.me(user), PlatformError);
    expect(e.message).toContain('[REDACTED]');
    expect(e.message).not.toContain(user);
  });
});
