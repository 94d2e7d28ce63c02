import { describe, expect, it } from 'vitest';
import { DingTalkError } from './errors.js';
import { REDACTED, Redactor, redactByName, redactHeaders } from './redact.js';

describe('redaction', () => {
  it('redacts secret query parameters and JSON fields by name', () => {
    const s = redactByName(
      'POST /robot/send?access_token=abc123&timestamp=1&sign=xyz%3D {"appSecret":"s3cr3t","content":"hi"}',
    );
    expect(s).not.toContain('abc123');
    expect(s).not.toContain('xyz');
    expect(s).not.toContain('s3cr3t');
    expect(s).toContain('timestamp=1');
    expect(s).toContain('"content":"hi"');
  });

  it('redacts registered secrets in plain, URL-encoded and base64 forms', () => {
    const secret = 'SEC+abc/def=ghi123';
    const r = new Redactor([secret]);
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
      expect(r.redact(`x ${form} y`)).toBe(`x ${REDACTED} y`);
    }
  });

  it('redacts headers by name', () => {
    expect(redactHeaders({ 'x-acs-dingtalk-access-token': 't', accept: 'a' })).toEqual({
      'x-acs-dingtalk-access-token': REDACTED,
      accept: 'a',
    });
  });

  it('errors are redacted at construction', () => {
    const e = new DingTalkError('X', 'failed https://oapi.dingtalk.com/robot/send?access_token=deadbeef');
    expect(e.message).not.toContain('deadbeef');
    expect(JSON.stringify(e)).not.toContain('deadbeef');
  });

  it('runs in linear time on adversarial input (no ReDoS)', () => {
    const evil = `${'a='.repeat(50_000)}${'"x":"'.repeat(20_000)}`;
    const t = performance.now();
    redactByName(evil);
    expect(performance.now() - t).toBeLessThan(1_000);
  });
});
