/**
 * Sealing of app access tokens before they reach the store's `kv` table, so a database dump (a backup, a replica,
 * a read-only operator) holds nothing that calls DingTalk. An access token is a bearer credential for its whole
 * lifetime (docs/dingtalk.md §1.2: about 2 h), so it is treated like the secrets the store never holds at all.
 *
 * AES-256-GCM with a key derived by HKDF-SHA256 from the app's secret: every process of a deployment has that
 * secret (it needs it to fetch tokens, docs/dingtalk.md §1.1) and the database does not. The row's key is the
 * additional authenticated data, so a sealed value copied under another app's key does not open. A value that does
 * not open (tampered, another secret after a rotation, an older format) reads as absent: the caller fetches anew and
 * overwrites it, which is always safe.
 */

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Bumped when the format changes; an unknown version reads as absent. */
const VERSION = 1;
/** Fixed HKDF salt: the secret is already high-entropy, the salt only separates this use from any other. */
const SALT = Buffer.from('dingkit/token-seal/v1');

export interface Sealed {
  token: string;
  expiresAt: number;
}

/** One app's sealing key (derived once; HKDF is cheap, but a hot path need not repeat it). */
export class TokenSeal {
  readonly #key: Buffer;

  constructor(appKey: string, appSecret: string) {
    // `info` carries the app key, so two apps that happen to share a secret still get different keys.
    this.#key = Buffer.from(hkdfSync('sha256', appSecret, SALT, `access-token:${appKey}`, 32));
  }

  seal(rowKey: string, v: Sealed): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(rowKey));
    const body = Buffer.concat([c.update(JSON.stringify({ t: v.token, e: v.expiresAt })), c.final()]);
    return JSON.stringify({
      v: VERSION,
      iv: iv.toString('base64'),
      ct: body.toString('base64'),
      tag: c.getAuthTag().toString('base64'),
    });
  }

  /** The sealed token, or undefined when `stored` does not open with this key under `rowKey`. */
  open(rowKey: string, stored: string): Sealed | undefined {
    try {
      const o = JSON.parse(stored) as { v?: unknown; iv?: unknown; ct?: unknown; tag?: unknown };
      if (
        o.v !== VERSION ||
        typeof o.iv !== 'string' ||
        typeof o.ct !== 'string' ||
        typeof o.tag !== 'string'
      ) {
        return undefined;
      }
      const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(o.iv, 'base64'), {
        // A full tag only: GCM would otherwise accept a truncated one, which is easier to forge.
        authTagLength: 16,
      });
      d.setAAD(Buffer.from(rowKey));
      d.setAuthTag(Buffer.from(o.tag, 'base64'));
      const plain = Buffer.concat([d.update(Buffer.from(o.ct, 'base64')), d.final()]).toString('utf8');
      const p = JSON.parse(plain) as { t?: unknown; e?: unknown };
      if (typeof p.t !== 'string' || p.t.length === 0 || typeof p.e !== 'number') return undefined;
      return { token: p.t, expiresAt: p.e };
    } catch {
      // Not JSON, wrong key, wrong tag, truncated: all mean "no usable token here".
      return undefined;
    }
  }
}
