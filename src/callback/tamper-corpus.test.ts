/**
 * Tamper corpus: 200 valid pushes, each mutated every way below, ≥ 20,000 mutants.
 * Every mutant must be rejected by `open` with a typed SignatureError or DecryptError (of the class the mutant
 * targets), no other exception may escape, and no error may carry any of the plaintext.
 *
 * Mutants that must get past the signature to reach a decrypt check (bad padding, truncation, wrong owner...)
 * are re-signed with the right token, as a sender holding the token but misbuilding the envelope would.
 * Seeded: `DINGKIT_C3_SEED` replays a run.
 */

import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptError, SignatureError } from '../core/errors.js';
import type { CallbackBody, CallbackQuery } from './callback-params.js';
import { EventCrypto } from './event-crypto.js';

const SEED = Number(process.env['DINGKIT_C3_SEED'] ?? 20_240_601) >>> 0;
const CALLBACKS = 200;
const NOW = 1_700_000_000_000;
const WINDOW = 60_000;

/** mulberry32: small, seedable, good enough to spread mutations. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface Config {
  token: string;
  aesKey: string;
  ownerKey: string;
  crypto: EventCrypto;
}

interface Valid {
  config: Config;
  marker: string;
  message: string;
  query: { msg_signature: string; timestamp: string; nonce: string };
  encrypt: string;
  random: Buffer;
}

type Expect = 'signature' | 'decrypt' | 'either';

interface Mutant {
  kind: string;
  expect: Expect;
  query: CallbackQuery;
  body: CallbackBody;
}

function makeConfigs(rand: () => number): Config[] {
  const pick = (n: number) => Array.from({ length: n }, () => ALNUM[Math.floor(rand() * 62)]).join('');
  return Array.from({ length: 8 }, (_, i) => {
    const token = pick(3 + (i % 30));
    const aesKey = pick(43);
    const ownerKey = `ding${pick(12 + i)}`;
    return {
      token,
      aesKey,
      ownerKey,
      crypto: new EventCrypto({ token, aesKey, ownerKey, timestampWindowMs: WINDOW, now: () => NOW }),
    };
  });
}

function rawSeal(aesKey: string, plain: Buffer): string {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

function framed(random: Buffer, msg: Buffer, owner: Buffer, lengthField = msg.length): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(lengthField >>> 0);
  const body = Buffer.concat([random, len, msg, owner]);
  const n = 32 - (body.length % 32);
  return Buffer.concat([body, Buffer.alloc(n, n)]);
}

function makeValid(rand: () => number, configs: Config[], i: number): Valid {
  const config = configs[i % configs.length]!;
  const marker = `MARK${i}x${Math.floor(rand() * 1e9)}`;
  const filler = 'é漢😀a'.repeat(Math.floor(rand() * 60));
  const message = JSON.stringify({ EventType: 'user_add_org', marker, filler, n: i });
  const random = Buffer.from(Array.from({ length: 16 }, () => Math.floor(rand() * 256)));
  const encrypt = config.crypto.encrypt(message, { random });
  // Timestamps spread inside the window; nonces always contain a letter so they never parse as a timestamp.
  const timestamp = String(NOW - Math.floor(rand() * (WINDOW - 2000)));
  const nonce = `n${Array.from({ length: 7 + Math.floor(rand() * 9) }, () => ALNUM[Math.floor(rand() * 62)]).join('')}`;
  const query = { msg_signature: config.crypto.sign(timestamp, nonce, encrypt), timestamp, nonce };
  return { config, marker, message, query, encrypt, random };
}

function flipChar(s: string, index: number, bit: number): string {
  return s.slice(0, index) + String.fromCharCode(s.charCodeAt(index) ^ (1 << bit)) + s.slice(index + 1);
}

function* mutants(v: Valid, rand: () => number, other: Config): Generator<Mutant> {
  const { crypto } = v.config;
  const { msg_signature: sig, timestamp: ts, nonce } = v.query;
  const body = { encrypt: v.encrypt };
  const int = (n: number) => Math.floor(rand() * n);
  // Re-signed with the right token: reaches the checks after the signature.
  const signed = (kind: string, encrypt: string, expect: Expect = 'decrypt', t = ts, n = nonce): Mutant => ({
    kind,
    expect,
    query: { msg_signature: crypto.sign(t, n, encrypt), timestamp: t, nonce: n },
    body: { encrypt },
  });

  for (let k = 0; k < 48; k++) {
    yield {
      kind: 'encrypt_text_bit_flip',
      expect: 'signature',
      query: v.query,
      body: { encrypt: flipChar(v.encrypt, int(v.encrypt.length), int(8)) },
    };
  }
  const bytes = Buffer.from(v.encrypt, 'base64');
  for (let k = 0; k < 24; k++) {
    const b = Buffer.from(bytes);
    const at = int(b.length);
    b[at] = b[at]! ^ (1 << int(8));
    yield {
      kind: 'ciphertext_bit_flip',
      expect: 'signature',
      query: v.query,
      body: { encrypt: b.toString('base64') },
    };
  }
  for (let k = 0; k < 24; k++) {
    yield {
      kind: 'signature_bit_flip',
      expect: 'signature',
      query: { ...v.query, msg_signature: flipChar(sig, int(sig.length), int(8)) },
      body,
    };
  }
  if (/[a-f]/.test(sig)) {
    yield {
      kind: 'signature_upper_case',
      expect: 'signature',
      query: { ...v.query, msg_signature: sig.toUpperCase() },
      body,
    };
  }
  yield {
    kind: 'signature_truncated',
    expect: 'signature',
    query: { ...v.query, msg_signature: sig.slice(0, 39) },
    body,
  };
  yield {
    kind: 'signature_extended',
    expect: 'signature',
    query: { ...v.query, msg_signature: `${sig}0` },
    body,
  };

  // Cut to nothing, the envelope has no encrypt field left: that is `missing`, a signature-stage reason.
  yield signed('truncated_to_empty', '', 'signature');
  for (let cut = 16; cut < bytes.length; cut += 16) {
    yield signed('truncated_at_block_boundary', bytes.subarray(0, cut).toString('base64'));
  }
  yield {
    kind: 'truncated_not_resigned',
    expect: 'signature',
    query: v.query,
    body: { encrypt: bytes.subarray(0, bytes.length - 32).toString('base64') },
  };
  yield signed('base64_char_dropped', v.encrypt.slice(0, -1));
  yield signed('base64_with_newline', `${v.encrypt.slice(0, 40)}\n${v.encrypt.slice(40)}`);
  yield signed('base64_with_space', ` ${v.encrypt}`);
  const extra16 = Buffer.from(Array.from({ length: 16 }, () => int(256)));
  yield signed('extra_aes_block', Buffer.concat([bytes, extra16]).toString('base64'));
  const extra32 = Buffer.from(Array.from({ length: 32 }, () => int(256)));
  yield signed('extra_pad_block', Buffer.concat([bytes, extra32]).toString('base64'));
  yield signed(
    'duplicated_last_block',
    Buffer.concat([bytes, bytes.subarray(bytes.length - 32)]).toString('base64'),
  );

  const msg = Buffer.from(v.message);
  const owner = Buffer.from(v.config.ownerKey);
  const good = framed(v.random, msg, owner);
  const withLast = (tail: number[]) =>
    rawSeal(v.config.aesKey, Buffer.concat([good.subarray(0, good.length - tail.length), Buffer.from(tail)]));
  yield signed('padding_zero', withLast([0]));
  yield signed('padding_33', withLast([33]));
  yield signed('padding_255', withLast([255]));
  yield signed('padding_inconsistent', withLast([9, 3, 3]));
  yield signed('padding_32_inconsistent', withLast([...Array(31).fill(1), 32]));
  yield signed(
    'length_beyond_remaining',
    rawSeal(v.config.aesKey, framed(v.random, msg, owner, msg.length + owner.length + 1)),
  );
  yield signed('length_max', rawSeal(v.config.aesKey, framed(v.random, msg, owner, 0xffffffff)));
  yield signed('length_short', rawSeal(v.config.aesKey, framed(v.random, msg, owner, msg.length - 1)));
  yield signed(
    'owner_key_other_app',
    rawSeal(v.config.aesKey, framed(v.random, msg, Buffer.from(other.ownerKey))),
  );
  yield signed(
    'owner_key_suffix',
    rawSeal(v.config.aesKey, framed(v.random, msg, Buffer.from(`${v.config.ownerKey}0`))),
  );
  yield signed(
    'owner_key_prefix_only',
    rawSeal(v.config.aesKey, framed(v.random, msg, owner.subarray(0, owner.length - 1))),
  );
  yield signed('owner_key_empty', rawSeal(v.config.aesKey, framed(v.random, msg, Buffer.alloc(0))));
  yield signed('wrong_aes_key', rawSeal(other.aesKey, good));
  yield signed('plaintext_not_json', crypto.encrypt('success', { random: v.random }));
  yield signed('plaintext_json_array', crypto.encrypt('[1,2,3]', { random: v.random }));
  yield signed(
    'plaintext_invalid_utf8',
    rawSeal(v.config.aesKey, framed(v.random, Buffer.from([0xed, 0xa0, 0x80]), owner)),
  );

  yield {
    kind: 'wrong_token',
    expect: 'signature',
    query: { ...v.query, msg_signature: other.crypto.sign(ts, nonce, v.encrypt) },
    body,
  };
  const tokenPlus = new EventCrypto({
    token: `${v.config.token}x`,
    aesKey: v.config.aesKey,
    ownerKey: v.config.ownerKey,
  });
  yield {
    kind: 'wrong_token_suffix',
    expect: 'signature',
    query: { ...v.query, msg_signature: tokenPlus.sign(ts, nonce, v.encrypt) },
    body,
  };

  yield { kind: 'missing_signature', expect: 'signature', query: { timestamp: ts, nonce }, body };
  yield { kind: 'missing_timestamp', expect: 'signature', query: { msg_signature: sig, nonce }, body };
  yield { kind: 'missing_nonce', expect: 'signature', query: { msg_signature: sig, timestamp: ts }, body };
  yield { kind: 'missing_encrypt', expect: 'signature', query: v.query, body: {} };
  yield { kind: 'empty_signature', expect: 'signature', query: { ...v.query, msg_signature: '' }, body };
  yield { kind: 'empty_nonce', expect: 'signature', query: { ...v.query, nonce: '' }, body };
  for (const name of ['msg_signature', 'timestamp', 'nonce'] as const) {
    const same = new URLSearchParams(v.query);
    same.append(name, v.query[name]);
    yield { kind: `duplicated_${name}`, expect: 'signature', query: same, body };
    yield {
      kind: `duplicated_${name}_differing`,
      expect: 'signature',
      query: { ...v.query, [name]: [v.query[name], `${v.query[name]}1`] },
      body,
    };
  }
  yield {
    kind: 'duplicated_encrypt_key',
    expect: 'signature',
    query: v.query,
    body: `{"encrypt":"${v.encrypt}","encrypt":"${v.encrypt}"}`,
  };
  yield { kind: 'encrypt_not_string', expect: 'signature', query: v.query, body: { encrypt: 42 } };
  yield { kind: 'body_not_json', expect: 'signature', query: v.query, body: `{"encrypt":"${v.encrypt}"` };

  yield signed('stale_window_plus_1s', v.encrypt, 'signature', String(NOW - WINDOW - 1000));
  yield signed('future_window_plus_1s', v.encrypt, 'signature', String(NOW + WINDOW + 1000));
  yield signed('stale_seconds_window_plus_1s', v.encrypt, 'signature', String((NOW - WINDOW - 1000) / 1000));
  yield signed('timestamp_not_numeric', v.encrypt, 'signature', `${ts}a`);
  // Values swapped between parameters keep the sorted signature valid; the later checks must still reject.
  yield {
    kind: 'swap_timestamp_nonce',
    expect: 'signature',
    query: { msg_signature: sig, timestamp: nonce, nonce: ts },
    body,
  };
  yield {
    kind: 'swap_timestamp_encrypt',
    expect: 'signature',
    query: { msg_signature: sig, timestamp: v.encrypt, nonce },
    body: { encrypt: ts },
  };
  yield {
    kind: 'swap_nonce_encrypt',
    expect: 'either',
    query: { msg_signature: sig, timestamp: ts, nonce: v.encrypt },
    body: { encrypt: nonce },
  };
  yield {
    kind: 'swap_signature_nonce',
    expect: 'signature',
    query: { msg_signature: nonce, timestamp: ts, nonce: sig },
    body,
  };
}

describe('tamper corpus', () => {
  const rand = prng(SEED);
  const configs = makeConfigs(rand);
  const valid = Array.from({ length: CALLBACKS }, (_, i) => makeValid(rand, configs, i));

  it('every one of the 200 valid pushes opens, also at the window edges −1 s (the corpus is not rejecting everything)', () => {
    for (const v of valid) {
      expect(v.config.crypto.open(v.query, JSON.stringify({ encrypt: v.encrypt })).event['marker']).toBe(
        v.marker,
      );
    }
    const v = valid[0]!;
    for (const t of [NOW - WINDOW + 1000, NOW + WINDOW - 1000]) {
      const ts = String(t);
      const query = {
        msg_signature: v.config.crypto.sign(ts, v.query.nonce, v.encrypt),
        timestamp: ts,
        nonce: v.query.nonce,
      };
      expect(v.config.crypto.open(query, { encrypt: v.encrypt }).event['marker']).toBe(v.marker);
    }
  });

  it('rejects ≥ 20,000 mutants, 100% with the targeted typed error, 0 other exceptions, no plaintext in errors', () => {
    const byReason = new Map<string, number>();
    const byKind = new Map<string, number>();
    const accepted: string[] = [];
    const wrongClass: string[] = [];
    const untyped: string[] = [];
    const leaked: string[] = [];
    let total = 0;

    valid.forEach((v, i) => {
      const other = configs[(i + 1) % configs.length]!;
      for (const m of mutants(v, rand, other)) {
        total++;
        byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
        try {
          v.config.crypto.open(m.query, m.body);
          accepted.push(m.kind);
        } catch (e) {
          if (!(e instanceof SignatureError) && !(e instanceof DecryptError)) {
            untyped.push(`${m.kind}: ${String(e)}`);
            continue;
          }
          const cls = e instanceof SignatureError ? 'signature' : 'decrypt';
          if (m.expect !== 'either' && m.expect !== cls) wrongClass.push(`${m.kind} → ${cls}/${e.reason}`);
          const key = `${cls}/${e.reason}`;
          byReason.set(key, (byReason.get(key) ?? 0) + 1);
          const text = `${e.message} ${JSON.stringify(e)}`;
          if (text.includes(v.marker) || text.includes('filler')) leaked.push(m.kind);
        }
      }
    });

    if (process.env['DINGKIT_C3_REPORT']) {
      console.log(JSON.stringify({ seed: SEED, total, byReason: Object.fromEntries(byReason) }, null, 1));
    }
    expect(untyped).toEqual([]);
    expect(accepted).toEqual([]);
    expect(wrongClass).toEqual([]);
    expect(leaked).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(20_000);
    // Every reason the corpus targets was actually reached.
    for (const reason of [
      'signature/mismatch',
      'signature/missing',
      'signature/malformed',
      'signature/stale_timestamp',
      'signature/bad_timestamp',
      'decrypt/bad_base64',
      'decrypt/bad_block_size',
      'decrypt/bad_padding',
      'decrypt/bad_length',
      'decrypt/owner_key_mismatch',
      'decrypt/bad_plaintext',
    ]) {
      expect(byReason.get(reason) ?? 0, reason).toBeGreaterThan(0);
    }
    expect(byKind.size).toBeGreaterThanOrEqual(50);
  });

  it('twin: without the signature check a CBC bit flip goes unnoticed, so open() must verify before decrypting', () => {
    // Flipping ciphertext block 0 garbles only the unchecked random prefix and flips the same bit one block on,
    // inside the message: the envelope still decrypts, to a different message.
    const v = valid[0]!;
    const bytes = Buffer.from(v.encrypt, 'base64');
    // Ciphertext byte 6 → plaintext byte 16 + 6 = 22 = message byte 2 ('E' of "EventType" → 'D').
    bytes[6] = bytes[6]! ^ 0x01;
    const tampered = bytes.toString('base64');
    const decrypted = v.config.crypto.decrypt(tampered);
    expect(decrypted).not.toBe(v.message);
    expect(JSON.parse(decrypted)).toHaveProperty('DventType');
    expect(() => v.config.crypto.open(v.query, { encrypt: tampered })).toThrow(SignatureError);
  });
});
