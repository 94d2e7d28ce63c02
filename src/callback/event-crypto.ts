/**
 * `EventCrypto`: the encrypted HTTP event subscription of docs/dingtalk.md §9b (DingCallbackCrypto), as one
 * instance per subscription. Construction fails closed: a missing or malformed token,
 * AES key or owner key is a `ConfigError` at start-up, never an "accept unverified" mode at run time.
 */

import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { ConfigError, DecryptError, SignatureError, ValidationError } from '../core/errors.js';
import { type CallbackBody, type CallbackQuery, readEncrypt, readSignedParams } from './callback-params.js';
import {
  decodeMessage,
  deriveEnvelopeKey,
  type EnvelopeKey,
  envelopeSignature,
  openEnvelope,
  RANDOM_BYTES,
  sealEnvelope,
} from './envelope.js';
import { assertFresh, parseTimestampMs } from './timestamp-window.js';
import { safeEqual } from './timing-safe.js';

/**
 * @example
 * const crypto = new EventCrypto({
 *   token: process.env.DING_CALLBACK_TOKEN!,
 *   aesKey: process.env.DING_CALLBACK_AES_KEY!,
 *   ownerKey: process.env.DING_APP_KEY!, // appKey for internal apps, suiteKey for ISV apps (§9b step 6)
 * });
 */
export interface EventCryptoOptions {
  /** The callback token from the developer console (printable ASCII, no spaces; the console issues 3–32 alphanumerics). */
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  /**
   * Who the envelope is addressed to: the app's Client ID (appKey) for an internal app's event subscription,
   * the suiteKey for third-party apps, the corpId only for the legacy `register_call_back` API (§9b step 6).
   */
  ownerKey: string;
  /**
   * How far a push's `timestamp` may be from now, in ms, before `open` rejects it as `stale_timestamp`
   * (replay protection). Seconds and milliseconds timestamps are both understood.
   * `false` turns the check off: the timestamp is then an opaque signed string, as in the official libraries.
   * @default 3_600_000 (one hour, the window DingTalk itself applies to signed robot calls, §2.3 and §9a)
   */
  timestampWindowMs?: number | false;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Source of the random prefix and reply nonces; injectable for deterministic tests. @default crypto.randomBytes */
  randomBytes?: (size: number) => Buffer;
}

/** A decrypted event: DingTalk's JSON, e.g. `{"EventType":"user_add_org", ...}`. */
export interface CallbackEvent {
  EventType?: string;
  [field: string]: unknown;
}

export interface OpenedEvent {
  event: CallbackEvent;
  /** `event.EventType` when it is a string. */
  eventType: string | undefined;
  /** The push's `timestamp` and `nonce`, exactly as received. */
  timestamp: string;
  nonce: string;
}

