/**
 * Who is this person? (docs/dingtalk.md §13.2, §13.3). Two doors, both ending in a DingTalk identity the server
 * obtained itself — never a userId taken from the browser:
 *
 * - inside DingTalk, the page's `dd.requestAuthCode` gives a 免登 code; `userByCode` trades it, with the app
 *   token, for the person (§13.2);
 * - in any browser, `loginUrl` sends the person to DingTalk's login page, which comes back with an OAuth code;
 *   `userAccessToken` trades it for a *user* token, and `me` reads the person with that token (§13.3).
 *
 * Codes are good once. The calls that spend one are not idempotent, so the retry policy never resends them after
 * an unknown outcome; they are resent only when DingTalk provably did not see them (`not_sent`, or an answer saying
 * it did nothing). A refused code is an `AuthCodeError`, never retried. Codes, user tokens and refresh tokens are
 * redacted from any error that quotes them; the app secret already is (the client's redactor).
 */

import type { ApiContext } from '../../core/context.js';
import { AuthCodeError, ConfigError, isPlatformError, ValidationError } from '../../core/errors.js';
import type { DingTalkRequest } from '../../core/pipeline.js';
import {
  appRateKey,
  badResponse,
  type CallOptions,
  callFields,
  type Json,
  needObject,
  needString,
  optBool,
  optNumber,
  optString,
} from '../shared/response.js';
import { requireObject, requireText } from '../shared/validate.js';

/** The person behind a 免登 code (§13.2), from `topapi/v2/user/getuserinfo`'s snake_case `result`. */
export interface AuthCodeUser {
  userId: string;
  unionId: string;
  name: string;
  /** The device the code was requested on, when DingTalk says. */
  deviceId?: string | undefined;
  /** Whether the person is an admin of the org. */
  sys: boolean;
  /** 1 main admin, 2 sub-admin, 100 boss, 0 everyone else (§13.2). */
  sysLevel: number;
  associatedUnionId?: string | undefined;
}

/** `openid` names the person; `openid corpid` also returns the org's corpId with the user token (§13.3). */
export type LoginScope = 'openid' | 'openid corpid';

export interface LoginUrlInput {
  /** Where DingTalk sends the person back: an absolute http(s) URL without a `#fragment`. */
  redirectUri: string;
  /**
   * An unguessable value the server issued and will check on the way back (CSRF, §13.3). Required.
   * @example crypto.randomBytes(16).toString('base64url')
   */
  state: string;
  /** @default 'openid' */
  scope?: LoginScope | undefined;
}

/** A user access token (§13.3). It acts as the person: keep it server-side, never log it. */
export interface UserAccessToken {
  accessToken: string;
  refreshToken: string;
  /** Lifetime in seconds, as DingTalk gave it. */
  expireIn: number;
  /** `expireIn` on the client's clock, in epoch ms. */
  expiresAt: number;
  /** Only with scope `openid corpid`. */
  corpId?: string | undefined;
}

/** `GET /v1.0/contact/users/me` (§13.3). Fields the person or the app's permissions do not give are undefined. */
export interface UserProfile {
  unionId: string;
  nick: string | undefined;
  avatarUrl: string | undefined;
  mobile: string | undefined;
  openId: string | undefined;
  email: string | undefined;
  stateCode: string | undefined;
}

/** What DingTalk appends to `redirect_uri` (§13.3). */
export interface LoginCallback {
  code: string;
  state: string;
}

const STATE_MAX = 1024;
const CODE_MAX = 512;
const TOKEN_MAX = 2048;

export class Auth {
  readonly #ctx: ApiContext;
  readonly #loginBase: string;
  readonly #appSecret: string | undefined;

  /** Built by `DingTalk` (src/client.ts) with its `loginBase` and app secret. */
  constructor(ctx: ApiContext, o: { loginBase: string; appSecret?: string | undefined }) {
    this.#ctx = ctx;
    this.#loginBase = o.loginBase.replace(/\/+$/, '');
    this.#appSecret = o.appSecret;
  }

