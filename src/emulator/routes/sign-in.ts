/**
 * Who is this person (docs/dingtalk.md §13.2, §13.3), DingTalk's side:
 * - `POST /topapi/v2/user/getuserinfo` trades a 免登 code, with the app token of the app it was issued for;
 * - `POST /v1.0/oauth2/userAccessToken` trades an OAuth code (or a refresh token) for a user token, authenticated by
 *   the app's key and secret in the body, not by an app token;
 * - `GET /v1.0/contact/users/{unionId}` (`me`) reads the person with the user token.
 * Codes come from the login page (login-page.ts) and the control API (`POST /_emulator/users/{userId}/auth-code`).
 * The errors for a spent or expired code are unverified (§12): getuserinfo answers `limits.authCodeErrcode`, the
 * v1.0 call 400 `invalidAuthCode`.
 */
import { oapiAuth } from '../auth.js';
import {
  apiErr,
  apiOk,
  type Ctx,
  isObject,
  nonEmpty,
  type Reply,
  str,
  topapiErr,
  topapiOk,
} from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import { fingerprint } from '../state.js';

export function registerSignInRoutes(routes: RouteTable): void {
  routes.add('POST', '/topapi/v2/user/getuserinfo', userByCode);
  routes.add('POST', '/v1.0/oauth2/userAccessToken', userAccessToken);
  routes.add('GET', '/v1.0/contact/users/:unionId', usersMe);
}

function userByCode(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, true);
  if (a.reply) return a.reply;
  const code = str(ctx.field('code'));
  if (!code) return topapiErr(ctx, 40035, '缺少参数 code');
  const spent = ctx.state.signIn.spendCode(code, 'jsapi', a.app.appKey);
  if (typeof spent === 'string') {
    return topapiErr(ctx, ctx.state.limits.authCodeErrcode, '不存在的临时授权码或已使用');
  }
  const u = ctx.state.users.get(spent.userId);
  if (!u) return topapiErr(ctx, 60121, '找不到该用户');
  const sysLevel = u.sysLevel ?? 0;
  return topapiOk(ctx, {
    userid: u.userId,
    unionid: u.unionId,
    name: u.name,
    device_id: fingerprint('device', u.userId),
    sys: sysLevel === 1 || sysLevel === 2,
    sys_level: sysLevel,
    associated_unionid: '',
  });
}

function userAccessToken(ctx: Ctx): Reply {
  const ct = String(ctx.req.headers['content-type'] ?? '');
  const b = ctx.json();
  if (ct.includes('x-www-form-urlencoded') || !isObject(b)) {
    return apiErr(ctx, 400, 'MissingParameter', 'body is mandatory for this action.');
  }
  const clientId = nonEmpty(b['clientId']);
  const clientSecret = nonEmpty(b['clientSecret']);
  if (!clientId) return apiErr(ctx, 400, 'MissingclientId', 'clientId is mandatory for this action.');
  if (!clientSecret)
    return apiErr(ctx, 400, 'MissingclientSecret', 'clientSecret is mandatory for this action.');
  // The same answer as /v1.0/oauth2/accessToken for bad credentials (tokens.ts, §1.1).
  if (!ctx.state.checkAppSecret(clientId, clientSecret)) {
    return apiErr(ctx, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
  }
  const signIn = ctx.state.signIn;
  let from: { userId: string; appKey: string; scope: string };
  const grant = b['grantType'];
  if (grant === 'authorization_code') {
    const code = nonEmpty(b['code']);
    if (!code) return apiErr(ctx, 400, 'MissingCode', 'code is mandatory for this action.');
    const spent = signIn.spendCode(code, 'oauth', clientId);
    if (typeof spent === 'string') return apiErr(ctx, 400, 'invalidAuthCode', '授权码不存在、已使用或已过期');
    from = spent;
  } else if (grant === 'refresh_token') {
    const rt = nonEmpty(b['refreshToken']);
    if (!rt) return apiErr(ctx, 400, 'MissingRefreshToken', 'refreshToken is mandatory for this action.');
    const spent = signIn.spendRefresh(rt, clientId);
    if (!spent) return apiErr(ctx, 400, 'invalidRefreshToken', 'refreshToken不存在、已使用或已过期');
    from = spent;
  } else {
    return apiErr(
      ctx,
      400,
      'unsupported.grant.type',
      'grantType must be authorization_code or refresh_token',
    );
  }
  if (!ctx.state.users.has(from.userId)) return apiErr(ctx, 400, 'invalidAuthCode', '用户不存在');
  const { access, refresh } = signIn.issueUserToken(from);
  return apiOk({
    accessToken: access.token,
    refreshToken: refresh.token,
    expireIn: Math.max(0, Math.round((access.expiresAt - ctx.state.now()) / 1000)),
    ...(from.scope.split(' ').includes('corpid') ? { corpId: ctx.state.org.corpId } : {}),
  });
}

function usersMe(ctx: Ctx): Reply {
  const h = ctx.req.headers['x-acs-dingtalk-access-token'];
  const token = Array.isArray(h) ? h[0] : h;
  if (token === undefined || token === '') {
    return apiErr(ctx, 400, 'AuthenticationFailed.MissingParameter', '缺少参数：x-acs-dingtalk-access-token');
  }
  const entry = ctx.state.signIn.userToken(token);
  if (entry === undefined && ctx.state.checkToken(token).ok) {
    // An app token names no person: this API needs the user's own token (§13.3).
    return apiErr(
      ctx,
      403,
      'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      'this API needs a user access token, not an app access token',
    );
  }
  if (entry === undefined || entry === 'expired') {
    return apiErr(ctx, 400, 'InvalidAuthentication', '不合法的access_token');
  }
  const u = ctx.state.users.get(entry.userId);
  if (!u) return apiErr(ctx, 400, 'InvalidAuthentication', '不合法的access_token');
  const asked = ctx.params['unionId'];
  if (asked !== 'me' && asked !== u.unionId) {
    return apiErr(
      ctx,
      403,
      'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      'a user token reads its own person only',
    );
  }
  return apiOk({
    nick: u.name,
    avatarUrl: '',
    mobile: u.mobile,
    // Per app, like DingTalk's openId: the same person has another openId in another app.
    openId: `open${fingerprint('openId', entry.appKey, u.userId)}`,
    unionId: u.unionId,
    email: u.email ?? '',
    stateCode: '86',
    visitor: false,
  });
}
