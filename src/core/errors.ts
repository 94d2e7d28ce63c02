/**
 * The dingkit error family. Every failure a caller can see is one of these classes, with a stable string `code`
 * and, for sends, an `outcome` that says whether DingTalk may have acted on the request:
 *
 * - `not_sent`: the request provably never reached DingTalk (connect refused, validation, limiter). Safe to retry.
 * - `rejected`: DingTalk answered and said no (errcode / HTTP 4xx). Retry only if the code is retryable.
 * - `unknown`: the request may have been applied (timeout or reset after the bytes were written, 5xx from a
 *   gateway). A non-idempotent send in this state is never retried blindly.
 *
 * Messages are redacted at construction: a secret never reaches `message`, `cause` text or `toJSON()`.
 */

import { redactByName } from './redact.js';

export type Outcome = 'not_sent' | 'unknown' | 'rejected';

export interface DingTalkErrorOptions {
  outcome?: Outcome;
  cause?: unknown;
  /** Stable name of the operation, e.g. `robot.groupSend`. */
  operation?: string;
  /** Whether an automatic retry is allowed for this failure. */
  retryable?: boolean;
}

export class DingTalkError extends Error {
  override readonly name: string = 'DingTalkError';
  /** Stable, documented code; never the raw DingTalk text. */
  readonly code: string;
  readonly outcome: Outcome;
  readonly operation: string | undefined;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: DingTalkErrorOptions = {}) {
    super(redactByName(message));
    this.code = code;
    this.outcome = options.outcome ?? 'rejected';
    this.operation = options.operation;
    this.retryable = options.retryable ?? false;
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: sanitizeCause(options.cause), enumerable: false });
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      outcome: this.outcome,
      operation: this.operation,
      retryable: this.retryable,
    };
  }
}

/** DingTalk answered with an error: legacy `errcode` (HTTP 200) or v1.0 `code` (HTTP 4xx/5xx). */
export class PlatformError extends DingTalkError {
  override readonly name: string = 'PlatformError';
  /** Legacy numeric errcode (0 never appears here), or undefined for v1.0 answers. */
  readonly errcode: number | undefined;
  /** Legacy `sub_code` (topapi wraps auth failures as errcode 88 + sub_code). */
  readonly subCode: string | undefined;
  /** v1.0 string code such as `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`. */
  readonly platformCode: string | undefined;
  readonly status: number;
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: {
      status: number;
      errcode?: number | undefined;
      subCode?: string | undefined;
      platformCode?: string | undefined;
      requestId?: string | undefined;
    },
    options: DingTalkErrorOptions = {},
  ) {
    super(code, message, options);
    this.status = details.status;
    this.errcode = details.errcode;
    this.subCode = details.subCode;
    this.platformCode = details.platformCode;
    this.requestId = details.requestId;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      errcode: this.errcode,
      subCode: this.subCode,
      platformCode: this.platformCode,
      requestId: this.requestId,
    };
  }
}

/** Which security check of a custom robot failed (errcode 310000 carries it only in `errmsg`). */
export type RobotSecurityCheck = 'keyword' | 'sign' | 'timestamp' | 'ip' | 'unknown';

/** A custom robot refused a message on its security settings (errcode 310000). Never retryable. */
export class RobotSecurityError extends PlatformError {
  override readonly name: string = 'RobotSecurityError';
  readonly check: RobotSecurityCheck;

  constructor(
    check: RobotSecurityCheck,
    message: string,
    details: { status: number; errcode: number },
    options: DingTalkErrorOptions = {},
  ) {
    super('ROBOT_SECURITY', message, details, { ...options, outcome: 'rejected', retryable: false });
    this.check = check;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), check: this.check };
  }
}

/**
 * A one-time sign-in code was refused: unknown, already used, expired, or issued to another app
 * (docs/dingtalk.md §13.2 免登 code, §13.3 OAuth code). Never retryable: a code is good once, so the only way on is
 * a new code from the person's client.
 */
export class AuthCodeError extends PlatformError {
  override readonly name: string = 'AuthCodeError';

  constructor(
    message: string,
    details: ConstructorParameters<typeof PlatformError>[2],
    options: DingTalkErrorOptions = {},
  ) {
    super('AUTH_CODE_INVALID', message, details, { ...options, outcome: 'rejected', retryable: false });
  }
}

/** A non-2xx HTTP answer that is not a DingTalk error body (HTML error page, proxy error...). */
export class HttpError extends DingTalkError {
  override readonly name: string = 'HttpError';
  readonly status: number;
  /** The first bytes of the body, redacted. */
  readonly body: string;