/** The JSON body DingTalk requires in answer to every push, including `check_url` (§9b). */
export interface ReplyEnvelope {
  msg_signature: string;
  /** Camel case here, unlike the push's query parameter (§9b). */
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

export interface ReplyOptions {
  /** 16 random prefix bytes. @default fresh random */
  random?: Buffer;
  /** @default 16 fresh random alphanumerics (the Java library insists on 16) */
  nonce?: string;
  /** @default String(now()) */
  timestamp?: string;
}

const DEFAULT_WINDOW_MS = 3_600_000;
const PRINTABLE = /^[\x21-\x7e]{1,128}$/;
// §9b: exactly 43 characters; the console issues [A-Za-z0-9], `+` and `/` are accepted as they decode alike.
const AES_KEY = /^[A-Za-z0-9+/]{43}$/;
const NONCE = /^[\x21-\x7e]{1,128}$/;
const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class EventCrypto {
  readonly #token: string;
  readonly #key: EnvelopeKey;
  readonly #owner: Buffer;
  readonly #windowMs: number | false;
  readonly #now: () => number;
  readonly #random: (size: number) => Buffer;

  constructor(options: EventCryptoOptions) {
    const o = (options ?? {}) as Partial<EventCryptoOptions>;
    // Messages name the field and the expected shape, never the value (it is a secret).
    if (typeof o.token !== 'string' || !PRINTABLE.test(o.token)) {
      throw new ConfigError('EventCrypto: token is missing or malformed (1-128 printable ASCII, no spaces)');
    }
    if (typeof o.aesKey !== 'string' || !AES_KEY.test(o.aesKey)) {
      throw new ConfigError('EventCrypto: aesKey is missing or malformed (43 characters, [A-Za-z0-9])');
    }
    if (typeof o.ownerKey !== 'string' || !PRINTABLE.test(o.ownerKey)) {
      throw new ConfigError('EventCrypto: ownerKey is missing or malformed (appKey, suiteKey or corpId)');
    }
    const w = o.timestampWindowMs ?? DEFAULT_WINDOW_MS;
    if (w !== false && !(typeof w === 'number' && Number.isFinite(w) && w > 0)) {
      throw new ConfigError('EventCrypto: timestampWindowMs must be a positive number of ms or false');
    }
    this.#token = o.token;
    this.#key = deriveEnvelopeKey(o.aesKey);
    if (this.#key.key.length !== 32) throw new ConfigError('EventCrypto: aesKey does not decode to 32 bytes');
    this.#owner = Buffer.from(o.ownerKey, 'utf8');
    this.#windowMs = w;
    this.#now = o.now ?? Date.now;
    this.#random = o.randomBytes ?? nodeRandomBytes;
  }

  /** The freshness window `open` applies, in ms, or `false` when the check is off. */
  get timestampWindowMs(): number | false {
    return this.#windowMs;
  }

  /** Encrypts `plaintext` into a single-line base64 `encrypt` value. */
  encrypt(plaintext: string, opts: { random?: Buffer } = {}): string {
    if (typeof plaintext !== 'string') throw new ValidationError('plaintext must be a string', 'plaintext');
    // A lone surrogate has no UTF-8 form; encoding would silently turn it into U+FFFD.
    if (LONE_SURROGATE.test(plaintext)) {
      throw new ValidationError('plaintext contains a lone surrogate', 'plaintext');
    }
    const random = opts.random ?? this.#random(RANDOM_BYTES);
    if (!Buffer.isBuffer(random) || random.length !== RANDOM_BYTES) {
      throw new ValidationError(`random must be ${RANDOM_BYTES} bytes`, 'random');
    }
    return sealEnvelope(this.#key, random, Buffer.from(plaintext, 'utf8'), this.#owner);
  }

  /**
   * Decrypts an `encrypt` value. Does NOT check the signature: use `open` for received pushes.
   * @throws DecryptError with a reason; never returns a partial message.
   */
  decrypt(encrypt: string): string {
    if (typeof encrypt !== 'string') throw new DecryptError('bad_base64', 'encrypt field is not a string');
    return decodeMessage(openEnvelope(this.#key, encrypt, this.#owner));
  }

  /** The `msg_signature` of the four exact strings (§9b step 2). */
  sign(timestamp: string, nonce: string, encrypt: string): string {
    return envelopeSignature(this.#token, timestamp, nonce, encrypt);
  }

  /** Whether `signature` signs these exact strings. Timing-safe; case-sensitive (DingTalk sends lower-case hex). */
  verify(signature: string, timestamp: string, nonce: string, encrypt: string): boolean {
    if (typeof signature !== 'string') return false;
    return safeEqual(signature, this.sign(timestamp, nonce, encrypt));
  }

  /**
   * Verifies, checks freshness, decrypts and parses one received push.
   *
   * Pass the query exactly as received (`msg_signature`/`signature`, `timestamp`/`timeStamp`, `nonce`) and the
   * body (raw JSON text or bytes, or an object a framework already parsed). The signature is checked over the
   * received strings before anything is decrypted.
   * @throws SignatureError (missing, malformed, mismatch, bad_timestamp, stale_timestamp, bad_nonce)
   * @throws DecryptError (bad_base64, bad_block_size, bad_padding, bad_length, owner_key_mismatch, bad_plaintext)
   */
  open(query: CallbackQuery, body: CallbackBody): OpenedEvent {
    const { signature, timestamp, nonce } = readSignedParams(query);
    const encrypt = readEncrypt(body);
    if (!this.verify(signature, timestamp, nonce, encrypt)) {
      throw new SignatureError('mismatch', 'event signature does not match');
    }
    if (this.#windowMs !== false)
      assertFresh(parseTimestampMs(timestamp, 'auto'), this.#now(), this.#windowMs);
    if (!NONCE.test(nonce)) throw new SignatureError('bad_nonce', 'nonce is malformed');
    const event = parseEvent(this.decrypt(encrypt));
    const eventType = typeof event.EventType === 'string' ? event.EventType : undefined;
    return { event, eventType, timestamp, nonce };
  }

  /** The answer to a push: `message` (default `success`) encrypted and signed with a fresh random and nonce. */
  reply(message = 'success', opts: ReplyOptions = {}): ReplyEnvelope {
    const timeStamp = opts.timestamp ?? String(this.#now());
    const nonce = opts.nonce ?? this.#nonce();
    const encrypt = this.encrypt(message, opts.random ? { random: opts.random } : {});
    return { msg_signature: this.sign(timeStamp, nonce, encrypt), timeStamp, nonce, encrypt };
  }

  #nonce(): string {
    let out = '';
    while (out.length < 16) {
      for (const byte of this.#random(32)) {
        // Rejection sampling keeps the 62 characters equally likely (248 = 4 × 62).
        if (byte < 248 && out.length < 16) out += NONCE_ALPHABET[byte % 62];
      }
    }
    return out;
  }
}

function parseEvent(text: string): CallbackEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DecryptError('bad_plaintext', 'decrypted message is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DecryptError('bad_plaintext', 'decrypted message is not a JSON object');
  }
  return value as CallbackEvent;
}
