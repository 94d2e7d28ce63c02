/**
 * Access tokens (docs/dingtalk.md §1): the three response shapes, credentials in the query for `gettoken`
 * (§1.1 note: a body instead → 40035), JSON only for the v1.0 calls. Same token while valid, validity extended
 * on each call (§1.2). Each request with good credentials passes the token gate (token-gate.ts): counted, and held
 * when a test asked for it; a held request whose client went away is dropped without issuing a token.
 */
import { apiErr, apiOk, type Ctx, isObject, nonEmpty, oapiErr, oapiOk, type Reply } from '../http-io.js';
import type { RouteTable } from '../route-table.js';

/** The answer to a held request whose client is gone: nobody reads it; the status only shows in the request log. */
const GONE: Reply = { status: 499, body: '', contentType: 'text/plain' };

export function registerTokenRoutes(routes: RouteTable): void {
  routes.add('GET', '/gettoken', gettoken);
  routes.add('POST', '/v1.0/oauth2/accessToken', accessToken);
  routes.add('POST', '/v1.0/oauth2/:corpId/token', corpToken);
}

async function gettoken(ctx: Ctx): Promise<Reply> {
  const key = ctx.query.get('appkey') ?? ctx.query.get('corpid');
  const secret = ctx.query.get('appsecret') ?? ctx.query.get('corpsecret');
  if (!key && !secret) {
    return ctx.raw.length > 0
      ? oapiErr(40035, '缺少参数 corpid or appkey')
      : oapiErr(41002, '缺少corpid参数');
  }
  if (!key) return oapiErr(41002, '缺少corpid参数');
  if (!secret) return oapiErr(41004, '缺少corpsecret参数');
  if (!ctx.state.checkAppSecret(key, secret)) {
    // 40089 (doc) for corpid/corpsecret; 40096 (observed) for appkey/appsecret.
    return ctx.query.has('appkey')
      ? oapiErr(40096, '不合法的appKey或appSecret')
      : oapiErr(40089, '不合法的corpid或corpsecret');
  }
  if (!(await ctx.state.tokenGate.admit(key, ctx.req))) return GONE;
  const t = ctx.state.issueToken(key);
  return oapiOk({
    access_token: t.token,
    expires_in: Math.max(0, Math.round((t.expiresAt - ctx.state.now()) / 1000)),
  });
}

async function accessToken(ctx: Ctx): Promise<Reply> {
  const j = ctx.json();
  const b = isObject(j) ? j : undefined;
  const key = nonEmpty(b?.['appKey']);
  const secret = nonEmpty(b?.['appSecret']);
  if (!b) return apiErr(ctx, 400, 'MissingParameter', 'body is mandatory for this action.');
  if (!key) return apiErr(ctx, 400, 'MissingappKey', 'appKey is mandatory for this action.');
  if (!secret) return apiErr(ctx, 400, 'MissingappSecret', 'appSecret is mandatory for this action.');
  if (!ctx.state.checkAppSecret(key, secret)) {
    return apiErr(ctx, 400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
  }
  if (!(await ctx.state.tokenGate.admit(key, ctx.req))) return GONE;
  const t = ctx.state.issueToken(key);
  return apiOk({
    accessToken: t.token,
    expireIn: Math.max(0, Math.round((t.expiresAt - ctx.state.now()) / 1000)),
  });
}

async function corpToken(ctx: Ctx): Promise<Reply> {
  const j = ctx.json();
  const b = isObject(j) ? j : {};
  if (ctx.params['corpId'] !== ctx.state.org.corpId)
    return apiErr(ctx, 400, 'invalid.client', 'corpId is invalid');
  if (b['grant_type'] !== 'client_credentials') {
    return apiErr(ctx, 400, 'unsupported.grant.type', 'grant_type must be client_credentials');
  }
  const id = nonEmpty(b['client_id']);
  const secret = nonEmpty(b['client_secret']);
  if (!id || !secret || !ctx.state.checkAppSecret(id, secret)) {
    return apiErr(ctx, 401, 'unauthorized.client', 'client_id or client_secret is invalid');
  }
  if (!(await ctx.state.tokenGate.admit(id, ctx.req))) return GONE;
  const t = ctx.state.issueToken(id);
  return apiOk({
    access_token: t.token,
    expires_in: Math.max(0, Math.round((t.expiresAt - ctx.state.now()) / 1000)),
  });
}
