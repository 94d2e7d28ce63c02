import { describe, expect, it } from 'vitest';
import { checkRobotSecurity, ipMatches } from './robot-security.js';

const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const base = {
  ip: '1.2.3.4',
  message: { text: { content: 'hello' } },
  now: 1_700_000_000_000,
  windowMs: 3_600_000,
};

describe('checkRobotSecurity (docs/dingtalk.md §2.2, §2.3)', () => {
  it('accepts the worked vector (decoded sign, as URLSearchParams yields it)', () => {
    const v = checkRobotSecurity({
      ...base,
      security: { secret: SECRET },
      timestamp: '1700000000000',
      sign: '8SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=',
    });
    expect(v).toEqual({ ok: true });
  });

  it('one flipped character is "sign not match"; bad or far timestamps are "invalid timestamp"', () => {
    const sec = { secret: SECRET };
    expect(
      checkRobotSecurity({
        ...base,
        security: sec,
        timestamp: '1700000000000',
        sign: '9SZas7RY4E7wuOlgLfjLwHSKZpyUEdXdLvFYSDZiiFw=',
      }),
    ).toMatchObject({
      ok: false,
      errmsg: 'sign not match',
    });
    for (const ts of [null, '', 'abc', '1.5', String(base.now + 3_600_001)]) {
      expect(checkRobotSecurity({ ...base, security: sec, timestamp: ts, sign: 'x' })).toMatchObject({
        errmsg: 'invalid timestamp',
      });
    }
  });

  it('keywords: any string value of the message; otherwise "keywords not in content"', () => {
    const security = { keywords: ['告警'] };
    const at = { timestamp: null, sign: null };
    expect(
      checkRobotSecurity({ ...base, ...at, security, message: { link: { title: '告警: x', text: 'y' } } }).ok,
    ).toBe(true);
    expect(
      checkRobotSecurity({ ...base, ...at, security, message: { text: { content: 'calm' } } }),
    ).toMatchObject({
      errcode: 310000,
      errmsg: 'keywords not in content',
    });
  });

  it('IP allowlist with CIDR; IPv6 never matches', () => {
    expect(ipMatches('1.2.3.0/24', '1.2.3.200')).toBe(true);
    expect(ipMatches('1.2.3.0/24', '1.2.4.1')).toBe(false);
    expect(ipMatches('1.2.3.4', '1.2.3.4')).toBe(true);
    expect(ipMatches('0.0.0.0/0', '9.9.9.9')).toBe(true);
    expect(ipMatches('1.2.3.0/33', '1.2.3.1')).toBe(false);
    expect(ipMatches('::1', '::1')).toBe(false);
    expect(
      checkRobotSecurity({ ...base, timestamp: null, sign: null, security: { ipAllowlist: ['10.0.0.0/8'] } }),
    ).toMatchObject({
      errmsg: 'ip 1.2.3.4 not in whitelist',
    });
  });
});
