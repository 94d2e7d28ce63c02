import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint, sameRequest } from './idempotency.js';

describe('request fingerprint', () => {
  it('is independent of key order and of undefined members, at every depth', () => {
    const a = { group: 'ops', text: 'x', vars: { b: 1, a: [1, { d: 2, c: 3 }] }, title: undefined };
    const b = { vars: { a: [1, { c: 3, d: 2 }], b: 1 }, text: 'x', group: 'ops' };
    expect(canonicalJson(a)).toBe('{"group":"ops","text":"x","vars":{"a":[1,{"c":3,"d":2}],"b":1}}');
    expect(requestFingerprint(a)).toBe(requestFingerprint(b));
    expect(requestFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with any value, array order, or type', () => {
    const base = requestFingerprint({ to: ['alice', 'bob'], mentionAll: false });
    expect(requestFingerprint({ to: ['bob', 'alice'], mentionAll: false })).not.toBe(base);
    expect(requestFingerprint({ to: ['alice', 'bob'], mentionAll: true })).not.toBe(base);
    expect(requestFingerprint({ to: ['alice', 'bob'], mentionAll: 'false' })).not.toBe(base);
    expect(requestFingerprint({ to: ['alice', 'bob'] })).not.toBe(base);
  });

  it('hashes file content by digest and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ c: Buffer.from('abc') })).toContain('"sha256":"ba7816bf');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('a held key answers the same request, a caller without a fingerprint, and rows from before 004', () => {
    expect(sameRequest('h1', 'h1')).toBe(true);
    expect(sameRequest('h1', 'h2')).toBe(false);
    expect(sameRequest(null, 'h2')).toBe(true);
    expect(sameRequest('h1', undefined)).toBe(true);
  });
});
