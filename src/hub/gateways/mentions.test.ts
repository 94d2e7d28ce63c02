import { describe, expect, it } from 'vitest';
import type { PeopleDirectory } from '../people.js';
import type { HookItem } from './items.js';
import { resolveMentions } from './mentions.js';

/** A directory of one: 张三 (key zhangsan). */
const people = {
  keyOf: (n: string) => (n === 'zhangsan' || n === '张三' ? 'zhangsan' : undefined),
  resolve: async () => ({ name: '张三', userId: 'zhangsan', mobile: '13800000001' }),
} as unknown as PeopleDirectory;

const item = (kind: HookItem['kind'], labels: Record<string, string> = {}): HookItem => ({
  kind,
  labels: { alertname: 'A', ...labels },
  annotations: {},
});

describe('mentions.always (the route’s own list)', () => {
  it('names its people and may @all on a firing message without any rule allowing it', async () => {
    const m = await resolveMentions(
      people,
      [{ item: item('firing'), mentionAll: false }],
      ['owner'],
      ['all', 'zhangsan'],
    );
    expect(m.all).toBe(true);
    expect(m.people.map((p) => p.userId)).toEqual(['zhangsan']);
  });

  it('twin: without it, the same message mentions no one; an alert asking for @all is still refused', async () => {
    const m = await resolveMentions(
      people,
      [{ item: item('firing', { owner: 'all' }), mentionAll: false }],
      ['owner'],
    );
    expect(m).toMatchObject({ all: false, allRefused: true, people: [] });
  });

  it('resolved-only messages mention no one, as before', async () => {
    const m = await resolveMentions(
      people,
      [{ item: item('resolved'), mentionAll: false }],
      ['owner'],
      ['all'],
    );
    expect(m).toMatchObject({ all: false, people: [] });
  });
});
