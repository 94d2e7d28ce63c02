import nodeCrypto, { createCipheriv } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import {
  ConfigError,
  DecryptError,
  type DecryptReason,
  SignatureError,
  ValidationError,
} from '../core/errors.js';
import { EventCrypto, type EventCryptoOptions } from './event-crypto.js';

const TOKEN = 'tokenABC';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';
const OWNER = 'dingappkey0001';
const NOW = 1_700_000_000_000;

function make(extra: Partial<EventCryptoOptions> = {}): EventCrypto {
  return new EventCrypto({ token: TOKEN, aesKey: AES_KEY, ownerKey: OWNER, now: () => NOW, ...extra });
}

/** AES-256-CBC over an arbitrary plaintext, to build envelopes our encrypt() would never produce. */
function rawSeal(plain: Buffer, aesKey = AES_KEY): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

function frame(msg: Buffer, owner: Buffer, opts: { lengthField?: number } = {}): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(opts.lengthField ?? msg.length);
  const body = Buffer.concat([Buffer.alloc(16, 7), len, msg, owner]);
  const n = 32 - (body.length % 32);
  return Buffer.concat([body, Buffer.alloc(n, n)]);
}

function decryptReason(c: EventCrypto, encrypt: string): DecryptReason | 'accepted' {
  try {
    c.decrypt(encrypt);
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(DecryptError);
    return (e as DecryptError).reason;
  }
}

function signatureReason(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(SignatureError);
    return (e as SignatureError).reason;
  }
}

function push(c: EventCrypto, message: string, timestamp = String(NOW), nonce = 'nonce123') {
  const encrypt = c.encrypt(message);
  return { query: { msg_signature: c.sign(timestamp, nonce, encrypt), timestamp, nonce }, encrypt };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('EventCrypto construction fails closed', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['no options', {}],
    ['missing token', { aesKey: AES_KEY, ownerKey: OWNER }],
    ['empty token', { token: '', aesKey: AES_KEY, ownerKey: OWNER }],
    ['token with a space', { token: 'tok en', aesKey: AES_KEY, ownerKey: OWNER }],
    ['missing aesKey', { token: TOKEN, ownerKey: OWNER }],
    ['aesKey 42 chars', { token: TOKEN, aesKey: AES_KEY.slice(1), ownerKey: OWNER }],
    ['aesKey 44 chars', { token: TOKEN, aesKey: `${AES_KEY}=`, ownerKey: OWNER }],
    ['aesKey with a dash', { token: TOKEN, aesKey: `${AES_KEY.slice(1)}-`, ownerKey: OWNER }],
    ['aesKey not a string', { token: TOKEN, aesKey: 42, ownerKey: OWNER }],
    ['missing ownerKey', { token: TOKEN, aesKey: AES_KEY }],
    ['empty ownerKey', { token: TOKEN, aesKey: AES_KEY, ownerKey: '' }],
    ['zero window', { token: TOKEN, aesKey: AES_KEY, ownerKey: OWNER, timestampWindowMs: 0 }],
    ['NaN window', { token: TOKEN, aesKey: AES_KEY, ownerKey: OWNER, timestampWindowMs: Number.NaN }],
  ];
  for (const [name, options] of cases) {
    it(`${name} → ConfigError`, () => {
      expect(() => new EventCrypto(options as unknown as EventCryptoOptions)).toThrow(ConfigError);
    });
  }

  it('never puts the secret values in the error', () => {
    const e = expectThrows(
      () => new EventCrypto({ token: 'secretTokenValue1', aesKey: 'tooShortSecretKey', ownerKey: OWNER }),
      ConfigError,
    );
    const text = `${e.message} ${JSON.stringify(e)}`;
    expect(text).toContain('aesKey');
    expect(text).not.toContain('secretTokenValue1');
    expect(text).not.toContain('tooShortSecretKey');
  });

  it('accepts a valid configuration and keeps the secrets out of inspection and JSON', async () => {
    const c = make();
    const { inspect } = await import('node:util');
    expect(inspect(c)).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(AES_KEY);
  });
});

