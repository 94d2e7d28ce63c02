/**
 * The DingCallbackCrypto envelope as pure functions (docs/dingtalk.md §9b):
 *
 *   plaintext = random(16) ‖ uint32be(byteLength(msg)) ‖ msg (UTF-8) ‖ ownerKey (UTF-8) ‖ PKCS#7 pad to 32
 *   encrypt   = base64(AES-256-CBC(key = base64(aesKey + "="), iv = key[0..16), no library padding))
 *   signature = sha1_hex(sorted([token, timestamp, nonce, encrypt]).join(""))
 *
 * Decryption checks every field and fails with a typed `DecryptError`; it never hands back a partly decoded
 * message, and it zeroes its plaintext buffer before returning or throwing.
 */

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { DecryptError } from '../core/errors.js';

/** Padding block of the envelope: 32 bytes, not AES's 16 (§9b step 3). */
const PAD_BLOCK = 32;
/** Bytes of random prefix before the length field. */
export const RANDOM_BYTES = 16;
const HEADER_BYTES = RANDOM_BYTES + 4;

// Canonical base64 (standard alphabet, `=` padding, no whitespace). Node's decoder silently skips junk, so the
// shape is checked first. No nested quantifiers: linear time on any input.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The 32-byte AES key (and its first 16 bytes as IV) of a 43-character EncodingAESKey. */
export interface EnvelopeKey {
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** Derives the AES key; the caller has already checked the 43-character shape. */
export function deriveEnvelopeKey(encodingAesKey: string): EnvelopeKey {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  return { key, iv: key.subarray(0, 16) };
}

/** sha1 hex of the lexicographically sorted concatenation of the four exact strings (§9b step 2). */
export function envelopeSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  const parts = [token, timestamp, nonce, encrypt].sort();
  return createHash('sha1').update(parts.join(''), 'utf8').digest('hex');
}

/** Encrypts one message. `random` must be 16 bytes; `message` and `owner` are UTF-8 bytes. */
export function sealEnvelope(k: EnvelopeKey, random: Buffer, message: Buffer, owner: Buffer): string {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length, 0);
  const unpadded = HEADER_BYTES + message.length + owner.length;
  // Always 1..32 bytes of padding: a full block when already aligned (§9b step 3).
  const pad = PAD_BLOCK - (unpadded % PAD_BLOCK);
  const plain = Buffer.concat([random, length, message, owner, Buffer.alloc(pad, pad)]);
  try {
    const cipher = createCipheriv('aes-256-cbc', k.key, k.iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  } finally {
    plain.fill(0);
  }
}

/**
 * Decrypts an `encrypt` field and returns the message bytes (a fresh copy). Every failure is a `DecryptError`
 * whose message names the check, never any decrypted byte.
 */
export function openEnvelope(k: EnvelopeKey, encrypt: string, owner: Buffer): Buffer {
  if (!BASE64.test(encrypt)) throw new DecryptError('bad_base64', 'encrypt field is not canonical base64');
  const cipherBytes = Buffer.from(encrypt, 'base64');
  if (cipherBytes.length === 0 || cipherBytes.length % PAD_BLOCK !== 0) {
    throw new DecryptError('bad_block_size', `ciphertext is not a whole number of ${PAD_BLOCK}-byte blocks`);
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', k.key, k.iv);
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
  } catch {
    throw new DecryptError('cipher_failure', 'AES decryption failed');
  }
  try {
    return extractMessage(plain, owner);
  } finally {
    plain.fill(0);
  }
}

function extractMessage(plain: Buffer, owner: Buffer): Buffer {
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > PAD_BLOCK) throw new DecryptError('bad_padding', 'padding value out of range');
  let consistent = true;
  for (let i = plain.length - pad; i < plain.length; i++) consistent = consistent && plain[i] === pad;
  if (!consistent) throw new DecryptError('bad_padding', 'padding bytes are inconsistent');
  const end = plain.length - pad;
  if (end < HEADER_BYTES) throw new DecryptError('bad_length', 'plaintext shorter than its header');
  const length = plain.readUInt32BE(RANDOM_BYTES);
  if (length > end - HEADER_BYTES) throw new DecryptError('bad_length', 'length field exceeds the plaintext');
  const ownerStart = HEADER_BYTES + length;
  if (!plain.subarray(ownerStart, end).equals(owner)) {
    throw new DecryptError('owner_key_mismatch', 'envelope is addressed to another owner key');
  }
  return Buffer.from(plain.subarray(HEADER_BYTES, ownerStart));
}

/** Decodes message bytes as strict UTF-8 (invalid sequences are rejected, not replaced). */
export function decodeMessage(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new DecryptError('bad_plaintext', 'message is not valid UTF-8');
  } finally {
    bytes.fill(0);
  }
}
