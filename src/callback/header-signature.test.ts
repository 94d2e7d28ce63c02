import nodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import { ConfigError, SignatureError } from '../core/errors.js';
import { signBotCallback, verifyBotCallback } from './bot-signature.js';
import { signCardCallback, verifyCardCallback } from './card-signature.js';
import type { HeaderValue, VerifyWindowOptions } from './header-signature.js';

const APP_SECRET = 'appSecret-For-Test-0123456789';
const CARD_SECRET = 'cardApiSecret123';
const TS = 1_700_000_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});

type Verify = (ts: HeaderValue, sig: HeaderValue, secret: string, opts?: VerifyWindowOptions) => void;

const kinds: Array<{
  name: string;
  secret: string;
  sign: (s: string, t: string | number) => string;
  verify: Verify;
}> = [
  {
    name: 'bot callback (docs/dingtalk.md §9a)',
    secret: APP_SECRET,
    sign: signBotCallback,
    verify: (timestamp, sign, secret, opts) => verifyBotCallback({ timestamp, sign }, secret, opts),
  },
  {
    name: 'card callback (§10)',
    secret: CARD_SECRET,
    sign: signCardCallback,
    verify: (timestamp, signature, secret, opts) =>
      verifyCardCallback({ timestamp, signature }, secret, opts),
  },
];

function reason(fn: () => void): string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(SignatureError);
    return (e as SignatureError).reason;
  }
}

for (const k of kinds) {
  describe(k.name, () => {
    const good = k.sign(k.secret, TS);
    const at = (now: number, windowMs?: number) =>
      reason(() =>
        k.verify(String(TS), good, k.secret, { now, ...(windowMs === undefined ? {} : { windowMs }) }),
      );

    it('accepts its own signature at the same instant and with a clock function', () => {
      expect(at(TS)).toBe('accepted');
      expect(reason(() => k.verify(String(TS), good, k.secret, { now: () => TS }))).toBe('accepted');
      expect(reason(() => k.verify([String(TS)], [good], k.secret, { now: TS }))).toBe('accepted');
    });

    it('window is inclusive at one hour by default, in both directions', () => {
      expect(at(TS + 3_600_000)).toBe('accepted');
      expect(at(TS - 3_600_000)).toBe('accepted');
      expect(at(TS + 3_600_001)).toBe('stale_timestamp');
      expect(at(TS - 3_600_001)).toBe('stale_timestamp');
    });

    it('a configured window is honoured at ±1 s around its edge', () => {
      expect(at(TS + 59_000, 60_000)).toBe('accepted');
      expect(at(TS + 61_000, 60_000)).toBe('stale_timestamp');
      expect(at(TS - 61_000, 60_000)).toBe('stale_timestamp');
    });

    it('typed reasons for every kind of bad input', () => {
      const v = (ts: HeaderValue, sig: HeaderValue, secret = k.secret) =>
        reason(() => k.verify(ts, sig, secret, { now: TS }));
      expect(v(String(TS), good, '')).toBe('missing_key');
      expect(v(undefined, good)).toBe('missing');
      expect(v(String(TS), undefined)).toBe('missing');
      expect(v('', good)).toBe('missing');
      expect(v(String(TS), null)).toBe('missing');
      expect(v([], good)).toBe('missing');
      expect(v([String(TS), String(TS)], good)).toBe('malformed');
      expect(v(String(TS), [good, good])).toBe('malformed');
      expect(v(`${TS}.0`, good)).toBe('bad_timestamp');
      expect(v(`${TS}, ${TS}`, good)).toBe('bad_timestamp');
      expect(v('-1', good)).toBe('bad_timestamp');
      expect(v(String(TS), k.sign(`${k.secret}x`, TS))).toBe('mismatch');
      expect(v(String(TS), k.sign(k.secret, TS + 1))).toBe('mismatch');
      expect(v(String(TS), good.toLowerCase() === good ? good.toUpperCase() : good.toLowerCase())).toBe(
        'mismatch',
      );
      expect(v(String(TS), encodeURIComponent(good))).toBe(good.includes('=') ? 'mismatch' : 'accepted');
      expect(v(String(TS), good.slice(0, -1))).toBe('mismatch');
    });

    it('every single-character change of the signature is rejected', () => {
      for (let i = 0; i < good.length; i++) {
        const changed = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1);
        expect(reason(() => k.verify(String(TS), changed, k.secret, { now: TS }))).toBe('mismatch');
      }
    });

    it('compares through crypto.timingSafeEqual, and its verdict is final', () => {
      const spy = vi.spyOn(nodeCrypto, 'timingSafeEqual');
      expect(at(TS)).toBe('accepted');
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockReturnValue(false);
      expect(at(TS)).toBe('mismatch');
    });

    it('a bad window option is a configuration error, not a silent accept', () => {
      expect(() => k.verify(String(TS), good, k.secret, { now: TS, windowMs: Number.NaN })).toThrow(
        ConfigError,
      );
    });

    it('never puts the secret or the expected signature in the error', () => {
      const e = expectThrows(() => k.verify(String(TS), 'wrong', k.secret, { now: TS }), SignatureError);
      expect(e.reason).toBe('mismatch');
      const text = `${e.message} ${JSON.stringify(e)}`;
      expect(text).not.toContain(k.secret);
      expect(text).not.toContain(good);
    });
  });
}

describe('bot and card signatures differ in construction', () => {
  it('the same secret and timestamp give different signatures (bot signs ts\\nsecret, card signs ts)', () => {
    expect(signBotCallback('s3cret', TS)).not.toBe(signCardCallback('s3cret', TS));
    expect(() =>
      verifyCardCallback({ timestamp: String(TS), signature: signBotCallback('s3cret', TS) }, 's3cret', {
        now: TS,
      }),
    ).toThrow(SignatureError);
  });
});
