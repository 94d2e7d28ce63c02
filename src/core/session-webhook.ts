/**
 * Which session-webhook URLs a reply may be posted to ("no steering").
 *
 * A bot message names its own reply URL (`sessionWebhook`, docs/dingtalk.md §9a and §S12.1), and
 * over HTTP that body is not covered by the signature (§9a signs only the timestamp). Posting to whatever it names
 * lets a forged body point the reply, with the conversation's text, at any host the receiver can reach
 * (`127.0.0.1`, a metadata address, an internal service). So a reply goes only to an allowed origin: DingTalk's own
 * hosts, plus the origins a client was explicitly pointed at (the emulator), and only to the session path.
 */

import { ConfigError, DingTalkError, type DingTalkErrorOptions } from './errors.js';

/** Where DingTalk's session webhooks live: `https://oapi.dingtalk.com/robot/sendBySession?session=…` (§9a). */
export const DINGTALK_SESSION_WEBHOOK_ORIGINS: readonly string[] = [
  'https://oapi.dingtalk.com',
  'https://api.dingtalk.com',
];

const SESSION_WEBHOOK_PATH = '/robot/sendBySession';

export type SessionWebhookReason = 'malformed' | 'origin_not_allowed' | 'path_not_allowed' | 'credentials';

/** A session webhook outside the allowlist. Raised before any I/O: nothing was sent. */
export class SessionWebhookError extends DingTalkError {
  override readonly name: string = 'SessionWebhookError';
  readonly reason: SessionWebhookReason;
  constructor(reason: SessionWebhookReason, message: string, options: DingTalkErrorOptions = {}) {
    super('SESSION_WEBHOOK_NOT_ALLOWED', message, { outcome: 'not_sent', retryable: false, ...options });
    this.reason = reason;
  }
}

export function isSessionWebhookError(e: unknown): e is SessionWebhookError {
  return e instanceof SessionWebhookError;
}

/**
 * DingTalk's origins plus `extra` (full URLs or origins, e.g. the emulator's base URL), normalised to origins.
 * @throws ConfigError for an entry that is not an http(s) URL.
 */
export function sessionWebhookOrigins(extra: Iterable<string | undefined> = []): string[] {
  const out = new Set(DINGTALK_SESSION_WEBHOOK_ORIGINS);
  for (const entry of extra) {
    if (entry === undefined) continue;
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError('sessionWebhookOrigins: each entry must be an http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError('sessionWebhookOrigins: each entry must be an http(s) URL');
    }
    out.add(url.origin);
  }
  return [...out];
}

/**
 * The session webhook as a URL, if it may be posted to: an allowed origin (scheme, host and port exactly), no
 * user-info, the session path. The message names the origin only; the URL's `session` is a credential.
 * @throws SessionWebhookError
 */
export function checkSessionWebhook(value: unknown, origins: readonly string[]): URL {
  if (typeof value !== 'string' || value === '') {
    throw new SessionWebhookError('malformed', 'session webhook is not a URL');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SessionWebhookError('malformed', 'session webhook is not a URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new SessionWebhookError('credentials', 'session webhook carries user-info');
  }
  if (!origins.includes(url.origin)) {
    throw new SessionWebhookError(
      'origin_not_allowed',
      `session webhook origin ${url.origin} is not allowed`,
    );
  }
  if (url.pathname !== SESSION_WEBHOOK_PATH) {
    throw new SessionWebhookError('path_not_allowed', `session webhook path is not ${SESSION_WEBHOOK_PATH}`);
  }
  return url;
}
