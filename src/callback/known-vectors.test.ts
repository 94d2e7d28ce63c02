/**
 * Known-answer vectors. Each row was produced by an implementation other than ours
 * and is stored with where it came from; the encrypt direction is checked byte for byte by re-encrypting with
 * the row's random prefix (recovered once by decryption and stored here as hex).
 */

import { describe, expect, it } from 'vitest';
import { DecryptError } from '../core/errors.js';
import { signBotCallback } from './bot-signature.js';
import { signCardCallback } from './card-signature.js';
import { EventCrypto } from './event-crypto.js';

interface EventVector {
  name: string;
  provenance: string;
  token: string;
  aesKey: string;
  ownerKey: string;
  /** Absent when the source published no signature for the row. */
  signed?: { signature: string; timestamp: string; nonce: string };
  encrypt: string;
  plaintext: string;
  randomHex: string;
}

const EVENT_VECTORS: EventVector[] = [
  {
    name: 'official FAQ: success reply',
    provenance: 'open.dingtalk.com "配置事件推送方式" FAQ (docs/dingtalk.md §9b, official vectors row 1)',
    token: '123456',
    aesKey: '1234567890123456789012345678901234567890123',
    ownerKey: 'dingsnotzck6pm5veliw',
    signed: {
      signature: '9a95a004dd16f5c307e849b994173f76aa26e5eb',
      timestamp: '1614767836',
      nonce: 'A7Co0cJLMzIDtMMI',
    },
    encrypt: 'YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==',
    plaintext: 'success',
    randomHex: '6449436b45444c6a3065623679416263',
  },
  {
    name: 'official ISV debug push: check_create_suite_url',
    provenance:
      'open.dingtalk.com "回调事件消息体加解密" / ISV 回调接口本地调试方案 (docs/dingtalk.md §9b row 2); ciphertext as ' +
      'published there and reproduced by many ports',
    token: '123456',
    aesKey: '4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij',
    ownerKey: 'suite4xxxxxxxxxxxxxxx',
    signed: {
      signature: '5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0',
      timestamp: '1445827045067',
      nonce: 'nEXhMP4r',
    },
    encrypt:
      '1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==',
    plaintext:
      '{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}',
    randomHex: '685533624566475a5a65777a68473561',
  },
  {
    name: 'official DingCallbackCrypto3.py: check_url',
    provenance:
      'open-dingtalk/DingTalk-Callback-Crypto DingCallbackCrypto3.py __main__ (docs/dingtalk.md §9b row 3)',
    token: 'mryue',
    aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7',
    ownerKey: 'ding6ccabc44d2c8d38b',
    signed: {
      signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb',
      timestamp: '1608001896814',
      nonce: 'WL4PK6yA',
    },
    encrypt:
      '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3',
    plaintext: '{"EventType":"check_url"}',
    randomHex: '6c375933456358324355357738617633',
  },
  {
    name: 'Python port with fixed random: encrypt of check_create_suite_url',
    provenance: '007gzs/dingtalk-sdk tests/test_crypto.py test_encrypt_message (random "1234567890123456")',
    token: '123456',
    aesKey: '4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij',
    ownerKey: 'suite4xxxxxxxxxxxxxxx',
    signed: {
      signature: 'bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd',
      timestamp: '1445827045067',
      nonce: 'nEXhMP4r',
    },
    encrypt:
      '5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNqxhxRB2YtW901k4KHbP1/wpFJ3xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLML5MyNAGM9saSpkouDMSvD+iU14i7V8ix1ia1Tb9ogog==',
    plaintext:
      '{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}',
    randomHex: Buffer.from('1234567890123456').toString('hex'),
  },
  {
    name: 'Java DingTalkEncryptor output: success reply',
    provenance:
      'o2oa/o2oa o2server/.../jaxrs/dingding/TestMain.java (recorded getEncryptedMap output in a comment)',
    token: 'o2oa',
    aesKey: 'Nzk5ZjFiODIxMzkyNGMyNWIyMmFiZWZkNjIzNjIxYTg',
    ownerKey: 'ding21016b71e78da961',
    signed: {
      signature: '502b261eda47a212db163c91322f7ddecb2e99cc',
      timestamp: '1603697312745',
      nonce: '2dffdfdfdf2222',
    },
    encrypt: 'QH/UQCL7dUGoPQZcBf2H2u/8ImJ+6tjDOSfHle3GmMoG/zopHbD8JpXVCBFGSUFmQ3bWXIuzwyXAZCeS2kptmA==',
    plaintext: 'success',
    randomHex: '4a33375371426e333464726735517055',
  },
  {
    name: 'Deno port: success',
    provenance: 'public Deno port DingtalkCallbackCrypto test "decrypt-1" (no signature published)',
    token: 'aaaqo3IDtbgWd4uyJYtrzzz',
    aesKey: 'aaabWe22zMdfpVVF6kFsZ9E4ODL1wjjykB5ifzjLzzz',
    ownerKey: 'dingn4jxcg1w9jy9exxx',
    encrypt: 'cKVPF3fvpb646ZnKPbYn/Y5fChYt4e3OjgLbwuMSMm7fuv/Sfu0POorlMHTLide0mitKXnWk1hs/ON7onS9WcQ==',
    plaintext: 'success',
    randomHex: '33533362364466377946636243714532',
  },
  {
    name: 'Deno port: multi-byte UTF-8 (length field counts bytes)',
    provenance: 'public Deno port DingtalkCallbackCrypto test "decrypt-2" (no signature published)',
    token: 'aaaqo3IDtbgWd4uyJYtrzzz',
    aesKey: 'aaabWe22zMdfpVVF6kFsZ9E4ODL1wjjykB5ifzjLzzz',
    ownerKey: 'dingn4jxcg1w9jy9exxx',
    encrypt: 'cKVPF3fvpb646ZnKPbYn/bhwggCKWyF+4H4aqPLqmhD1wT7TKRRjHaRJs9/KcAK2oiiCeYS6FV30KJQoKDFmqg==',
    plaintext: '中文测试',
    randomHex: '33533362364466377946636243714532',
  },
  {
    name: 'reference sheet push (Node and Python agree)',
    provenance: 'docs/dingtalk.md §9b "Own deterministic vector", push',
    token: 'tokenABC',
    aesKey: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
    ownerKey: 'dingappkey0001',
    signed: {
      signature: '0f318e94a0907165ca40ba3c9fc242ed0d40e99c',
      timestamp: '1700000000000',
      nonce: 'nonce123',
    },
    encrypt: 'B4PcXgtThYsrOQnzxvXRUIxvQObioV3rQImCxPjIf/MjvYOsZ3MmTlMmYKbKU0roFujWfUmJ0OO4WKZFaTCW7A==',
    plaintext: '{"EventType":"check_url"}',
    randomHex: Buffer.from('0123456789abcdef').toString('hex'),
  },
  {
    name: 'reference sheet reply',
    provenance: 'docs/dingtalk.md §9b "Own deterministic vector", reply',
    token: 'tokenABC',
    aesKey: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
    ownerKey: 'dingappkey0001',
    signed: {
      signature: '327496e47005e5f020cdf7e858f7cb24fcfe0e8f',
      timestamp: '1700000000001',
      nonce: 'abcdefgh12345678',
    },
    encrypt: 'ErpPV0X+OcT3m4an613n1bjYK3bkMy0my9hM42Hv+q0605L5oW1c1oJdTTyO51LK7NqSf4vFxQm2FBtRuTwuQw==',
    plaintext: 'success',
    randomHex: Buffer.from('ABCDEFGHIJKLMNOP').toString('hex'),
  },
];

