import { describe, expect, it } from 'vitest';
import { parseDue, ZonedTime } from '../zoned-time.js';
import {
  type CheckedPatch,
  checkPatch,
  describeEdit,
  type EditableTask,
  isNoopEdit,
  planEdit,
} from './edit.js';
import { taskTexts } from './texts.js';

const groups = new Set(['ops', 'eng']);
const check = (p: Parameters<typeof checkPatch>[0]) => checkPatch(p, (g) => groups.has(g));

const DUE = Date.parse('2026-12-01T10:00:00Z');
const task: EditableTask = {
  title: 'Ship',
  description: 'cut the release',
  dueAt: DUE,
  group: 'ops',
  assignees: ['alice', 'bob'],
};
const plan = (p: Partial<CheckedPatch>) => planEdit(task, { add: [], remove: [], ...p });

describe('checkPatch', () => {
  it('trims the title, parses the due time, turns "" descriptions into removal, dedupes names', () => {
    expect(
      check({
        title: '  New  ',
        description: '',
        due: '2026-12-02T08:00:00+08:00',
        group: null,
        addAssignees: ['carol', ' carol '],
      }),
    ).toEqual({
      title: 'New',
      description: null,
      dueAt: Date.parse('2026-12-02T00:00:00Z'),
      group: null,
      add: ['carol'],
      remove: [],
    });
    expect(check({ due: null })).toEqual({ dueAt: null, add: [], remove: [] });
  });

  it('refuses an empty patch and bad fields, naming the field', () => {
    const field = (p: Parameters<typeof checkPatch>[0]) => {
      try {
        check(p);
      } catch (e) {
        return (e as { field?: string }).field;
      }
      return 'accepted';
    };
    expect(field({})).toBe('patch');
    expect(field({ addAssignees: [], removeAssignees: [] })).toBe('patch');
    expect(field({ title: '   ' })).toBe('title');
    expect(field({ title: 'x'.repeat(1025) })).toBe('title');
    expect(field({ description: 'x'.repeat(4097) })).toBe('description');
    expect(field({ due: 'next week' })).toBe('due');
    expect(field({ group: 'nowhere' })).toBe('group');
    expect(field({ addAssignees: ['ok', ''] })).toBe('addAssignees');
    expect(field({ removeAssignees: 'bob' as unknown as string[] })).toBe('removeAssignees');
    expect(field({ addAssignees: Array.from({ length: 101 }, (_, i) => `p${i}`) })).toBe('addAssignees');
    expect(field({ group: 'eng' })).toBe('accepted');
  });
});

describe('planEdit', () => {
  it('records old → new for each changed field and leaves equal values alone', () => {
    const p = plan({ title: 'Ship 2', description: 'cut the release', dueAt: DUE + 3_600_000, group: 'eng' });
    expect(p.title).toEqual({ from: 'Ship', to: 'Ship 2' });
    expect(p.description).toBeUndefined();
    expect(p.due).toEqual({ from: DUE, to: DUE + 3_600_000 });
    expect(p.group).toEqual({ from: 'ops', to: 'eng' });
    expect(p.after).toEqual({ ...task, title: 'Ship 2', dueAt: DUE + 3_600_000, group: 'eng' });
    expect(p.todo).toEqual({ subject: 'Ship 2', dueTime: DUE + 3_600_000 });
  });

  it('removal of the description and the due time: the Todo gets an empty description but keeps its due', () => {
    const p = plan({ description: null, dueAt: null });
    expect(p.description).toEqual({ from: 'cut the release', to: undefined });
    expect(p.due).toEqual({ from: DUE, to: undefined });
    expect(p.after.dueAt).toBeUndefined();
    // docs/dingtalk.md §8.1 update cannot clear dueTime, so only the description travels.
    expect(p.todo).toEqual({ description: '' });
    expect(plan({ dueAt: null }).todo).toBeUndefined();
  });

  it('adds and removes people; already there / not there are no-ops; at least one must stay', () => {
    const p = plan({ add: ['carol', 'alice'], remove: ['bob', 'dave'] });
    expect(p.added).toEqual(['carol']);
    expect(p.removed).toEqual(['bob']);
    expect(p.after.assignees).toEqual(['alice', 'carol']);
    // Assignee changes alone need no Todo update for the people who stay.
    expect(p.todo).toBeUndefined();
    expect(() => plan({ remove: ['alice', 'bob'] })).toThrow(/at least one assignee/);
    expect(() => plan({ add: ['carol'], remove: ['carol'] })).toThrow(/both added and removed/);
  });

  it('a replayed patch plans nothing', () => {
    const first = plan({ title: 'Ship 2', add: ['carol'], remove: ['bob'], dueAt: null });
    expect(isNoopEdit(first)).toBe(false);
    const replay = planEdit(first.after, { title: 'Ship 2', add: ['carol'], remove: ['bob'], dueAt: null });
    expect(isNoopEdit(replay)).toBe(true);
    expect(replay.todo).toBeUndefined();
  });
});

describe('describeEdit', () => {
  it('words each change as old → new, with names and shortened long texts', () => {
    const p = plan({
      title: 'y'.repeat(200),
      description: null,
      dueAt: null,
      group: null,
      add: ['carol'],
      remove: ['bob'],
    });
    const lines = describeEdit(p, (k) => ({ carol: 'Carol Wu', bob: 'Bob Li' })[k] ?? k);
    expect(lines).toEqual([
      `title: "Ship" → "${'y'.repeat(79)}…"`,
      'description: "cut the release" → none',
      'due: 2026-12-01T10:00:00.000Z → none',
      'group: ops → none',
      'assignees: +Carol Wu -Bob Li',
    ]);
    expect(describeEdit(plan({ dueAt: DUE }), (k) => k)).toEqual([]);
  });

  it('words the lines in the hub’s locale, times in its zone with the offset marked', () => {
    const zone = new ZonedTime('Asia/Shanghai');
    const words = { texts: taskTexts('zh-CN'), time: (ms: number) => zone.format(ms) };
    const p = plan({ dueAt: DUE + 3_600_000, group: null, add: ['carol'], description: null });
    expect(describeEdit(p, (k) => (k === 'carol' ? '张三' : k), words)).toEqual([
      '描述："cut the release" → 无',
      '截止：2026-12-01 18:00 (UTC+08:00) → 2026-12-01 19:00 (UTC+08:00)',
      '群：ops → 无',
      '负责人：+张三',
    ]);
  });

  it('reads a due time with the reader it is given (the hub passes its zone’s)', () => {
    const zone = new ZonedTime('America/New_York');
    const read = (text: string) => parseDue(text, zone);
    expect(checkPatch({ due: '2026-07-01 09:00' }, () => true, read).dueAt).toBe(
      Date.parse('2026-07-01T13:00:00Z'),
    );
    expect(() => checkPatch({ due: '2026-03-08 02:30' }, () => true, read)).toThrow(/does not exist/);
    // Without one, only ISO times (the old contract of the pure function).
    expect(checkPatch({ due: '2026-07-01T09:00:00-04:00' }, () => true).dueAt).toBe(
      Date.parse('2026-07-01T13:00:00Z'),
    );
  });
});
