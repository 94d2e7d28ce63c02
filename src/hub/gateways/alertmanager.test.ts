import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertmanagerBody, alertmanagerItems } from './alertmanager.js';
import { flattenLabels, genericItems } from './generic.js';

const fixture = (n: string) =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../test/fixtures/alertmanager', `${n}.json`), 'utf8'),
  );

describe('Alertmanager v4 bodies', () => {
  it('the fixtures parse into one item each, with the alert’s own status', () => {
    const f = alertmanagerItems(alertmanagerBody.parse(fixture('firing')));
    const r = alertmanagerItems(alertmanagerBody.parse(fixture('resolved')));
    expect(f.items.map((i) => [i.kind, i.fingerprint])).toEqual([['firing', 'a1b2c3d4e5f60718']]);
    expect(r.items[0]?.kind).toBe('resolved');
    expect(r.items[0]?.endsAt).toBe('2026-12-05T02:20:00.000Z');
    expect(f.dedupKey).not.toBe(r.dedupKey);
  });

  it('dedupe: a resend is the same key (alert order does not matter); an alert changing status is not', () => {
    const base = fixture('firing');
    const two = {
      ...base,
      alerts: [
        base.alerts[0],
        { ...base.alerts[0], fingerprint: 'ffff0000', labels: { alertname: 'Other' } },
      ],
    };
    const k = alertmanagerItems(alertmanagerBody.parse(two)).dedupKey;
    const reordered = { ...two, alerts: [...two.alerts].reverse() };
    expect(alertmanagerItems(alertmanagerBody.parse(reordered)).dedupKey).toBe(k);
    // Same group key, same group status (still firing), but one alert resolved: a new notification.
    const oneResolved = {
      ...two,
      alerts: [two.alerts[0], { ...two.alerts[1], status: 'resolved', endsAt: '2026-12-05T03:00:00Z' }],
    };
    expect(alertmanagerItems(alertmanagerBody.parse(oneResolved)).dedupKey).not.toBe(k);
  });

  it('a wrong field is named', () => {
    const bad = fixture('firing');
    bad.alerts[0].labels = { alertname: 5 };
    const r = alertmanagerBody.safeParse(bad);
    expect(r.error?.issues[0]?.path).toEqual(['alerts', 0, 'labels', 'alertname']);
  });
});

describe('generic bodies', () => {
  it('labels are the scalar fields by dotted path; prototype keys are skipped', () => {
    const body = JSON.parse(
      '{"title":"t","alert":{"severity":"critical","n":3},"__proto__":{"x":"y"},"list":[1]}',
    );
    expect(flattenLabels(body)).toEqual({
      title: 't',
      'alert.severity': 'critical',
      'alert.n': '3',
      'list.0': '1',
    });
  });

  it('dedupe by the idempotency header, else by the body hash', () => {
    const raw = Buffer.from('{"a":1}');
    expect(genericItems({ a: 1 }, raw, 'k1').dedupKey).toBe('key:k1');
    expect(genericItems({ a: 1 }, raw, undefined).dedupKey).toBe(
      genericItems({ a: 1 }, raw, undefined).dedupKey,
    );
    expect(genericItems({ a: 1 }, Buffer.from('{"a":2}'), undefined).dedupKey).not.toBe(
      genericItems({ a: 1 }, raw, undefined).dedupKey,
    );
  });
});
