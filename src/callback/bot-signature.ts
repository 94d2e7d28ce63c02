/**
 * Robot message callbacks over HTTP (docs/dingtalk.md §9a): headers `timestamp` (epoch ms) and
 * `sign` = Base64(HMAC-SHA256(key = appSecret, message = timestamp + "\n" + appSecret)), no URL-encoding,
 * rejected when |now − timestamp| > 1 hour.
 */

import {
  checkHeaderSignature,
  type HeaderValue,
  hmacBase64,
  type VerifyWindowOptions,
} from './header-signature.js';

/** The `sign` header DingTalk sends with a robot callback at `timestamp` (epoch ms). */
export function signBotCallback(appSecret: string, timestamp: string | number): string {
  return hmacBase64(appSecret, `${timestamp}\n${appSecret}`);
}

/** The two signed headers of a robot callback (Node's lower-case names). */
export interface BotCallbackHeaders {
  timestamp?: HeaderValue;
  sign?: HeaderValue;
}

/**
 * Verifies a robot callback's headers against the app's Client Secret.
 * @throws SignatureError with reason `missing_key`, `missing`, `malformed`, `bad_timestamp`,
 *   `stale_timestamp` or `mismatch`.
 */
export function verifyBotCallback(
  headers: BotCallbackHeaders,
  appSecret: string,
  options: VerifyWindowOptions = {},
): void {
  checkHeaderSignature({
    kind: 'bot callback',
    timestamp: headers.timestamp,
    signature: headers.sign,
    secret: appSecret,
    message: (ts) => `${ts}\n${appSecret}`,
    options,
  });
}
