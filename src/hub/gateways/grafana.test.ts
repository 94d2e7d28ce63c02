import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyGate, headerGate } from './auth.js';
import { hookAuthSchema } from './config.js';
import { grafanaBody, grafanaItems } from './grafana.js';
import { HookTemplates } from './templates.js';

const fixture = (n: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/fixtures/grafana', `${n}.json`), 'utf8'));

describe('Grafana webhook bodies (version 1)', () => {
  it('each alert is one item with the fingerprint as identity, Grafana’s links and values', () => {
    const f = grafanaItems(grafanaBody.parse(fixture('firing')));
    const r = grafanaItems(grafanaBody.parse(fixture('resolved')));
    expect(f.items).toHaveLength(1);
    expect(f.items[0]).toMatchObject({
      kind: 'firing',
      fingerprint: '9f3a61c2d0b4e857',
      links: {
        dashboard: 'http://grafana.example:3000/d/node-overview?orgId=1',
        panel: 'http://grafana.example:3000/d/node-overview?orgId=1&viewPanel=4',
        silence: expect.stringContaining('/alerting/silence/new'),
      },
      values: { B: 93.4, C: 1 },
      source: { receiver: 'dingkit', orgId: 1 },
    });
    // Resolved refers to the same alert: same fingerprint, so the hub's alert state joins them.
    expect(r.items[0]).toMatchObject({ kind: 'resolved', fingerprint: '9f3a61c2d0b4e857' });
    expect(r.items[0]?.endsAt).toBe('2026-12-05T02:20:00Z');
    expect(f.dedupKey).toMatch(/^grafana:[0-9a-f]{64}$/);
    expect(f.dedupKey).not.toBe(r.dedupKey);
  });

  it('dedupe: a resend is the same key; another org, or an alert’s new times, is not', () => {
    const base = fixture('firing');
    const key = (b: unknown) => grafanaItems(grafanaBody.parse(b)).dedupKey;
    expect(key(structuredClone(base))).toBe(key(base));
    // Title and message are rendered text Grafana may word differently on a retry: not part of the identity.
    expect(key({ ...base, title: 'other words' })).toBe(key(base));
    expect(key({ ...base, orgId: 2 })).not.toBe(key(base));
    const later = structuredClone(base);
    later.alerts[0].startsAt = '2026-12-05T03:00:00Z';
    expect(key(later)).not.toBe(key(base));
  });

  it('older releases: valueString only, empty links left out', () => {
    const [item] = grafanaItems(grafanaBody.parse(fixture('legacy-values'))).items;
    expect(item?.values).toBeUndefined();
    expect(item?.valueString).toContain('14151.33');
    expect(item?.links).toEqual({ silence: expect.any(String) });
  });

  it('malformed: the field is named; an Alertmanager body (version 4) is not taken for Grafana’s', () => {
    const bad = fixture('firing');
    bad.alerts[0].status = 'pending';
    const r = grafanaBody.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['alerts', 0, 'status']);
    const am = grafanaBody.safeParse({ ...fixture('firing'), version: '4' });
    expect(am.error?.issues[0]?.message).toContain('version "1"');
    const noValues = fixture('firing');
    noValues.alerts[0].values = { B: 'high' };
    expect(grafanaBody.safeParse(noValues).success).toBe(false);
  });

  it('the built-in firing template shows the values and Grafana’s links (en and zh-CN)', async () => {
    const [item] = grafanaItems(grafanaBody.parse(fixture('firing'))).items;
    const ctx = { item, labels: [], since: '2026-12-05 10:00 +08:00', flaps: 0, mentions: '', counts: {} };
    const en = await new HookTemplates({ locale: 'en' }).render('firing', ctx);
    expect(en.text).toContain('Values: B=93.4, C=1');
    expect(en.text).toContain('[dashboard](http://grafana.example:3000/d/node-overview?orgId=1)');
    expect(en.text).toContain('[panel](http://grafana.example:3000/d/node-overview?orgId=1&viewPanel=4)');
    expect(en.text).toMatch(/\[silence\]\(http:\/\/grafana\.example:3000\/alerting\/silence\/new/);
    const zh = await new HookTemplates({ locale: 'zh-CN' }).render('firing', ctx);
    expect(zh.text).toContain('数值：B=93.4, C=1');
    expect(zh.text).toContain('[仪表盘](');
    // An Alertmanager item has no links: nothing of it is printed.
    const am = await new HookTemplates({ locale: 'en' }).render('firing', {
      ...ctx,
      item: { ...item, links: undefined, values: undefined },
    });
    expect(am.text).not.toMatch(/dashboard|Values:/);
  });
});

describe('Grafana’s contact point auth', () => {
  const headers = (h: Record<string, string>) => (n: string) => h[n];
  const body = Buffer.from('{"a":1}');

  it('HMAC with a timestamp header signs "<timestamp>:<body>" (known answer, computed with openssl)', () => {
    const auth = hookAuthSchema.parse({
      type: 'hmac',
      secret: 'grafana-hmac-secret-0123',
      header: 'X-Grafana-Alerting-Signature',
      timestampHeader: 'X-Grafana-Alerting-Timestamp',
      timestampSeparator: ':',
    });
    const at = 1_764_900_000;
    const good = '3d427f536493b4e7f3c45def6b6899ed554a83dd73aeec70c61db5bfc8f47228';
    const h = (sig: string, ts = String(at)) =>
      headers({ 'x-grafana-alerting-signature': sig, 'x-grafana-alerting-timestamp': ts });
    expect(bodyGate(auth, h(good), body, at * 1000)).toBeUndefined();
    // The same secret and text joined with "." (the default scheme) is another signature: refused.
    const dotted = hookAuthSchema.parse({ ...auth, timestampSeparator: '.' });
    expect(bodyGate(dotted, h(good), body, at * 1000)).toBe('bad_signature');
    expect(bodyGate(auth, h(good, String(at + 1)), body, at * 1000)).toBe('bad_signature');
    expect(bodyGate(auth, h(good), body, (at + 301) * 1000)).toBe('stale_timestamp');
  });

  it('HMAC without a timestamp header signs the body alone (known answer)', () => {
    const auth = hookAuthSchema.parse({
      type: 'hmac',
      secret: 'grafana-hmac-secret-0123',
      header: 'X-Grafana-Alerting-Signature',
      timestampSeparator: ':',
    });
    const sig = '4d13730594dd6bd0c7feb4ab75a0c74526e2c4be4e373e92b21bdf721add1d22';
    expect(bodyGate(auth, headers({ 'x-grafana-alerting-signature': sig }), body, 0)).toBeUndefined();
    expect(bodyGate(auth, headers({ 'x-grafana-alerting-signature': sig.replace(/^4/, '5') }), body, 0)).toBe(
      'bad_signature',
    );
  });

  it('the Authorization header with a scheme of the operator’s choice', () => {
    const auth = hookAuthSchema.parse({ type: 'bearer', scheme: 'Token', token: 'g'.repeat(24) });
    expect(headerGate(auth, headers({ authorization: `Token ${'g'.repeat(24)}` }))).toBeUndefined();
    expect(headerGate(auth, headers({ authorization: `token ${'g'.repeat(24)}` }))).toBeUndefined();
    // The right credentials under another scheme are refused: the scheme is part of the contract.
    expect(headerGate(auth, headers({ authorization: `Bearer ${'g'.repeat(24)}` }))).toBe('bad_credentials');
    expect(
      hookAuthSchema.safeParse({ type: 'bearer', scheme: 'two words', token: 'g'.repeat(24) }).success,
    ).toBe(false);
  });
});
