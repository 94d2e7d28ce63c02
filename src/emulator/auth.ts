/**
 * Token placement per host (docs/dingtalk.md §0.1, §1.3). oapi reads `access_token` from the query (a form-body
 * field is also accepted, observed) and ignores headers; api reads only `x-acs-dingtalk-access-token`, and a
 * query token or `Authorization: Bearer` is ignored.
 */
import { apiErr, type Ctx, oapiErr, type Reply, str, topapiErr } from './http-io.js';
import type { AppDef } from './types.js';

export type Authed = { app: AppDef; reply?: undefined } | { app?: undefined; reply: Reply };

/** Plain oapi routes answer 41001 / 40014 / 42001; `topapi` wraps them as 88 + sub_code (§1.3). */
export function oapiAuth(ctx: Ctx, topapi: boolean): Authed {
  const token = ctx.query.get('access_token') ?? str(ctx.field('access_token'));
  const wrap = (code: number, sub: string, msg: string): Reply =>
    topapi
      ? {
          ...topapiErr(ctx, 88, `ding talk error[subcode=${sub},submsg=${msg}]`),
          body: {
            errcode: 88,
            sub_code: sub,
            sub_msg: msg,
            errmsg: `ding talk error[subcode=${sub},submsg=${msg}]`,
            request_id: `emu${ctx.seq.toString(16).padStart(8, '0')}`,
          },
        }
      : oapiErr(code, msg);
  if (token === undefined || token === '') {
    return {
      reply: topapi ? wrap(88, '40000', 'access_token is blank') : oapiErr(41001, '缺少access_token参数'),
    };
  }
  const check = ctx.state.checkToken(token);
  if (check.ok) {
    if (!ctx.state.appCallAllowed(check.app.appKey, ctx.path)) {
      return { reply: oapiErr(90018, '当前企业该应用调用该接口的并发量超过限制') };
    }
    return { app: check.app };
  }
  // The wrapped form of an expired token on topapi is unverified (§1.3); sub_code 42001 by analogy with 40014.
  if (check.reason === 'expired') return { reply: wrap(42001, '42001', 'access_token超时') };
  return { reply: wrap(40014, '40014', '不合法的access_token') };
}

export function apiAuth(ctx: Ctx): Authed {
  const h = ctx.req.headers['x-acs-dingtalk-access-token'];
  const token = Array.isArray(h) ? h[0] : h;
  if (token === undefined || token === '') {
    return {
      reply: apiErr(
        ctx,
        400,
        'AuthenticationFailed.MissingParameter',
        '缺少参数：x-acs-dingtalk-access-token',
      ),
    };
  }
  const check = ctx.state.checkToken(token);
  if (!check.ok) return { reply: apiErr(ctx, 400, 'InvalidAuthentication', '不合法的access_token') };
  if (!ctx.state.appCallAllowed(check.app.appKey, ctx.path)) {
    return {
      reply: apiErr(
        ctx,
        403,
        'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
        '应用调用该接口的并发量超过限制',
      ),
    };
  }
  return { app: check.app };
}

/** v1.0 bodies are JSON only (§0.1: a form body → 400 "body is mandatory"). */
export type JsonBody =
  | { body: Record<string, unknown>; reply?: undefined }
  | { body?: undefined; reply: Reply };

function apiJsonBody(ctx: Ctx): JsonBody {
  const ct = String(ctx.req.headers['content-type'] ?? '');
  const j = ctx.json();
  if (ct.includes('x-www-form-urlencoded') || j === null || typeof j !== 'object' || Array.isArray(j)) {
    return { reply: apiErr(ctx, 400, 'MissingParameter', 'body is mandatory for this action.') };
  }
  return { body: j as Record<string, unknown> };
}

/** Header token check, then the JSON body: the order DingTalk's gateway applies (auth first). */
export function apiAuthJson(
  ctx: Ctx,
): { app: AppDef; body: Record<string, unknown>; reply?: undefined } | { reply: Reply } {
  const a = apiAuth(ctx);
  if (a.reply) return { reply: a.reply };
  const b = apiJsonBody(ctx);
  if (b.reply) return { reply: b.reply };
  return { app: a.app, body: b.body };
}
