/**
 * Maps DingTalk's answers into the error model. Reference: docs/dingtalk.md §0.1 (answer shapes), §0.2 (limits),
 * §0.3 (error codes), §1.3 (token errors), §2.6 (robot errors), §3.3 (app robot codes).
 */

import {
  AuthCodeError,
  type DingTalkError,
  HttpError,
  PlatformError,
  RateLimitedError,
  type RateLimitScope,
  type RobotSecurityCheck,
  RobotSecurityError,
} from './errors.js';

export interface ErrorMapOptions {
  /**
   * Errcodes a custom robot uses for "sent too fast". The current doc says 410100; 130101 (2020) and 660026
   * (2026) were observed live (docs/dingtalk.md §12), so all three count by default.
   * @default [410100, 130101, 660026]
   */
  robotThrottleCodes?: readonly number[];
  /**
   * How long a throttled custom robot stays blocked (doc: 10 minutes).
   * @default 600_000
   */
  robotPenaltyMs?: number;
  /**
   * Wait suggested after an app QPS throttle (90018 / 403 QpsLimit) when no Retry-After header is given.
   * @default 1_000
   */
  appThrottleRetryMs?: number;
}

export interface ResolvedErrorMap {
  robotThrottleCodes: ReadonlySet<number>;
  robotPenaltyMs: number;
  appThrottleRetryMs: number;
}

export function resolveErrorMap(o: ErrorMapOptions = {}): ResolvedErrorMap {
  return {
    robotThrottleCodes: new Set(o.robotThrottleCodes ?? [410100, 130101, 660026]),
    robotPenaltyMs: o.robotPenaltyMs ?? 600_000,
    appThrottleRetryMs: o.appThrottleRetryMs ?? 1_000,
  };
}

/** Legacy errcodes that mean "the access token is bad or expired": refresh once and replay. */
const TOKEN_ERRCODES = new Set([40014, 42001, 41001]);
const TOKEN_SUBCODES = new Set(['40014', '42001', '40000', '41001']);
/** Legacy QPS-style throttles (§0.2): retry after a short wait. */
const APP_THROTTLE_ERRCODES = new Set([90018, 90002, 90001, 90003, 90004, 90005, 90006, 90010, 90017, 45009]);
const NOTICE_THROTTLE_ERRCODES = new Set([143103, 143104, 143203, 143204]);

interface Ctx {
  operation: string;
  status: number;
  requestId: string | undefined;
  retryAfterHeader: string | undefined;
  isWebhook: boolean;
}

