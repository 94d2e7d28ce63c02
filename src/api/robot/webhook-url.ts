/**
 * Reading a custom robot's webhook (docs/dingtalk.md §2.1): the URL DingTalk shows,
 * `https://oapi.dingtalk.com/robot/send?access_token=<token>`, or the token alone. The token is the robot's only
 * credential, so a refusal names what is wrong and never the value.
 */

import { DEFAULT_OAPI_BASE } from '../../core/client-core.js';
import { ValidationError } from '../../core/errors.js';

export interface WebhookTarget {
  /** The robot's `access_token` (a secret: register it with a redactor before logging anything near it). */
  accessToken: string;
  /**
   * The given URL without `access_token`, `timestamp` and `sign` (a stale signature is replaced per request,
   * §2.3); undefined when a bare token was given.
   */
  url: URL | undefined;
  /**
   * Whether the webhook is DingTalk's own `/robot/send` (or a bare token): such a robot follows the client's
   * `oapiBase`, so pointing a client at the emulator points its robots there too.
   */
  onOapi: boolean;
}

/** DingTalk's tokens are 64 hex characters; anything URL-safe of a sane length is let through (emulators, tests). */
const BARE_TOKEN = /^[A-Za-z0-9_-]{8,256}$/;

/**
 * Checks a bare robot token (the `access_token` value alone).
 * @throws ValidationError naming `field`, never echoing the value
 */
export function checkAccessToken(token: unknown, field = 'accessToken', op = 'webhook'): string {
  if (typeof token !== 'string' || !BARE_TOKEN.test(token)) {
    throw new ValidationError(
      'must be the robot token from the webhook URL (8-256 of A-Z a-z 0-9 _ -)',
      field,
      {
        operation: op,
      },
    );
  }
  return token;
}

/**
 * Parses a webhook URL, or a bare token, into the robot's token and where to send.
 * @throws ValidationError (field `webhook`) for anything else; the message never contains the token
 * @example
 * parseWebhookUrl('https://oapi.dingtalk.com/robot/send?access_token=ab12…').accessToken // 'ab12…'
 */
export function parseWebhookUrl(webhook: unknown, op = 'webhook'): WebhookTarget {
  if (typeof webhook !== 'string' || webhook === '') {
    throw new ValidationError('is required (the robot webhook URL or its access token)', 'webhook', {
      operation: op,
    });
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(webhook)) {
    if (!BARE_TOKEN.test(webhook)) {
      throw new ValidationError('is not a URL with access_token=… nor a bare robot token', 'webhook', {
        operation: op,
      });
    }
    return { accessToken: webhook, url: undefined, onOapi: true };
  }
  let url: URL;
  try {
    url = new URL(webhook);
  } catch {
    throw new ValidationError('is not a URL with access_token=… nor a bare robot token', 'webhook', {
      operation: op,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError('must be an http(s) URL', 'webhook', { operation: op });
  }
  const accessToken = url.searchParams.get('access_token');
  if (!accessToken) throw new ValidationError('URL has no access_token', 'webhook', { operation: op });
  for (const k of ['access_token', 'timestamp', 'sign']) url.searchParams.delete(k);
  return {
    accessToken,
    url,
    onOapi: url.origin === DEFAULT_OAPI_BASE && url.pathname === '/robot/send',
  };
}
