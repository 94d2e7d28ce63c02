/** The in-memory SeenStore and the claim/release helpers, on a fake clock. */

import { describe, expect, it } from 'vitest';
import { claimKeys, digestKey, MemorySeenStore, releaseKeys, type SeenStore } from './replay-guard.js';

describe('MemorySeenStore', () => {
  it('answers true once per key until the key expires, then true again', () => {
    let now = 1_000;
    const s = new MemorySeenStore({ now: () => now });
    expect(s.firstSeen('a', 2_000)).toBe(true);
    expect(s.firstSeen('a', 2_000)).toBe(false);
    now = 1_999;
    expect(s.firstSeen('a', 9_000)).toBe(false);
    now = 2_000;
    expect(s.firstSeen('a', 3_000)).toBe(true);
  });

  it('forget makes a key new again', () => {
    const s = new MemorySeenStore({ now: () => 0 });
    s.firstSeen('a', 10);
    s.forget('a');
    expect(s.firstSeen('a', 10)).toBe(true);
  });

  it('stays within maxEntries: expired keys go first, then the oldest, counted as evicted', () => {
    let now = 0;
    const s = new MemorySeenStore({ maxEntries: 3, now: () => now });
    s.firstSeen('old', 5);
    s.firstSeen('b', 100);
    s.firstSeen('c', 100);
    now = 10;
    expect(s.firstSeen('d', 100)).toBe(true);
    expect([s.size, s.evicted]).toEqual([3, 0]);
    expect(s.firstSeen('e', 100)).toBe(true);
    expect([s.size, s.evicted]).toEqual([3, 1]);
    // 'b' was the oldest live key: forgotten, so it would be taken as new.
    expect(s.firstSeen('b', 100)).toBe(true);
    expect(s.firstSeen('e', 100)).toBe(false);
  });

  it('rejects a size that is not a positive integer', () => {
    expect(() => new MemorySeenStore({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('digestKey', () => {
  it('hides the parts and keeps different splits apart', () => {
    const k = digestKey('bot', 'sig', '1700000000000', 'c2lnbmF0dXJl');
    expect(k).toMatch(/^bot:sig:[0-9a-f]{64}$/);
    expect(k).not.toContain('c2lnbmF0dXJl');
    expect(digestKey('bot', 'sig', 'ab', 'c')).not.toBe(digestKey('bot', 'sig', 'a', 'bc'));
    expect(digestKey('bot', 'sig', 'x')).not.toBe(digestKey('card', 'sig', 'x'));
  });
});

describe('claimKeys / releaseKeys', () => {
  it('a request is fresh only when every key is new; the new keys stay claimed either way', async () => {
    const s = new MemorySeenStore({ now: () => 0 });
    expect(await claimKeys(s, ['msg'], 10)).toEqual({ fresh: true, keys: ['msg'] });
    // A new signature carrying an id already handled: not fresh, but its signature is now used up too.
    expect(await claimKeys(s, ['sig2', 'msg'], 10)).toEqual({ fresh: false, keys: ['sig2'] });
    expect(await claimKeys(s, ['sig2'], 10)).toEqual({ fresh: false, keys: [] });
  });

  it('releaseKeys reports keys a failing store could not forget', async () => {
    const broken: SeenStore = {
      firstSeen: () => true,
      forget: () => {
        throw new Error('down');
      },
    };
    expect(await releaseKeys(broken, ['a', 'b'])).toBe(2);
    expect(await releaseKeys(new MemorySeenStore(), ['a'])).toBe(0);
  });
});