  /**
   * The person behind a 免登 code from `dd.requestAuthCode` (§13.2). The code is spent by this call: a second
   * call with it fails with `AuthCodeError`, as does an expired code or one issued to another app.
   * @example
   * const { userId, name } = await dt.auth.userByCode(req.body.code);
   */
  async userByCode(code: string, options: CallOptions = {}): Promise<AuthCodeUser> {
    const op = 'auth.userByCode';
    requireText(code, 'code', op, CODE_MAX);
    const res = await this.#send({
      operation: op,
      host: 'oapi',
      method: 'POST',
      path: '/topapi/v2/user/getuserinfo',
      body: { code },
      auth: 'app',
      idempotent: false,
      rateKey: appRateKey(this.#ctx, op),
      redact: [code],
      ...callFields(options),
    });
    const r = needObject(res, 'result', op);
    return {
      userId: needString(r, 'userid', op),
      unionId: needString(r, 'unionid', op),
      name: optString(r, 'name') ?? '',
      deviceId: optString(r, 'device_id'),
      sys: optBool(r, 'sys') ?? false,
      sysLevel: optNumber(r, 'sys_level') ?? 0,
      associatedUnionId: optString(r, 'associated_unionid') || undefined,
    };
  }

  /**
   * The URL of DingTalk's sign-in page for this app (§13.3), on the client's `loginBase`. Nothing is sent.
   * @example
   * res.redirect(dt.auth.loginUrl({ redirectUri: 'https://hub.example.com/auth/callback', state }));
   * // https://login.dingtalk.com/oauth2/auth?redirect_uri=https%3A%2F%2Fhub.example.com%2Fauth%2Fcallback
   * //   &response_type=code&client_id=<appKey>&scope=openid&state=<state>&prompt=consent
   */
  loginUrl(input: LoginUrlInput): string {
    const op = 'auth.loginUrl';
    const appKey = this.#ctx.app.appKey;
    if (!appKey)
      throw new ConfigError(`${op} needs the app's appKey (its OAuth client_id)`, { operation: op });
    const o = requireObject(input, 'input', op);
    const redirectUri = checkRedirectUri(o['redirectUri'], op);
    const state = requireText(o['state'], 'state', op, STATE_MAX);
    const scope = o['scope'] ?? 'openid';
    if (scope !== 'openid' && scope !== 'openid corpid') {
      throw new ValidationError("must be 'openid' or 'openid corpid'", 'scope', { operation: op });
    }
    const q = [
      ['redirect_uri', redirectUri],
      ['response_type', 'code'],
      ['client_id', appKey],
      ['scope', scope],
      ['state', state],
      ['prompt', 'consent'],
    ]
      .map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`)
      .join('&');
    return `${this.#loginBase}/oauth2/auth?${q}`;
  }

  /**
   * Trades the OAuth code DingTalk sent back to `redirect_uri` for a user access token (§13.3). Not signed with
   * the app token: the app's key and secret go in the body, and the secret never appears in errors or logs.
   * @example
   * const { code, state } = readLoginCallback(new URL(req.url, base).searchParams);
   * const token = await dt.auth.userAccessToken(code);
   * const me = await dt.auth.me(token.accessToken);
   */
  async userAccessToken(code: string, options: CallOptions = {}): Promise<UserAccessToken> {
    const op = 'auth.userAccessToken';
    requireText(code, 'code', op, CODE_MAX);
    return this.#userToken(op, { code, grantType: 'authorization_code' }, code, options);
  }

  /**
   * A fresh user access token from a refresh token (§13.3, `grantType: 'refresh_token'`).
   * @example
   * const next = await dt.auth.refreshUserAccessToken(saved.refreshToken);
   */
  async refreshUserAccessToken(refreshToken: string, options: CallOptions = {}): Promise<UserAccessToken> {
    const op = 'auth.refreshUserAccessToken';
    requireText(refreshToken, 'refreshToken', op, TOKEN_MAX);
    return this.#userToken(op, { refreshToken, grantType: 'refresh_token' }, refreshToken, options);
  }

  /**
   * The person a user access token belongs to (§13.3). An app token is refused here by DingTalk.
   * @example
   * const { unionId, nick } = await dt.auth.me(token.accessToken);
   * const { userId } = await dt.users.byUnionId(unionId);
   */
  async me(userAccessToken: string, options: CallOptions = {}): Promise<UserProfile> {
    const op = 'auth.me';
    requireText(userAccessToken, 'userAccessToken', op, TOKEN_MAX);
    const r = await this.#send({
      operation: op,
      host: 'api',
      method: 'GET',
      path: '/v1.0/contact/users/me',
      headers: { 'x-acs-dingtalk-access-token': userAccessToken },
      auth: 'none',
      idempotent: true,
      redact: [userAccessToken],
      ...callFields(options),
    });
    return {
      unionId: needString(r, 'unionId', op),
      nick: optString(r, 'nick'),
      avatarUrl: optString(r, 'avatarUrl'),
      mobile: optString(r, 'mobile'),
      openId: optString(r, 'openId'),
      email: optString(r, 'email'),
      stateCode: optString(r, 'stateCode'),
    };
  }

  async #userToken(op: string, grant: Json, spent: string, options: CallOptions): Promise<UserAccessToken> {
    const clientId = this.#ctx.app.appKey;
    const clientSecret = this.#appSecret;
    if (!clientId || !clientSecret) {
      throw new ConfigError(`${op} needs appKey and appSecret`, { operation: op });
    }
    const r = await this.#send({
      operation: op,
      host: 'api',
      method: 'POST',
      path: '/v1.0/oauth2/userAccessToken',
      body: { clientId, clientSecret, ...grant },
      auth: 'none',
      idempotent: false,
      rateKey: appRateKey(this.#ctx, op),
      // The secret is the client's own, which its redactor already knows (client-core.ts).
      redact: [spent],
      ...callFields(options),
    });
    const expireIn = optNumber(r, 'expireIn');
    if (expireIn === undefined) throw badResponse(op, 'expireIn');
    return {
      accessToken: needString(r, 'accessToken', op),
      refreshToken: needString(r, 'refreshToken', op),
      expireIn,
      expiresAt: this.#ctx.now() + expireIn * 1000,
      corpId: optString(r, 'corpId') || undefined,
    };
  }

  /**
   * One call. Its one-time values (`req.redact`) are scrubbed from any failure inside the pipeline, before logs see
   * it (src/core/scrub.ts). A refusal DingTalk gives no known meaning is read as "this code is not valid": the exact
   * codes for a spent or expired code are unverified (§13.2, §12).
   */
  async #send(req: DingTalkRequest): Promise<Json> {
    try {
      const res = await this.#ctx.request(req);
      return res.data as Json;
    } catch (clean) {
      if (req.operation !== 'auth.me' && isPlatformError(clean) && !(clean instanceof AuthCodeError)) {
        const generic = clean.code === 'PLATFORM_ERROR' || clean.code === 'INVALID_PARAMETER';
        if (generic && clean.status < 500) {
          throw new AuthCodeError(
            clean.message,
            {
              status: clean.status,
              errcode: clean.errcode,
              subCode: clean.subCode,
              platformCode: clean.platformCode,
              requestId: clean.requestId,
            },
            { operation: req.operation, cause: clean },
          );
        }
      }
      throw clean;
    }
  }
}

/**
 * The code and state from DingTalk's redirect back to `redirect_uri` (§13.3). Current pages name the code
 * `authCode`, some clients `code`; both are read. Check `state` against the one you issued before using the code.
 * @example
 * const { code, state } = readLoginCallback(new URL(req.url, 'http://x').searchParams);
 */
export function readLoginCallback(params: URLSearchParams): LoginCallback {
  const op = 'auth.readLoginCallback';
  const code = params.get('authCode') || params.get('code');
  const state = params.get('state');
  return {
    code: requireText(code ?? undefined, 'authCode', op, CODE_MAX),
    state: requireText(state ?? undefined, 'state', op, STATE_MAX),
  };
}

function checkRedirectUri(value: unknown, op: string): string {
  const text = requireText(value, 'redirectUri', op, 2048);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ValidationError('must be an absolute http(s) URL', 'redirectUri', { operation: op });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ValidationError('must be an absolute http(s) URL', 'redirectUri', { operation: op });
  }
  if (text.includes('#')) {
    throw new ValidationError('must not carry a #fragment', 'redirectUri', { operation: op });
  }
  return text;
}
