/**
 * Round trip: decrypt(encrypt(x)) = x for random payloads (full Unicode including
 * emoji and NUL), random prefixes, owner keys, AES keys and tokens, and the same through sign + open.
 *
 * `DINGKIT_CRYPTO_RUNS` sets the run count of the main property (default 1,000 so the suite stays fast; the long
 * run uses 10,000). The 64 KiB property runs a fiftieth as often (at least 20).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventCrypto } from './event-crypto.js';

const RUNS = Math.max(1, Number(process.env['DINGKIT_CRYPTO_RUNS'] ?? 1000) || 1000);
const LARGE_RUNS = Math.max(20, Math.floor(RUNS / 50));

const aesKey = fc.stringMatching(/^[A-Za-z0-9]{43}$/);
const printable = fc.stringMatching(/^[\x21-\x7e]{1,64}$/);
const nonce = fc.stringMatching(/^[A-Za-z0-9]{1,32}$/);
const random16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
const timestamp = fc.integer({ min: 1_000_000_000_000, max: 9_999_999_999_999 }).map(String);

/** Payloads biased towards the awkward ones: empty, NUL, emoji, astral code points. */
const payload = (maxLength: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', '\u0000', '\u0000\u0000x\u0000', '😀', '👩‍👩‍👧‍👦 ok', '𝄞\u0000中文'),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '😀', '中', 'a', '\uFFFF'), maxLength }),
    },
  );

function cryptoFor(token: string, key: string, ownerKey: string): EventCrypto {
  return new EventCrypto({ token, aesKey: key, ownerKey, timestampWindowMs: false });
}

describe('EventCrypto round trip', () => {
  it(`decrypt(encrypt(x)) = x, and open() returns x through a signed push (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        payload(300),
        random16,
        aesKey,
        printable,
        printable,
        nonce,
        timestamp,
        (text, random, key, token, ownerKey, n, ts) => {
          const c = cryptoFor(token, key, ownerKey);
          const encrypt = c.encrypt(text, { random });
          expect(c.decrypt(encrypt)).toBe(text);
          const wrapped = c.encrypt(JSON.stringify({ EventType: 'rt', text }), { random });
          const query = { msg_signature: c.sign(ts, n, wrapped), timestamp: ts, nonce: n };
          expect(c.open(query, JSON.stringify({ encrypt: wrapped })).event['text']).toBe(text);
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          ['', Buffer.alloc(16), 'A'.repeat(43), 'tok', 'own', 'n', '1700000000000'],
          ['\u0000', Buffer.alloc(16, 255), 'z'.repeat(43), 'tok', 'own', 'n', '1700000000000'],
          ['😀', Buffer.alloc(16, 7), '0'.repeat(43), 'tok', 'own', 'n', '1700000000000'],
        ],
      },
    );
  });

  it(`round-trips payloads up to 64 KiB of UTF-8 (${LARGE_RUNS} runs)`, () => {
    const c = cryptoFor('token', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ', 'dingowner');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 4096, maxLength: 16_384 }), (text) => {
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(65_536);
        expect(c.decrypt(c.encrypt(text))).toBe(text);
      }),
      { numRuns: LARGE_RUNS },
    );
    const exact = '\u0000'.repeat(65_536);
    expect(c.decrypt(c.encrypt(exact))).toBe(exact);
  });

  it('a reply always verifies and decrypts to its message under the same configuration', () => {
    fc.assert(
      fc.property(payload(200), aesKey, printable, printable, (text, key, token, ownerKey) => {
        const c = cryptoFor(token, key, ownerKey);
        const r = c.reply(text);
        expect(c.verify(r.msg_signature, r.timeStamp, r.nonce, r.encrypt)).toBe(true);
        expect(c.decrypt(r.encrypt)).toBe(text);
      }),
      { numRuns: Math.max(100, Math.floor(RUNS / 5)) },
    );
  });

  it('the owner key is bound: another owner key never decrypts (twin of the round trip)', () => {
    fc.assert(
      fc.property(payload(100), aesKey, printable, printable, (text, key, ownerA, ownerB) => {
        fc.pre(ownerA !== ownerB);
        const encrypt = cryptoFor('tok', key, ownerA).encrypt(text);
        expect(() => cryptoFor('tok', key, ownerB).decrypt(encrypt)).toThrow(
          expect.objectContaining({ name: 'DecryptError' }),
        );
      }),
      { numRuns: Math.max(100, Math.floor(RUNS / 5)) },
    );
  });
});
