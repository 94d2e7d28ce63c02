import { describe, expect, it } from 'vitest';
import { pickLanguage } from './page.js';
import { cookie, csrfOf, readCookie, sameSecret } from './session.js';

describe("people's pages: session helpers", () => {
  it('reads one cookie among others and ignores malformed pairs', () => {
    expect(readCookie('a=1; dk_app_session=abc; b=2', 'dk_app_session')).toBe('abc');
    expect(readCookie('dk_app_sessionX=abc; junk', 'dk_app_session')).toBeUndefined();
    expect(readCookie(undefined, 'dk_app_session')).toBeUndefined();
    expect(readCookie(`dk_app_session=${'a'.repeat(9_000)}`, 'dk_app_session')).toBeUndefined();
  });

  it('builds an HttpOnly, Lax cookie, Secure only when asked', () => {
    const c = cookie('n', 'v', { path: '/app', maxAgeS: 10.7, secure: true });
    expect(c).toBe('n=v; Path=/app; Max-Age=10; HttpOnly; SameSite=Lax; Secure');
    expect(cookie('n', '', { path: '/app', maxAgeS: -5, secure: false })).toBe(
      'n=; Path=/app; Max-Age=0; HttpOnly; SameSite=Lax',
    );
  });

  it('SameSite=None is always Secure', () => {
    expect(cookie('n', 'v', { path: '/app', maxAgeS: 1, secure: false, sameSite: 'none' })).toBe(
      'n=v; Path=/app; Max-Age=1; HttpOnly; SameSite=None; Secure',
    );
  });

  it('the CSRF token is per session, stable, and compared exactly', () => {
    const a = csrfOf('session-a');
    expect(csrfOf('session-a')).toBe(a);
    expect(csrfOf('session-b')).not.toBe(a);
    expect(sameSecret(a, a)).toBe(true);
    expect(sameSecret(a, `${a}x`)).toBe(false);
    expect(sameSecret(a, a.slice(0, -1))).toBe(false);
    expect(sameSecret('', a)).toBe(false);
  });

  it('picks Chinese when the browser ranks it above English, English otherwise', () => {
    expect(pickLanguage('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh');
    expect(pickLanguage('en-US,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(pickLanguage('fr-FR,zh-TW;q=0.5')).toBe('zh');
    expect(pickLanguage('fr-FR')).toBe('en');
    expect(pickLanguage(undefined)).toBe('en');
    expect(pickLanguage('zh;q=0, en;q=0.1')).toBe('en');
  });
});