/** Interprets a legacy (oapi / webhook) answer body whose errcode is non-zero. */
export function legacyError(
  map: ResolvedErrorMap,
  ctx: Ctx,
  errcode: number,
  errmsg: string,
  subCode?: string,
  subMsg?: string,
): DingTalkError {
  const op = ctx.operation;
  const details = { status: ctx.status, errcode, subCode, requestId: ctx.requestId };
  const text = `${op}: DingTalk errcode ${errcode}${subCode ? `/${subCode}` : ''}: ${subMsg || errmsg}`;
  if (errcode === 310000) {
    return new RobotSecurityError(
      securityCheck(errmsg),
      text,
      { status: ctx.status, errcode },
      { operation: op },
    );
  }
  if (ctx.isWebhook && map.robotThrottleCodes.has(errcode)) {
    return new RateLimitedError('robot', map.robotPenaltyMs, text, details, { operation: op });
  }
  if (
    TOKEN_ERRCODES.has(errcode) ||
    (errcode === 88 && subCode !== undefined && TOKEN_SUBCODES.has(subCode))
  ) {
    return new PlatformError('TOKEN_INVALID', text, details, { operation: op, retryable: false });
  }
  if (errcode === 40078) {
    // "temporary auth code does not exist / already used" (§0.3); a code is good once (§13.2).
    return new AuthCodeError(text, details, { operation: op });
  }
  if (errcode === 40001 || errcode === 40089 || errcode === 40096) {
    return new PlatformError('BAD_CREDENTIALS', text, details, { operation: op });
  }
  if (APP_THROTTLE_ERRCODES.has(errcode) || NOTICE_THROTTLE_ERRCODES.has(errcode)) {
    const wait = retryAfterMs(ctx.retryAfterHeader) ?? map.appThrottleRetryMs;
    return new RateLimitedError('app', wait, text, details, { operation: op });
  }
  if (errcode === 90020) {
    return new PlatformError('QUOTA_EXCEEDED', text, details, { operation: op });
  }
  if (errcode === 60011 || (errcode === 88 && subCode === '60011')) {
    return new PlatformError('NO_PERMISSION', text, details, { operation: op });
  }
  if (errcode === 60020) return new PlatformError('IP_NOT_ALLOWED', text, details, { operation: op });
  if (errcode === -1) {
    // "System busy, retry": DingTalk answered that it did not do it.
    return new PlatformError('PLATFORM_BUSY', text, details, { operation: op, retryable: true });
  }
  if (errcode === 300005 || errcode === 400101 || errcode === 300001 || errcode === 400106) {
    return new PlatformError('ROBOT_NOT_FOUND', text, details, { operation: op });
  }
  if (errcode === 400102) return new PlatformError('ROBOT_DISABLED', text, details, { operation: op });
  if (errcode === 400013) return new PlatformError('GROUP_DISSOLVED', text, details, { operation: op });
  if (errcode === 400105) return new PlatformError('UNSUPPORTED_MSGTYPE', text, details, { operation: op });
  if (errcode === 60121 || errcode === 33012 || errcode === 40104 || errcode === 40003 || errcode === 40031) {
    return new PlatformError('USER_NOT_FOUND', text, details, { operation: op });
  }
  if (errcode === 22 || errcode === 404)
    return new PlatformError('UNKNOWN_API', text, details, { operation: op });
  return new PlatformError('PLATFORM_ERROR', text, details, { operation: op });
}

/** Interprets a v1.0 (api host) error answer `{code, message, requestid}` with a non-2xx status. */
export function v1Error(map: ResolvedErrorMap, ctx: Ctx, code: string, message: string): DingTalkError {
  const op = ctx.operation;
  const details = { status: ctx.status, platformCode: code, requestId: ctx.requestId };
  const text = `${op}: DingTalk ${ctx.status} ${code}: ${message}`;
  if (code.startsWith('Forbidden.AccessDenied.Qps') || code.startsWith('Forbidden.AccessDenied.Qpm')) {
    const wait = retryAfterMs(ctx.retryAfterHeader) ?? map.appThrottleRetryMs;
    const scope: RateLimitScope = code.endsWith('ForApi') ? 'app' : 'app';
    return new RateLimitedError(scope, wait, text, details, { operation: op });
  }
  if (code === 'send.too.fast' || code === 'send.byToken.tooFast' || code.startsWith('too.many.')) {
    const wait = retryAfterMs(ctx.retryAfterHeader) ?? map.appThrottleRetryMs;
    return new RateLimitedError('robot', wait, text, details, { operation: op });
  }
  if (code === 'Forbidden.AccessDenied.ApiCountLimitForOrg') {
    return new PlatformError('QUOTA_EXCEEDED', text, details, { operation: op });
  }
  if (code === 'InvalidAuthentication' || code === 'AuthenticationFailed.MissingParameter') {
    return new PlatformError('TOKEN_INVALID', text, details, { operation: op });
  }
  if (code === 'invalidClientIdOrSecret' || code === 'invalid.client' || code === 'unauthorized.client') {
    return new PlatformError('BAD_CREDENTIALS', text, details, { operation: op });
  }
  if (code === 'Forbidden.AccessDenied.AccessTokenPermissionDenied' || code === 'Unauthorized') {
    return new PlatformError('NO_PERMISSION', text, details, { operation: op });
  }
  if (code === 'Forbidden.AccessDenied.IpNotInWhiteList') {
    return new PlatformError('IP_NOT_ALLOWED', text, details, { operation: op });
  }
  // App-robot answers (docs/dingtalk.md §3.3): group and robot state, templates, content checks.
  if (code === 'group.disbanded')
    return new PlatformError('GROUP_DISSOLVED', text, details, { operation: op });
  if (code === 'bot.stopped') return new PlatformError('ROBOT_DISABLED', text, details, { operation: op });
  if (code === 'template.not.existed' || code === 'template.stopped') {
    return new PlatformError('TEMPLATE_UNAVAILABLE', text, details, { operation: op });
  }
  if (code === 'robot.processQueryKey.expired') {
    return new PlatformError('QUERY_KEY_EXPIRED', text, details, { operation: op });
  }
  if (code === 'send.forbidden' || code.startsWith('contain.') || code.startsWith('notAllowed.')) {
    return new PlatformError('CONTENT_REJECTED', text, details, { operation: op });
  }
  if (code === 'invalid.openConversationId') {
    return new PlatformError('INVALID_PARAMETER', text, details, { operation: op });
  }
  if (code.startsWith('invalidParameter.msgParam') || code.startsWith('miss.param')) {
    return new PlatformError('BAD_MSG_PARAM', text, details, { operation: op });
  }
  if (code.startsWith('invalidParameter') || code.startsWith('miss.') || code.endsWith('.paramError')) {
    return new PlatformError('INVALID_PARAMETER', text, details, { operation: op });
  }
  if (code.endsWith('flowControlError')) {
    return new RateLimitedError('app', map.appThrottleRetryMs, text, details, { operation: op });
  }
  if (ctx.status >= 500) {
    // DingTalk answered with its own error body: it reports that the call failed, so a retry is safe.
    return new PlatformError('PLATFORM_BUSY', text, details, { operation: op, retryable: true });
  }
  return new PlatformError('PLATFORM_ERROR', text, details, { operation: op });
}

