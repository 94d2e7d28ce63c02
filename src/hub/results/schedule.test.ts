import { describe, expect, it } from 'vitest';
import { advances, firstCheckAt, nextCheckAt, noticeOutcomes, robotOutcomes, settled } from './schedule.js';

const T = { firstCheckMs: 60_000, maxIntervalMs: 4 * 3_600_000, windowMs: 86_400_000 };

describe('the send-result schedule', () => {
  it('asks first a minute after the send, then doubles the wait up to the cap', () => {
    const sent = 1_000_000;
    expect(firstCheckAt(sent, T)).toBe(sent + 60_000);
    let now = firstCheckAt(sent, T);
    const waits: number[] = [];
    for (let checks = 1; checks <= 12; checks++) {
      const next = nextCheckAt(sent, checks, now, T)!;
      waits.push(next - now);
      now = next;
    }
    expect(waits.slice(0, 6)).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_840_000]);
    // Capped at 4 h.
    expect(Math.max(...waits)).toBe(4 * 3_600_000);
  });

  it('asks nothing after the 24 h window, and the last question still falls inside it', () => {
    const sent = 0;
    expect(nextCheckAt(sent, 3, 86_400_000, T)).toBeUndefined();
    expect(nextCheckAt(sent, 3, 86_500_000, T)).toBeUndefined();
    // 10 min before the end, with a 4 h wait due: the last question is just inside the window.
    expect(nextCheckAt(sent, 20, 86_400_000 - 600_000, T)).toBe(86_400_000 - 1);
  });

  it('costs about a dozen questions per send over the window with reads tracked', () => {
    let now = firstCheckAt(0, T);
    let asked = 1;
    for (;;) {
      const next = nextCheckAt(0, asked, now, T);
      if (next === undefined) break;
      now = next;
      asked++;
    }
    expect(asked).toBeGreaterThanOrEqual(10);
    expect(asked).toBeLessThanOrEqual(14);
  });
});

describe('outcomes', () => {
  const result = {
    invalidUserIds: ['ghost'],
    failedUserIds: ['f'],
    readUserIds: ['r'],
    unreadUserIds: ['u'],
    forbidden: [
      { userId: 'dup', code: 143106, reason: 'duplicate' },
      { userId: 'nocode', code: undefined, reason: 'skipped' },
    ],
  };

  it('reads each list of getsendresult as the table in schedule.ts says', () => {
    const out = noticeOutcomes(['ghost', 'f', 'r', 'u', 'dup', 'nocode', 'later', 'later'], result);
    expect(out).toEqual([
      { userId: 'ghost', outcome: 'dropped', reasonCode: 'invalid_user', reason: expect.any(String) },
      { userId: 'f', outcome: 'dropped', reasonCode: 'failed', reason: expect.any(String) },
      { userId: 'r', outcome: 'read' },
      { userId: 'u', outcome: 'delivered' },
      { userId: 'dup', outcome: 'dropped', reasonCode: '143106', reason: 'duplicate' },
      { userId: 'nocode', outcome: 'dropped', reasonCode: 'forbidden', reason: 'skipped' },
      // In no list yet: still being processed; asked once however often named.
      { userId: 'later', outcome: 'pending' },
    ]);
  });

  it('reads a 1:1 read status per person and a group one as its readers only', () => {
    const r = {
      sendStatus: 'SUCCESS',
      people: [
        { userId: 'a', read: true },
        { userId: 'b', read: false },
      ],
    };
    expect(robotOutcomes(['a', 'b', 'c'], r)).toEqual([
      { userId: 'a', outcome: 'read' },
      { userId: 'b', outcome: 'delivered' },
      { userId: 'c', outcome: 'pending' },
    ]);
    expect(robotOutcomes(undefined, r)).toEqual([{ userId: 'a', outcome: 'read' }]);
    // A group's readers come from DingTalk: names that are no userId, and repeats, are not recorded.
    const odd = {
      sendStatus: 'SUCCESS',
      people: ['a', 'a', 'x'.repeat(65), 'bad id', '<b>'].map((userId) => ({ userId, read: true })),
    };
    expect(robotOutcomes(undefined, odd)).toEqual([{ userId: 'a', outcome: 'read' }]);
  });

  it('only moves forward: a later answer never undoes a read or a drop', () => {
    expect(advances(undefined, 'pending')).toBe(true);
    expect(advances('pending', 'delivered')).toBe(true);
    expect(advances('delivered', 'read')).toBe(true);
    expect(advances('read', 'delivered')).toBe(false);
    expect(advances('delivered', 'pending')).toBe(false);
    expect(advances('dropped', 'read')).toBe(false);
    expect(advances('delivered', 'delivered')).toBe(false);
  });

  it('is settled when nothing can change', () => {
    expect(settled(['dropped', 'read'], true)).toBe(true);
    expect(settled(['dropped', 'delivered'], true)).toBe(false);
    expect(settled(['dropped', 'delivered'], false)).toBe(true);
    expect(settled(['pending'], false)).toBe(false);
  });
});
