/**
 * Auth checks (read-only): the token endpoints (§1.1, §1.2) and a made-up 免登 code, which names no person so DingTalk
 * can only refuse it (§13.2); the refusal's errcode is the fact.
 */

import { appRateKey } from '../api/shared/response.js';
import { isPlatformError } from '../core/errors.js';
import { madeUp, needApp, refusal } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const token: VerifyCheck = {
  id: 'token',
  family: 'auth',
  title: 'token endpoints (v1.0 oauth2/accessToken and legacy gettoken)',
  facts: ['token.lifetime'],
  skip: needApp,
  async run(env, rec) {
    const v1 = await env.dt.request<{ accessToken?: unknown; expireIn?: unknown }>({
      operation: 'verify.token',
      rateKey: appRateKey(env.dt.context, 'verify.token'),
      host: 'api',
      method: 'POST',
      path: '/v1.0/oauth2/accessToken',
      body: { appKey: env.appKey, appSecret: env.appSecret },
      auth: 'none',
      idempotent: true,
    });
    const t = v1.data;
    if (typeof t.accessToken === 'string') env.redactor.add(t.accessToken);
    if (typeof t.expireIn !== 'number' || typeof t.accessToken !== 'string')
      return { failed: 'v1.0 oauth2/accessToken answered without accessToken / expireIn' };
    rec.observe('token.lifetime', t.expireIn, `v1.0 oauth2/accessToken answered expireIn ${t.expireIn}`);
    const legacy = await env.dt.request<{ access_token?: unknown; expires_in?: unknown }>({
      operation: 'verify.gettoken',
      rateKey: appRateKey(env.dt.context, 'verify.gettoken'),
      host: 'oapi',
      method: 'GET',
      path: '/gettoken',
      query: { appkey: env.appKey ?? '', appsecret: env.appSecret ?? '' },
      auth: 'none',
      idempotent: true,
    });
    const l = legacy.data;
    if (typeof l.access_token === 'string') env.redactor.add(l.access_token);
    if (typeof l.access_token !== 'string') return { failed: 'gettoken answered without access_token' };
    // Both hosts share one token per app (§0.1, §12): a different one would be a finding of its own.
    const shared = l.access_token === t.accessToken ? 'the same token' : 'a different token';
    return `both endpoints answered; gettoken gave ${shared}, expires_in ${String(l.expires_in)}`;
  },
};

export const authCode: VerifyCheck = {
  id: 'auth-code',
  family: 'sign-in',
  title: 'getuserinfo with a made-up 免登 code',
  facts: ['auth.codeErrcode'],
  skip: needApp,
  async run(env, rec) {
    // A made-up code names no person: DingTalk can only refuse it (§13.2).
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.authCode',
        rateKey: appRateKey(env.dt.context, 'verify.authCode'),
        host: 'oapi',
        method: 'POST',
        path: '/topapi/v2/user/getuserinfo',
        body: { code: madeUp(env, 'auth-code').slice(0, 32) },
        auth: 'app',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk accepted a made-up 免登 code' };
    if (!isPlatformError(r) || r.errcode === undefined) {
      rec.unobserved('auth.codeErrcode', `answered HTTP ${r.status} without an errcode`);
      return { failed: `answered HTTP ${r.status} without an errcode` };
    }
    const sub = r.subCode ? ` (sub_code ${r.subCode})` : '';
    rec.observe('auth.codeErrcode', r.errcode, `answered errcode ${r.errcode}${sub}`);
    return `refused with errcode ${r.errcode}${sub}`;
  },
};
