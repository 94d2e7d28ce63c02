import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteLength, splitMessage } from './split.js';

describe('splitMessage', () => {
  it('keeps a short message whole', () => {
    expect(splitMessage('hello', 100)).toEqual(['hello']);
  });

  it('cuts at paragraph boundaries when it can', () => {
    const a = 'a'.repeat(60);
    const b = 'b'.repeat(60);
    expect(splitMessage(`${a}\n\n${b}`, 100)).toEqual([a, b]);
  });

  it('never exceeds the cap, never splits a code point, and loses no visible text (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.integer({ min: 16, max: 120 }),
        (s, max) => {
          const parts = splitMessage(s, max);
          for (const p of parts) {
            expect(byteLength(p)).toBeLessThanOrEqual(max);
            expect(p).toBe(Buffer.from(p, 'utf8').toString('utf8'));
          }
          const squash = (x: string) => x.replace(/\s+/g, '');
          expect(squash(parts.join(''))).toBe(squash(s));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles Chinese text and emoji by bytes, not characters', () => {
    const s = '钉钉🙂'.repeat(50);
    const parts = splitMessage(s, 64);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe(s);
    for (const p of parts) expect(byteLength(p)).toBeLessThanOrEqual(64);
  });
});
