/**
 * Interactive-card HTTP callbacks (docs/dingtalk.md §10): when an apiSecret was registered, DingTalk sends
 * `x-ddpaas-signature-timestamp` and `x-ddpaas-signature` = Base64(HMAC-SHA256(key = apiSecret,
 * message = timestamp string)). The docs state no freshness window; the one-hour window of §9a is applied by
 * default and is configurable.
 */

import {
  checkHeaderSignature,
  type HeaderValue,
  hmacBase64,
  type VerifyWindowOptions,
} from './header-signature.js';

export const CARD_TIMESTAMP_HEADER = 'x-ddpaas-signature-timestamp';
export const CARD_SIGNATURE_HEADER = 'x-ddpaas-signature';

/** The `x-ddpaas-signature` header value for `timestamp` (epoch ms). */
export function signCardCallback(apiSecret: string, timestamp: string | number): string {
  return hmacBase64(apiSecret, String(timestamp));
}

export interface CardCallbackHeaders {
  timestamp?: HeaderValue;
  signature?: HeaderValue;
}

/**
 * Verifies a card callback's signature headers against the registered apiSecret.
 * @throws SignatureError with reason `missing_key`, `missing`, `malformed`, `bad_timestamp`,
 *   `stale_timestamp` or `mismatch`.
 */
export function verifyCardCallback(
  headers: CardCallbackHeaders,
  apiSecret: string,
  options: VerifyWindowOptions = {},
): void {
  checkHeaderSignature({
    kind: 'card callback',
    timestamp: headers.timestamp,
    signature: headers.signature,
    secret: apiSecret,
    message: (ts) => ts,
    options,
  });
}
