import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow (docs/dingtalk.md §2.6)', () => {
  it('accepts `limit` per window, refuses the next and blocks for the penalty', () => {
    const w = new SlidingWindow({ windowMs: 60_000, limit: 20, penaltyMs: 600_000 });
    for (let i = 0; i < 20; i++) expect(w.hit(1000 + i).ok).toBe(true);
    expect(w.hit(1020)).toEqual({ ok: false, blockedUntil: 601_020, reason: 'exceeded' });
    expect(w.hit(61_100)).toMatchObject({ ok: false, reason: 'blocked' });
    expect(w.hit(601_019).ok).toBe(false);
    expect(w.hit(601_020).ok).toBe(true);
  });

  it('slides: old hits leave the window one by one', () => {
    const w = new SlidingWindow({ windowMs: 100, limit: 2, penaltyMs: 0 });
    expect(w.hit(0).ok).toBe(true);
    expect(w.hit(50).ok).toBe(true);
    expect(w.hit(100).ok).toBe(true); // the hit at 0 is exactly one window old
    expect(w.hit(120).ok).toBe(false);
  });

  it('keeps memory bounded over a long run', () => {
    const w = new SlidingWindow({ windowMs: 10, limit: 5, penaltyMs: 0 });
    for (let t = 0; t < 100_000; t += 3) w.hit(t);
    expect(w.hit(1e9).ok).toBe(true);
  });
});
