/**
 * Custom robot security checks (docs/dingtalk.md §2.2, §2.3): sign (HMAC-SHA256 over `timestamp\nsecret`, base64,
 * |now − timestamp| ≤ 1 h), IP allowlist (IPv4 or CIDR), keywords (any string of the message). Each failure is
 * errcode 310000 with one of the four documented errmsg variants.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { allStrings } from './robot-message.js';
import type { RobotSecurity } from './types.js';

export type SecurityVerdict =
  | { ok: true }
  | { ok: false; check: 'timestamp' | 'sign' | 'ip' | 'keyword'; errcode: 310000; errmsg: string };

export interface SecurityInput {
  security: RobotSecurity;
  /** Raw `timestamp` and `sign` query values (URLSearchParams already percent-decoded them). */
  timestamp: string | null;
  sign: string | null;
  ip: string;
  message: unknown;
  now: number;
  windowMs: number;
}

export function checkRobotSecurity(i: SecurityInput): SecurityVerdict {
  const s = i.security;
  if (s.secret !== undefined) {
    const ts = i.timestamp ?? '';
    const n = /^\d{1,16}$/.test(ts) ? Number(ts) : Number.NaN;
    if (!Number.isFinite(n) || Math.abs(i.now - n) > i.windowMs) {
      return { ok: false, check: 'timestamp', errcode: 310000, errmsg: 'invalid timestamp' };
    }
    const want = createHmac('sha256', s.secret).update(`${ts}\n${s.secret}`).digest();
    const got = Buffer.from(i.sign ?? '', 'base64');
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      return { ok: false, check: 'sign', errcode: 310000, errmsg: 'sign not match' };
    }
  }
  if (s.ipAllowlist !== undefined && s.ipAllowlist.length > 0) {
    if (!s.ipAllowlist.some((rule) => ipMatches(rule, i.ip))) {
      return { ok: false, check: 'ip', errcode: 310000, errmsg: `ip ${i.ip} not in whitelist` };
    }
  }
  if (s.keywords !== undefined && s.keywords.length > 0) {
    const strings = allStrings(i.message);
    if (!s.keywords.some((k) => strings.some((t) => t.includes(k)))) {
      return { ok: false, check: 'keyword', errcode: 310000, errmsg: 'keywords not in content' };
    }
  }
  return { ok: true };
}

/** `a.b.c.d` or `a.b.c.d/n` against an IPv4 address; IPv6 never matches (§2.2: no IPv6). */
export function ipMatches(rule: string, ip: string): boolean {
  const [base, bitsText] = rule.split('/');
  const a = ipv4(base ?? '');
  const b = ipv4(ip);
  if (a === undefined || b === undefined) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function ipv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}