  constructor(status: number, body: string, options: DingTalkErrorOptions = {}) {
    const snippet = redactByName(body.slice(0, 512));
    super('HTTP_ERROR', `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, options);
    this.status = status;
    this.body = snippet;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), status: this.status };
  }
}

export type RateLimitScope = 'robot' | 'app' | 'ip' | 'org' | 'local';

/** DingTalk throttled the call, or the local limiter refused to send it. */
export class RateLimitedError extends PlatformError {
  override readonly name: string = 'RateLimitedError';
  readonly scope: RateLimitScope;
  /** How long to wait before the next attempt on the same key. */
  readonly retryAfterMs: number;

  constructor(
    scope: RateLimitScope,
    retryAfterMs: number,
    message: string,
    details: {
      status: number;
      errcode?: number | undefined;
      platformCode?: string | undefined;
      requestId?: string | undefined;
    },
    options: DingTalkErrorOptions = {},
  ) {
    super('RATE_LIMITED', message, details, { retryable: true, ...options });
    this.scope = scope;
    this.retryAfterMs = retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), scope: this.scope, retryAfterMs: this.retryAfterMs };
  }
}

/** The request never reached DingTalk: DNS, connect refused, reset before the request was written. */
export class NetworkError extends DingTalkError {
  override readonly name: string = 'NetworkError';
  constructor(message: string, options: DingTalkErrorOptions = {}) {
    super('NETWORK', message, { outcome: 'not_sent', retryable: true, ...options });
  }
}

/** No answer in time, or the connection died after the request was written: DingTalk may have acted on it. */
export class TimeoutError extends DingTalkError {
  override readonly name: string = 'TimeoutError';
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: DingTalkErrorOptions = {}) {
    super('TIMEOUT', message, { outcome: 'unknown', retryable: false, ...options });
    this.timeoutMs = timeoutMs;
  }
}

/** An access token could not be obtained (bad credentials, token endpoint failure). */
export class TokenError extends DingTalkError {
  override readonly name: string = 'TokenError';
  constructor(code: string, message: string, options: DingTalkErrorOptions = {}) {
    super(code, message, { outcome: 'not_sent', ...options });
  }
}

/** Bad input caught before any I/O. Nothing was sent. */
export class ValidationError extends DingTalkError {
  override readonly name: string = 'ValidationError';
  /** Dotted path of the offending field, when there is one. */
  readonly field: string | undefined;
  /**
   * A stable reason for refusals a caller may want to tell apart (the HTTP API answers it as the error code),
   * e.g. `due_in_past`; undefined for plain bad input.
   */
  readonly reason: string | undefined;
  constructor(message: string, field?: string, options: DingTalkErrorOptions & { reason?: string } = {}) {
    const { reason, ...rest } = options;
    super('VALIDATION', field ? `${field}: ${message}` : message, {
      outcome: 'not_sent',
      retryable: false,
      ...rest,
    });
    this.field = field;
    this.reason = reason;
  }
}

export type SignatureReason =
  | 'missing'
  | 'malformed'
  | 'mismatch'
  | 'stale_timestamp'
  | 'bad_timestamp'
  | 'missing_key'
  | 'bad_nonce';

/** A signature did not verify (bot callback, card callback, event envelope). */
export class SignatureError extends DingTalkError {
  override readonly name: string = 'SignatureError';
  readonly reason: SignatureReason;
  constructor(reason: SignatureReason, message: string, options: DingTalkErrorOptions = {}) {
    super(`SIGNATURE_${reason.toUpperCase()}`, message, {
      outcome: 'rejected',
      retryable: false,
      ...options,
    });
    this.reason = reason;
  }
}

export type DecryptReason =
  | 'bad_base64'
  | 'bad_block_size'
  | 'bad_padding'
  | 'bad_length'
  | 'owner_key_mismatch'
  | 'bad_aes_key'
  | 'cipher_failure'
  | 'bad_plaintext';

/** An encrypted callback envelope did not decrypt to a well-formed message for this owner. */
export class DecryptError extends DingTalkError {
  override readonly name: string = 'DecryptError';
  readonly reason: DecryptReason;
  constructor(reason: DecryptReason, message: string, options: DingTalkErrorOptions = {}) {
    super(`DECRYPT_${reason.toUpperCase()}`, message, { outcome: 'rejected', retryable: false, ...options });
    this.reason = reason;
  }
}

/** A configuration problem found at start-up (missing key, bad URL). Fail closed. */
export class ConfigError extends DingTalkError {
  override readonly name: string = 'ConfigError';
  constructor(message: string, options: DingTalkErrorOptions = {}) {
    super('CONFIG', message, { outcome: 'not_sent', retryable: false, ...options });
  }
}

export function isDingTalkError(e: unknown): e is DingTalkError {
  return e instanceof DingTalkError;
}
export function isPlatformError(e: unknown): e is PlatformError {
  return e instanceof PlatformError;
}
export function isRateLimitedError(e: unknown): e is RateLimitedError {
  return e instanceof RateLimitedError;
}
export function isAuthCodeError(e: unknown): e is AuthCodeError {
  return e instanceof AuthCodeError;
}

function sanitizeCause(cause: unknown): unknown {
  if (cause instanceof DingTalkError) return cause;
  if (cause instanceof Error) {
    const safe = new Error(redactByName(cause.message));
    safe.name = cause.name;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') (safe as Error & { code?: string }).code = code;
    return safe;
  }
  return typeof cause === 'string' ? redactByName(cause) : undefined;
}
