/**
 * Custom-robot signing (docs/dingtalk.md §2.3): HMAC-SHA256 keyed with the whole secret (including its `SEC` prefix)
 * over `timestamp + "\n" + secret`, Base64 with padding. The timestamp is epoch milliseconds and DingTalk accepts
 * it for one hour. URL-encoding happens where the query string is built (`encodeURIComponent` in core/encode.ts),
 * so the value returned here is the raw Base64 text.
 */

import { createHmac } from 'node:crypto';

export interface WebhookSignature {
  timestamp: string;
  /** Base64 signature, not yet URL-encoded. */
  sign: string;
}

/**
 * Signs a webhook call.
 * @example
 * signWebhook('SEC0123…abcd', 1700000000000).sign // '8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw='
 */
export function signWebhook(secret: string, timestampMs: number): WebhookSignature {
  const timestamp = String(Math.trunc(timestampMs));
  const sign = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestamp}\n${secret}`, 'utf8')
    .digest('base64');
  return { timestamp, sign };
}
