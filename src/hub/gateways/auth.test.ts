import { describe, expect, it } from 'vitest';
import { bodyGate, headerGate, signHook } from './auth.js';
import { hookAuthSchema } from './config.js';

const headers = (h: Record<string, string>) => (n: string) => h[n];
const body = Buffer.from('{"a":1}');

describe('hook auth', () => {
  it('bearer, basic, token: right passes, wrong or missing is refused with its reason', () => {
    const bearer = hookAuthSchema.parse({ type: 'bearer', token: 'b'.repeat(20) });
    expect(headerGate(bearer, headers({ authorization: `Bearer ${'b'.repeat(20)}` }))).toBeUndefined();
    expect(headerGate(bearer, headers({ authorization: `bearer  ${'b'.repeat(20)}` }))).toBeUndefined();
    expect(headerGate(bearer, headers({ authorization: `Bearer ${'b'.repeat(19)}c` }))).toBe(
      'bad_credentials',
    );
    expect(headerGate(bearer, headers({ authorization: `Basic ${'b'.repeat(20)}` }))).toBe('bad_credentials');
    expect(headerGate(bearer, headers({}))).toBe('missing_credentials');
    const basic = hookAuthSchema.parse({ type: 'basic', username: 'am', password: 'p'.repeat(20) });
    const good = Buffer.from(`am:${'p'.repeat(20)}`).toString('base64');
    expect(headerGate(basic, headers({ authorization: `Basic ${good}` }))).toBeUndefined();
    const bad = Buffer.from(`am:${'p'.repeat(19)}q`).toString('base64');
    expect(headerGate(basic, headers({ authorization: `Basic ${bad}` }))).toBe('bad_credentials');
    const token = hookAuthSchema.parse({ type: 'token', header: 'X-Gitlab-Token', token: 't'.repeat(20) });
    expect(headerGate(token, headers({ 'x-gitlab-token': 't'.repeat(20) }))).toBeUndefined();
    expect(headerGate(token, headers({ 'x-gitlab-token': 't'.repeat(21) }))).toBe('bad_credentials');
  });

  it('hmac without a timestamp: the signature of the exact bytes', () => {
    const auth = hookAuthSchema.parse({ type: 'hmac', secret: 's'.repeat(20), prefix: 'sha256=' });
    if (auth.type !== 'hmac') throw new Error('schema');
    const h = signHook(auth, body);
    expect(bodyGate(auth, headers(h), body, 0)).toBeUndefined();
    // Re-serialised JSON (a space) is another text: refused.
    expect(bodyGate(auth, headers(h), Buffer.from('{"a": 1}'), 0)).toBe('bad_signature');
    expect(bodyGate(auth, headers({ 'x-signature-256': h['x-signature-256']!.toUpperCase() }), body, 0)).toBe(
      'bad_signature',
    );
    expect(headerGate(auth, headers({}))).toBe('missing_signature');
  });

  it('hmac with a timestamp: inside the window passes, outside is stale, a non-number is refused', () => {
    const auth = hookAuthSchema.parse({
      type: 'hmac',
      secret: 's'.repeat(20),
      encoding: 'base64',
      timestampHeader: 'x-ts',
      toleranceMs: 60_000,
    });
    if (auth.type !== 'hmac') throw new Error('schema');
    const t = 1_800_000_000;
    const h = signHook(auth, body, t);
    expect(bodyGate(auth, headers(h), body, t * 1000 + 59_000)).toBeUndefined();
    expect(bodyGate(auth, headers(h), body, t * 1000 + 61_000)).toBe('stale_timestamp');
    expect(bodyGate(auth, headers({ ...h, 'x-ts': '1e9' }), body, t * 1000)).toBe('bad_timestamp');
    expect(bodyGate(auth, headers({ 'x-signature-256': h['x-signature-256']! }), body, t * 1000)).toBe(
      'missing_signature',
    );
  });

  it('secrets shorter than 16 characters are refused by the config', () => {
    expect(hookAuthSchema.safeParse({ type: 'bearer', token: 'short' }).success).toBe(false);
  });
});