/** A non-JSON or foreign answer: gateway pages, the per-IP ban page (§0.2), empty bodies. */
export function foreignAnswerError(ctx: Ctx, bodyText: string): DingTalkError {
  const op = ctx.operation;
  const ban = parseIpBan(bodyText);
  if (ban !== undefined) {
    return new RateLimitedError(
      'ip',
      ban,
      `${op}: this IP is temporarily banned by DingTalk`,
      { status: ctx.status, requestId: ctx.requestId },
      { operation: op },
    );
  }
  if (ctx.status === 429) {
    const wait = retryAfterMs(ctx.retryAfterHeader) ?? 1_000;
    return new RateLimitedError('app', wait, `${op}: HTTP 429`, { status: 429 }, { operation: op });
  }
  if (ctx.status >= 500) {
    return new HttpError(ctx.status, bodyText, { operation: op, outcome: 'rejected', retryable: true });
  }
  if (ctx.status >= 200 && ctx.status < 300) {
    // A 2xx that is not DingTalk's JSON: we cannot tell whether the call took effect.
    return new HttpError(ctx.status, bodyText, { operation: op, outcome: 'unknown', retryable: false });
  }
  return new HttpError(ctx.status, bodyText, { operation: op, outcome: 'rejected', retryable: false });
}

function securityCheck(errmsg: string): RobotSecurityCheck {
  const m = errmsg.toLowerCase();
  if (m.includes('keyword')) return 'keyword';
  if (m.includes('timestamp')) return 'timestamp';
  if (m.includes('sign')) return 'sign';
  if (m.includes('ip') && m.includes('whitelist')) return 'ip';
  return 'unknown';
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unparseable. */
function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseIpBan(text: string): number | undefined {
  if (!text.includes('"punish"') && !text.includes('"status":1111')) return undefined;
  try {
    const j = JSON.parse(text) as { status?: unknown; wait?: unknown };
    if (j.status === 1111 || j.status === '1111') {
      const minutes = Number(j.wait);
      return (Number.isFinite(minutes) && minutes > 0 ? minutes : 5) * 60_000;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
