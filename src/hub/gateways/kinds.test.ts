import { describe, expect, it } from 'vitest';
import { hookRouteSchema } from './config.js';
import { HOOK_KINDS } from './kinds.js';

const route = (kind: string) =>
  hookRouteSchema.parse(
    kind === 'github'
      ? { name: 'r', kind, secret: 'x'.repeat(16), github: { push: true } }
      : { name: 'r', kind, auth: { type: 'bearer', token: 'x'.repeat(16) } },
  );

describe('payload kinds', () => {
  for (const [kind, k] of Object.entries(HOOK_KINDS)) {
    it(`${kind}: every shipped sample is a valid payload of its kind, and two posts are two deliveries`, () => {
      expect(k.samples.length).toBeGreaterThan(0);
      const now = new Date('2026-12-05T06:00:00Z');
      for (const s of k.samples) {
        const keys = [1, 2].map((n) => {
          const body = s.body(n, now);
          const raw = Buffer.from(JSON.stringify(body));
          const headers: Record<string, string> = { ...s.headers, ...s.headersFor?.(n, now) };
          const r = k.parse({ body, raw, header: (h) => headers[h], route: route(kind), now: now.getTime() });
          if (!r.ok) throw new Error(`${kind}/${s.name}: ${r.refusal.message}`);
          expect(r.parsed.items.length).toBeGreaterThan(0);
          return r.parsed.dedupKey;
        });
        expect(keys[0]).not.toBe(keys[1]);
      }
    });
  }

  it('a refusal names the field', () => {
    const r = HOOK_KINDS.alertmanager.parse({
      body: { version: '4', status: 'firing' },
      raw: Buffer.from('{}'),
      header: () => undefined,
      route: route('alertmanager'),
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal).toMatchObject({ code: 'invalid_payload', message: /^groupKey: / });
  });
});