function cryptoFor(v: EventVector, ownerKey = v.ownerKey): EventCrypto {
  return new EventCrypto({ token: v.token, aesKey: v.aesKey, ownerKey, timestampWindowMs: false });
}

describe('event envelope known answers', () => {
  it('has at least 9 event vectors from 6 independent sources', () => {
    expect(EVENT_VECTORS.length).toBeGreaterThanOrEqual(9);
  });

  for (const v of EVENT_VECTORS) {
    describe(v.name, () => {
      it('decrypts to the published plaintext', () => {
        expect(cryptoFor(v).decrypt(v.encrypt)).toBe(v.plaintext);
      });

      it('encrypts to the published ciphertext, byte for byte, given the same random prefix', () => {
        const random = Buffer.from(v.randomHex, 'hex');
        expect(cryptoFor(v).encrypt(v.plaintext, { random })).toBe(v.encrypt);
      });

      it('fails with owner_key_mismatch under another owner key', () => {
        const wrong = cryptoFor(v, `${v.ownerKey}x`);
        expect(() => wrong.decrypt(v.encrypt)).toThrow(DecryptError);
        try {
          wrong.decrypt(v.encrypt);
        } catch (e) {
          expect((e as DecryptError).reason).toBe('owner_key_mismatch');
        }
      });

      const signed = v.signed;
      if (signed) {
        it('computes the published signature and opens the push', () => {
          const c = cryptoFor(v);
          expect(c.sign(signed.timestamp, signed.nonce, v.encrypt)).toBe(signed.signature);
          const query = { msg_signature: signed.signature, timestamp: signed.timestamp, nonce: signed.nonce };
          if (v.plaintext.startsWith('{')) {
            expect(c.open(query, { encrypt: v.encrypt }).event).toEqual(JSON.parse(v.plaintext));
          } else {
            expect(c.verify(signed.signature, signed.timestamp, signed.nonce, v.encrypt)).toBe(true);
          }
        });
      }
    });
  }

  it('reproduces the reference reply body exactly through reply()', () => {
    const v = EVENT_VECTORS.find((x) => x.name === 'reference sheet reply')!;
    const reply = cryptoFor(v).reply('success', {
      random: Buffer.from('ABCDEFGHIJKLMNOP'),
      timestamp: '1700000000001',
      nonce: 'abcdefgh12345678',
    });
    expect(JSON.stringify(reply)).toBe(
      '{"msg_signature":"327496e47005e5f020cdf7e858f7cb24fcfe0e8f","timeStamp":"1700000000001",' +
        '"nonce":"abcdefgh12345678","encrypt":"ErpPV0X+OcT3m4an613n1bjYK3bkMy0my9hM42Hv+q0605L5oW1c1oJdTTyO51LK7NqSf4vFxQm2FBtRuTwuQw=="}',
    );
  });
});

describe('header signature known answers', () => {
  it('bot callback: docs/dingtalk.md §9a worked vector', () => {
    expect(signBotCallback('appSecret-For-Test-0123456789', '1700000000000')).toBe(
      'WHpOhNgQ5ar4Q/KBp6SOPiR7cVcf/s9r17y+NkmLuwU=',
    );
  });

  it('bot callback uses the §2.3 construction: the custom-robot worked vector matches too', () => {
    const secret = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
    expect(signBotCallback(secret, 1700000000000)).toBe('8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=');
  });

  it('card callback: docs/dingtalk.md §10 computed vector', () => {
    expect(signCardCallback('cardApiSecret123', '1700000000000')).toBe(
      'Z7y6xgJkeubx2EEiCS0LKSCfEyihWorA4PP4FGpHEfI=',
    );
  });
});
