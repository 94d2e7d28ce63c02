/**
 * The one comparison every callback signature goes through. It calls
 * `crypto.timingSafeEqual` through the module object (not a destructured import) so a test can spy on it and
 * prove no verifier compares signatures with `===`.
 */

import nodeCrypto from 'node:crypto';

/**
 * Whether `received` equals `expected`, in time that does not depend on where they first differ.
 *
 * A length difference returns false after a dummy compare: the length of a valid signature is fixed by the
 * algorithm (40 hex chars, 44 base64 chars), so it is public and leaking it costs nothing.
 */
export function safeEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) {
    nodeCrypto.timingSafeEqual(b, b);
    return false;
  }
  return nodeCrypto.timingSafeEqual(a, b);
}
