/**
 * The emulator's sign-in routes against the official OpenAPI client `@alicloud/dingtalk` (docs/dingtalk.md §13.3):
 * `oauth2_1_0` `getUserToken` (authorization_code and refresh_token) and `contact_1_0` `getUserWithOptions('me')`
 * with the user token in `GetUserHeaders`, pointed at the emulator as the other official-client tests do. The code
 * comes from the emulator's login page, as a browser would get it.
 */
import { createRequire } from 'node:module';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG, type Emulator, startEmulator } from '../../src/emulator/index.js';

type Ctor = new (o?: object) => object;
type Mod = Record<string, Ctor>;
interface Answer {
  statusCode: number;
  body: Record<string, unknown>;
}
interface SdkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

const require = createRequire(import.meta.url);
const { Config } = require('@alicloud/openapi-client') as { Config: Ctor };
const { RuntimeOptions } = require('@alicloud/tea-util') as { RuntimeOptions: Ctor };
const oauth2 = require('@alicloud/dingtalk/oauth2_1_0') as Mod;
const contact = require('@alicloud/dingtalk/contact_1_0') as Mod;

const app = DEMO_ORG.org.apps[0]!;
let emu: Emulator;
let config: object;

const mk = (mod: Mod, name: string, o: object = {}): object => new (mod[name] as Ctor)(o);
const client = <T>(mod: Mod): T => new (mod['default'] as Ctor)(config) as T;
type OAuthClient = { getUserToken(r: object): Promise<Answer> };
type ContactClient = { getUserWithOptions(unionId: string, h: object, rt: object): Promise<Answer> };

/** The login page, driven as a browser: pick `userId`, read the code off the redirect. */
async function oauthCode(userId: string): Promise<string> {
  const form = new URLSearchParams({
    client_id: app.appKey,
    redirect_uri: 'http://127.0.0.1:9/cb',
    response_type: 'code',
    scope: 'openid corpid',
    state: 'sdk',
    userId,
  });
  const res = await request(`${emu.url}/oauth2/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  await res.body.text();
  expect(res.statusCode).toBe(302);
  return new URL(String(res.headers['location'])).searchParams.get('authCode') ?? '';
}

const me = (token: string) =>
  client<ContactClient>(contact).getUserWithOptions(
    'me',
    mk(contact, 'GetUserHeaders', { xAcsDingtalkAccessToken: token }),
    new RuntimeOptions({}),
  );

beforeAll(async () => {
  emu = await startEmulator({ seed: 17 });
  config = new Config({ protocol: 'http', endpoint: `127.0.0.1:${emu.port}` });
});
afterAll(async () => {
  await emu.close();
});

describe('@alicloud/dingtalk sign-in against the emulator (§13.3)', () => {
  it('getUserToken → contact getUser("me"), then refresh', async () => {
    const oauth = client<OAuthClient>(oauth2);
    const t = await oauth.getUserToken(
      mk(oauth2, 'GetUserTokenRequest', {
        clientId: app.appKey,
        clientSecret: app.appSecret,
        code: await oauthCode('wangwu'),
        grantType: 'authorization_code',
      }),
    );
    expect(t.statusCode).toBe(200);
    expect(t.body).toMatchObject({ expireIn: 7200, corpId: DEMO_ORG.org.corpId });
    const accessToken = String(t.body['accessToken']);

    const u = await me(accessToken);
    expect(u.statusCode).toBe(200);
    expect(u.body).toMatchObject({
      unionId: 'unionWangWu000003',
      nick: '王五',
      mobile: '13800000003',
      stateCode: '86',
    });
    expect(String(u.body['openId'])).toMatch(/^open[0-9a-f]{16}$/);

    const r = await oauth.getUserToken(
      mk(oauth2, 'GetUserTokenRequest', {
        clientId: app.appKey,
        clientSecret: app.appSecret,
        refreshToken: String(t.body['refreshToken']),
        grantType: 'refresh_token',
      }),
    );
    expect(r.statusCode).toBe(200);
    expect((await me(String(r.body['accessToken']))).body['unionId']).toBe('unionWangWu000003');
  });

  it('surfaces a wrong secret, a spent code and an app token as the SDK error codes', async () => {
    const oauth = client<OAuthClient>(oauth2);
    const code = await oauthCode('alice');
    const wrong = (await oauth
      .getUserToken(
        mk(oauth2, 'GetUserTokenRequest', {
          clientId: app.appKey,
          clientSecret: 'not-the-secret',
          code,
          grantType: 'authorization_code',
        }),
      )
      .catch((e: unknown) => e)) as SdkError;
    expect(wrong).toMatchObject({ code: 'invalidClientIdOrSecret', statusCode: 400 });

    const good = mk(oauth2, 'GetUserTokenRequest', {
      clientId: app.appKey,
      clientSecret: app.appSecret,
      code,
      grantType: 'authorization_code',
    });
    expect((await oauth.getUserToken(good)).statusCode).toBe(200);
    const spent = (await oauth.getUserToken(good).catch((e: unknown) => e)) as SdkError;
    expect(spent).toMatchObject({ code: 'invalidAuthCode', statusCode: 400 });

    const appToken = String(
      (
        await client<{ getAccessToken(r: object): Promise<Answer> }>(oauth2).getAccessToken(
          mk(oauth2, 'GetAccessTokenRequest', { appKey: app.appKey, appSecret: app.appSecret }),
        )
      ).body['accessToken'],
    );
    const refused = (await me(appToken).catch((e: unknown) => e)) as SdkError;
    expect(refused).toMatchObject({
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      statusCode: 403,
    });
  });
});