describe('encrypt', () => {
  it('rejects a random prefix that is not 16 bytes', () => {
    expect(() => make().encrypt('x', { random: Buffer.alloc(15) })).toThrow(ValidationError);
  });

  it('rejects a lone surrogate instead of silently turning it into U+FFFD', () => {
    expect(() => make().encrypt('a\uD800b')).toThrow(ValidationError);
  });

  it('pads a block-aligned plaintext with a full 32-byte block', () => {
    // 16 + 4 + 0 + 12 = 32 bytes before padding → 64 bytes of ciphertext.
    const c = new EventCrypto({ token: TOKEN, aesKey: AES_KEY, ownerKey: 'twelve-chars' });
    expect(Buffer.from(c.encrypt(''), 'base64')).toHaveLength(64);
    expect(c.decrypt(c.encrypt(''))).toBe('');
  });

  it('produces single-line base64 even for large messages', () => {
    const encrypt = make().encrypt('x'.repeat(10_000));
    expect(encrypt).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('draws a fresh random prefix each time', () => {
    const c = make();
    expect(c.encrypt('same')).not.toBe(c.encrypt('same'));
  });
});

describe('decrypt rejects every malformed envelope with a typed reason', () => {
  const c = make();
  const owner = Buffer.from(OWNER);
  const msg = Buffer.from('{"EventType":"x"}');
  const cases: Array<[string, string, DecryptReason]> = [
    ['non-base64 characters', '!!!!', 'bad_base64'],
    ['base64 with a newline', `${c.encrypt('a').slice(0, 20)}\n${c.encrypt('a').slice(20)}`, 'bad_base64'],
    ['base64 without padding', c.encrypt('a').replace(/=+$/, ''), 'bad_base64'],
    ['empty', '', 'bad_block_size'],
    ['one AES block (16 bytes)', Buffer.alloc(16).toString('base64'), 'bad_block_size'],
    ['48 bytes', Buffer.alloc(48).toString('base64'), 'bad_block_size'],
    [
      'padding byte 0',
      rawSeal(Buffer.concat([frame(msg, owner).subarray(0, 63), Buffer.from([0])])),
      'bad_padding',
    ],
    [
      'padding byte 33',
      rawSeal(Buffer.concat([frame(msg, owner).subarray(0, 63), Buffer.from([33])])),
      'bad_padding',
    ],
    [
      'inconsistent padding bytes',
      rawSeal(Buffer.concat([frame(msg, owner).subarray(0, 60), Buffer.from([4, 3, 4, 4])])),
      'bad_padding',
    ],
    [
      'length field larger than what remains',
      rawSeal(frame(msg, owner, { lengthField: 1000 })),
      'bad_length',
    ],
    ['length field 2^32-1', rawSeal(frame(msg, owner, { lengthField: 0xffffffff })), 'bad_length'],
    ['plaintext shorter than its header', rawSeal(Buffer.alloc(32, 32)), 'bad_length'],
    ['owner key of another app', rawSeal(frame(msg, Buffer.from('dingotherapp'))), 'owner_key_mismatch'],
    ['owner key with a trailing byte', rawSeal(frame(msg, Buffer.from(`${OWNER}!`))), 'owner_key_mismatch'],
    ['owner key missing', rawSeal(frame(msg, Buffer.alloc(0))), 'owner_key_mismatch'],
    ['message not valid UTF-8', rawSeal(frame(Buffer.from([0xc3, 0x28]), owner)), 'bad_plaintext'],
    [
      'encrypted under another AES key',
      make({ aesKey: 'B'.repeat(43) }).encrypt('hello', { random: Buffer.alloc(16, 1) }),
      'bad_padding',
    ],
  ];
  for (const [name, encrypt, reason] of cases) {
    it(`${name} → ${reason}`, () => {
      expect(decryptReason(c, encrypt)).toBe(reason);
    });
  }

  it('the same framing with consistent padding is accepted (the cases above fail for the stated reason)', () => {
    expect(c.decrypt(rawSeal(frame(msg, owner)))).toBe('{"EventType":"x"}');
  });

  it('never includes decrypted bytes in an error', () => {
    const secretish = Buffer.from('{"EventType":"PLAINTEXT-CANARY"}');
    const bad = rawSeal(frame(secretish, Buffer.from('dingotherapp')));
    const e = expectThrows(() => c.decrypt(bad), DecryptError);
    expect(e.reason).toBe('owner_key_mismatch');
    expect(`${e.message} ${JSON.stringify(e)} ${String(e.stack)}`).not.toContain('CANARY');
  });
});

describe('open', () => {
  it('verifies, decrypts and parses; timestamp and nonce come back exactly as received', () => {
    const c = make();
    const p = push(c, '{"EventType":"user_add_org","UserId":["u1"]}');
    const opened = c.open(p.query, JSON.stringify({ encrypt: p.encrypt }));
    expect(opened).toEqual({
      event: { EventType: 'user_add_org', UserId: ['u1'] },
      eventType: 'user_add_org',
      timestamp: String(NOW),
      nonce: 'nonce123',
    });
  });

  it('accepts the older parameter names signature and timeStamp, and URLSearchParams', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    const q = new URLSearchParams({
      signature: p.query.msg_signature,
      timeStamp: p.query.timestamp,
      nonce: 'nonce123',
    });
    expect(c.open(q, { encrypt: p.encrypt }).eventType).toBe('a');
  });

  it('prefers msg_signature when a sender also adds an unrelated signature parameter', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    expect(c.open({ ...p.query, signature: 'something-else' }, { encrypt: p.encrypt }).eventType).toBe('a');
  });

  it('a JSON envelope re-formatted with whitespace, reordered keys or extra fields gives the same verdict', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    const bodies = [
      `{"encrypt":"${p.encrypt}"}`,
      `{\n  "encrypt" :\t"${p.encrypt}"\n}\n`,
      `{"other":1,"encrypt":"${p.encrypt}","z":[true]}`,
      Buffer.from(` { "encrypt": "${p.encrypt}" } `),
    ];
    for (const body of bodies) expect(c.open(p.query, body).eventType).toBe('a');
  });

  it('changing any single character of the encrypt field, timestamp or nonce rejects', () => {
    const c = make({ timestampWindowMs: false });
    const p = push(c, '{"EventType":"a"}');
    const swap = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (let i = 0; i < p.encrypt.length; i++) {
      expect(signatureReason(() => c.open(p.query, { encrypt: swap(p.encrypt, i) }))).toBe('mismatch');
    }
    for (let i = 0; i < p.query.timestamp.length; i++) {
      const q = { ...p.query, timestamp: swap(p.query.timestamp, i) };
      expect(signatureReason(() => c.open(q, { encrypt: p.encrypt }))).toBe('mismatch');
    }
    for (let i = 0; i < p.query.nonce.length; i++) {
      const q = { ...p.query, nonce: swap(p.query.nonce, i) };
      expect(signatureReason(() => c.open(q, { encrypt: p.encrypt }))).toBe('mismatch');
    }
  });

  it('rejects missing, empty and repeated parameters and bad bodies with typed reasons', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    const body = { encrypt: p.encrypt };
    const { msg_signature, timestamp, nonce } = p.query;
    expect(signatureReason(() => c.open({ timestamp, nonce }, body))).toBe('missing');
    expect(signatureReason(() => c.open({ msg_signature, nonce }, body))).toBe('missing');
    expect(signatureReason(() => c.open({ msg_signature, timestamp }, body))).toBe('missing');
    expect(signatureReason(() => c.open({ ...p.query, nonce: '' }, body))).toBe('missing');
    expect(
      signatureReason(() => c.open({ ...p.query, msg_signature: [msg_signature, msg_signature] }, body)),
    ).toBe('malformed');
    const dup = new URLSearchParams(p.query);
    dup.append('timestamp', timestamp);
    expect(signatureReason(() => c.open(dup, body))).toBe('malformed');
    expect(signatureReason(() => c.open(p.query, {}))).toBe('missing');
    expect(signatureReason(() => c.open(p.query, { encrypt: 5 }))).toBe('malformed');
    expect(signatureReason(() => c.open(p.query, 'not json'))).toBe('malformed');
    expect(signatureReason(() => c.open(p.query, '[1]'))).toBe('malformed');
    expect(signatureReason(() => c.open(p.query, Buffer.from([0xff, 0xfe])))).toBe('malformed');
    expect(signatureReason(() => c.open(p.query, `{"encrypt":"x","encrypt":"${p.encrypt}"}`))).toBe(
      'malformed',
    );
  });

  it('rejects an upper-cased signature: DingTalk sends lower-case hex and the compare is exact', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    const q = { ...p.query, msg_signature: p.query.msg_signature.toUpperCase() };
    expect(signatureReason(() => c.open(q, { encrypt: p.encrypt }))).toBe('mismatch');
  });

  it('rejects a push signed with another token', () => {
    const other = make({ token: 'otherToken' });
    const p = push(other, '{"EventType":"a"}');
    expect(signatureReason(() => make().open(p.query, { encrypt: p.encrypt }))).toBe('mismatch');
  });

  it('decrypted text that is not a JSON object is bad_plaintext', () => {
    const c = make();
    for (const text of ['success', '[1,2]', 'null', '']) {
      const p = push(c, text);
      expect(() => c.open(p.query, { encrypt: p.encrypt })).toThrow(
        expect.objectContaining({ name: 'DecryptError', reason: 'bad_plaintext' }),
      );
    }
  });

  describe('timestamp window', () => {
    const W = 60_000;
    const at = (offsetMs: number, seconds = false) => {
      const c = make({ timestampWindowMs: W });
      const ts = seconds ? String((NOW + offsetMs) / 1000) : String(NOW + offsetMs);
      const p = push(c, '{"EventType":"a"}', ts);
      return signatureReason(() => c.open(p.query, { encrypt: p.encrypt }));
    };
    it('accepts the window edges −1 s inside, in both directions, in ms and in seconds', () => {
      expect(at(-(W - 1000))).toBe('accepted');
      expect(at(W - 1000)).toBe('accepted');
      expect(at(-W)).toBe('accepted');
      expect(at(-(W - 1000), true)).toBe('accepted');
    });
    it('rejects 1 s beyond the window, in both directions, in ms and in seconds', () => {
      expect(at(-(W + 1000))).toBe('stale_timestamp');
      expect(at(W + 1000)).toBe('stale_timestamp');
      expect(at(-(W + 1000), true)).toBe('stale_timestamp');
      expect(at(W + 1000, true)).toBe('stale_timestamp');
    });
    it('rejects a signed but non-numeric timestamp as bad_timestamp', () => {
      const c = make();
      const p = push(c, '{"EventType":"a"}', '2023-11-14T22:13:20Z');
      expect(signatureReason(() => c.open(p.query, { encrypt: p.encrypt }))).toBe('bad_timestamp');
    });
    it('with the window off, the timestamp is an opaque signed string (official libraries behave so)', () => {
      const c = make({ timestampWindowMs: false });
      const p = push(c, '{"EventType":"a"}', 'opaque');
      expect(c.open(p.query, { encrypt: p.encrypt }).timestamp).toBe('opaque');
    });
    it('defaults to one hour', () => {
      const c = make();
      const fresh = push(c, '{"EventType":"a"}', String(NOW - 3_599_000));
      expect(c.open(fresh.query, { encrypt: fresh.encrypt }).eventType).toBe('a');
      const stale = push(c, '{"EventType":"a"}', String(NOW - 3_601_000));
      expect(signatureReason(() => c.open(stale.query, { encrypt: stale.encrypt }))).toBe('stale_timestamp');
    });
  });
});

