/**
 * docs/dingtalk.md §11 "Transport" and "Tokens" rows over real sockets: oapi answers HTTP 200 + errcode, api answers the status +
 * `{code, message, requestid}`; token placement per host (§0.1); unknown routes and wrong methods answered as
 * DingTalk does; the three token shapes; same token while valid, a new one after expiry (§1.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';
import { call, fakeClock } from './emulator-http.js';

const app = DEMO_ORG.org.apps[0]!;
const clock = fakeClock();
let emu: Emulator;

const legacyToken = async (): Promise<string> =>
  (
    await call<{ access_token: string }>(
      `${emu.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`,
    )
  ).body.access_token;

beforeAll(async () => {
  emu = await startEmulator({ now: clock.now, seed: 11 });
});
afterAll(async () => {
  await emu.close();
});

describe('tokens (§1)', () => {
  it('answers the three shapes: gettoken snake_case, accessToken camelCase, {corpId}/token snake_case', async () => {
    const a = await call(`${emu.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    const b = await call(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: app.appSecret },
    });
    expect(Object.keys(b.body).sort()).toEqual(['accessToken', 'expireIn']);
    const c = await call(`${emu.url}/v1.0/oauth2/${DEMO_ORG.org.corpId}/token`, {
      body: { client_id: app.appKey, client_secret: app.appSecret, grant_type: 'client_credentials' },
    });
    expect(Object.keys(c.body).sort()).toEqual(['access_token', 'expires_in']);
    // One token per app, whichever endpoint issued it (§0.1).
    expect(b.body['accessToken']).toBe(a.body['access_token']);
    expect(c.body['access_token']).toBe(a.body['access_token']);
  });

  it('returns the same token while valid and extends it; a new token after expiry; the old one is then refused', async () => {
    const t1 = await legacyToken();
    clock.advance(7000 * 1000);
    expect(await legacyToken()).toBe(t1); // extended to now + 7200 s
    clock.advance(7000 * 1000);
    const r = await call(`${emu.url}/topapi/v2/user/get?access_token=${t1}`, {
      body: { userid: 'zhangsan' },
    });
    expect(r.body['errcode']).toBe(0);
    clock.advance(7201 * 1000);
    const expiredPlain = await call(`${emu.url}/chat/get?access_token=${t1}&chatid=x`);
    expect(expiredPlain.body['errcode']).toBe(42001);
    const expiredApi = await call(`${emu.url}/v1.0/im/chat/x/convertToOpenConversationId`, {
      body: {},
      headers: { 'x-acs-dingtalk-access-token': t1 },
    });
    expect(expiredApi.status).toBe(400);
    expect(expiredApi.body['code']).toBe('InvalidAuthentication');
    const t2 = await legacyToken();
    expect(t2).not.toBe(t1);
  });

  it('refuses bad credentials with each documented code', async () => {
    const u = `${emu.url}/gettoken`;
    expect((await call(`${u}?appkey=${app.appKey}&appsecret=nope`)).body['errcode']).toBe(40096);
    expect((await call(`${u}?corpid=${app.appKey}&corpsecret=nope`)).body['errcode']).toBe(40089);
    expect((await call(`${u}?appsecret=x`)).body['errcode']).toBe(41002);
    expect((await call(`${u}?appkey=${app.appKey}`)).body['errcode']).toBe(41004);
    // Credentials in a body instead of the query (§1.1 note).
    const body = await call(u, {
      method: 'GET',
      raw: `appkey=${app.appKey}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(body.body['errcode']).toBe(40035);
    const v1 = await call(`${emu.url}/v1.0/oauth2/accessToken`, {
      body: { appKey: app.appKey, appSecret: 'x' },
    });
    expect(v1.status).toBe(400);
    expect(v1.body).toMatchObject({ code: 'invalidClientIdOrSecret', requestid: expect.any(String) });
    const grant = await call(`${emu.url}/v1.0/oauth2/${DEMO_ORG.org.corpId}/token`, {
      body: { client_id: app.appKey, client_secret: app.appSecret, grant_type: 'password' },
    });
    expect(grant.body['code']).toBe('unsupported.grant.type');
  });
});

describe('token placement per host (§0.1)', () => {
  it('oapi ignores a header token: plain 41001, topapi 88 + sub_code 40000', async () => {
    const t = await legacyToken();
    const plain = await call(`${emu.url}/chat/get?chatid=x`, {
      headers: { 'x-acs-dingtalk-access-token': t },
    });
    expect(plain.status).toBe(200);
    expect(plain.body['errcode']).toBe(41001);
    const top = await call(`${emu.url}/topapi/v2/user/get`, {
      body: { userid: 'zhangsan' },
      headers: { authorization: `Bearer ${t}` },
    });
    expect(top.body).toMatchObject({ errcode: 88, sub_code: '40000', sub_msg: 'access_token is blank' });
  });

  it('oapi: a garbage token is 40014, wrapped as 88/40014 on topapi', async () => {
    expect((await call(`${emu.url}/chat/get?access_token=junk&chatid=x`)).body['errcode']).toBe(40014);
    const top = await call(`${emu.url}/topapi/v2/user/get?access_token=junk`, {
      body: { userid: 'zhangsan' },
    });
    expect(top.body).toMatchObject({ errcode: 88, sub_code: '40014' });
    expect(typeof top.body['request_id']).toBe('string');
  });

  it('oapi accepts the token as a form-body field (observed)', async () => {
    const t = await legacyToken();
    const r = await call(`${emu.url}/topapi/v2/user/getbymobile`, {
      raw: `access_token=${t}&mobile=13800000002`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.body).toMatchObject({ errcode: 0, result: { userid: 'lisi' } });
  });

  it('api ignores ?access_token= and Bearer: 400 AuthenticationFailed.MissingParameter', async () => {
    const t = await legacyToken();
    const path = `${emu.url}/v1.0/robot/groupMessages/send`;
    for (const r of [
      await call(`${path}?access_token=${t}`, { body: {} }),
      await call(path, { body: {}, headers: { authorization: `Bearer ${t}` } }),
    ]) {
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({
        code: 'AuthenticationFailed.MissingParameter',
        message: expect.any(String),
      });
      expect(Object.keys(r.body).sort()).toEqual(['code', 'message', 'requestid']);
    }
  });

  it('api refuses a form body (JSON only)', async () => {
    const t = await legacyToken();
    const r = await call(`${emu.url}/v1.0/robot/groupMessages/send`, {
      raw: 'robotCode=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-acs-dingtalk-access-token': t },
    });
    expect(r.status).toBe(400);
    expect(r.body['code']).toBe('MissingParameter');
  });
});

describe('unknown routes and methods', () => {
  it('answers topapi 22, oapi 404 errcode (HTTP 200), api HTTP 404, control 404', async () => {
    const top = await call(`${emu.url}/topapi/nope/nope`, { body: {} });
    expect([top.status, top.body['errcode']]).toEqual([200, 22]);
    const o = await call(`${emu.url}/nope`);
    expect([o.status, o.body['errcode']]).toEqual([200, 404]);
    const api = await call(`${emu.url}/v1.0/nope`, { body: {} });
    expect(api.status).toBe(404);
    expect(Object.keys(api.body).sort()).toEqual(['code', 'message', 'requestid']);
    expect((await call(`${emu.url}/_emulator/nope`)).status).toBe(404);
  });

  it('oapi wrong method: 43002 must use POST, 43001 must use GET', async () => {
    expect((await call(`${emu.url}/robot/send`)).body['errcode']).toBe(43002);
    expect((await call(`${emu.url}/gettoken`, { body: {} })).body['errcode']).toBe(43001);
  });

  it('never crashes on garbage: bad JSON, huge JSON nesting, binary', async () => {
    const t = await legacyToken();
    const bodies = [
      '{',
      '[]',
      'null',
      '"x"',
      '{"a":'.repeat(5000),
      Buffer.from([0xff, 0xfe, 0, 1, 2]).toString('latin1'),
    ];
    for (const raw of bodies) {
      const a = await call(`${emu.url}/v1.0/robot/groupMessages/send`, {
        raw,
        headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': t },
      });
      expect(a.status).toBe(400);
      const b = await call(`${emu.url}/topapi/message/corpconversation/asyncsend_v2?access_token=${t}`, {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(b.status).toBe(200);
      expect(b.body['errcode']).not.toBe(0);
    }
    expect((await call(`${emu.url}/_emulator/health`)).body['ok']).toBe(true);
  });
});

describe('per-app per-API QPS (§0.2), off by default, scaled to 2/s here', () => {
  it('answers 90018 on oapi and 403 QpsLimitForAppkeyAndApi on api past the limit; the next second is free', async () => {
    const c = fakeClock();
    const q = await startEmulator({ now: c.now, limits: { appQpsLimit: 2 } });
    try {
      const t = (
        await call<{ access_token: string }>(
          `${q.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`,
        )
      ).body.access_token;
      const user = () =>
        call(`${q.url}/topapi/v2/user/get?access_token=${t}`, { body: { userid: 'zhangsan' } });
      const codes = [await user(), await user(), await user()].map((r) => r.body['errcode']);
      expect(codes).toEqual([0, 0, 90018]);
      const conv = () =>
        call(`${q.url}/v1.0/im/chat/${DEMO_ORG.org.groups[0]!.chatid}/convertToOpenConversationId`, {
          body: {},
          headers: { 'x-acs-dingtalk-access-token': t },
        });
      const statuses = [await conv(), await conv(), await conv()].map((r) => r.status);
      expect(statuses).toEqual([200, 200, 403]);
      c.advance(1000);
      expect((await user()).body['errcode']).toBe(0);
      // Twin: the default emulator (limit off) takes the same burst (the check above can fail).
      const t2 = await legacyToken();
      const burst: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        burst.push(
          (await call(`${emu.url}/topapi/v2/user/get?access_token=${t2}`, { body: { userid: 'zhangsan' } }))
            .body['errcode'],
        );
      }
      expect(burst).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await q.close();
    }
  });
});