describe('reply', () => {
  it('answers with a fresh nonce and timestamp, verifying and decrypting to success', () => {
    let t = NOW;
    const c = make({ now: () => t++ });
    const a = c.reply();
    const b = c.reply();
    expect(a.nonce).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.timeStamp).toBe(String(NOW));
    expect(b.timeStamp).toBe(String(NOW + 1));
    for (const r of [a, b]) {
      expect(c.verify(r.msg_signature, r.timeStamp, r.nonce, r.encrypt)).toBe(true);
      expect(c.decrypt(r.encrypt)).toBe('success');
    }
  });

  it('draws its random prefix and nonce from the injected source', () => {
    const c = make({ randomBytes: (n) => Buffer.alloc(n, 0x41) });
    const r = c.reply();
    // 0x41 = 65 → alphabet index 65 % 62 = 3 → 'D'.
    expect(r.nonce).toBe('DDDDDDDDDDDDDDDD');
    expect(r.encrypt).toBe(c.encrypt('success', { random: Buffer.alloc(16, 0x41) }));
  });
});

describe('signature comparison is timing-safe', () => {
  it('verify() goes through crypto.timingSafeEqual with equal-length buffers', () => {
    const spy = vi.spyOn(nodeCrypto, 'timingSafeEqual');
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    expect(c.verify(p.query.msg_signature, p.query.timestamp, p.query.nonce, p.encrypt)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    const [a, b] = spy.mock.calls[0]!;
    expect((a as Buffer).length).toBe((b as Buffer).length);
  });

  it('the verdict is the one timingSafeEqual gives: forcing it false rejects a valid push', () => {
    const c = make();
    const p = push(c, '{"EventType":"a"}');
    vi.spyOn(nodeCrypto, 'timingSafeEqual').mockReturnValue(false);
    expect(signatureReason(() => c.open(p.query, { encrypt: p.encrypt }))).toBe('mismatch');
  });

  it('a signature of another length is compared without throwing and rejected', () => {
    const spy = vi.spyOn(nodeCrypto, 'timingSafeEqual');
    const c = make();
    expect(c.verify('abc', '1', '2', 'x')).toBe(false);
    expect(spy).toHaveBeenCalled();
  });
});
