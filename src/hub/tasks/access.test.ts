import { describe, expect, it } from 'vitest';
import {
  type AccessActor,
  type AccessRules,
  type AccessSubject,
  DEFAULT_ACCESS,
  decideTaskAccess,
  resolveAccessRules,
  type TaskAccessAction,
} from './access.js';

const task: AccessSubject = { assignees: ['alice', 'bob'], creator: 'carol', group: 'ops' };
const rules: AccessRules = { policy: 'assignees', admins: ['root'], leads: { ops: ['lena'], eng: ['ed'] } };
const as = (person: string | undefined, groups: string[] = []): AccessActor => ({ person, groups });
const CHANGES: TaskAccessAction[] = ['start', 'done', 'cancel'];

describe('task access: the decision table', () => {
  it('refuses an actor the hub could not identify, whatever the policy or task', () => {
    for (const policy of ['assignees', 'group', 'org'] as const) {
      expect(decideTaskAccess(as(undefined, ['ops']), task, 'done', { ...rules, policy })).toEqual({
        allowed: false,
        reason: 'unidentified',
      });
    }
  });

  it('refuses a task that does not exist, even for an admin (the caller answers it like `not_permitted`)', () => {
    expect(decideTaskAccess(as('root'), undefined, 'done', rules)).toEqual({
      allowed: false,
      reason: 'no_task',
    });
  });

  it('by default: assignees start, finish and cancel; everyone else is refused', () => {
    for (const action of CHANGES) {
      expect(decideTaskAccess(as('alice'), task, action, DEFAULT_ACCESS)).toEqual({
        allowed: true,
        reason: 'assignee',
      });
      expect(decideTaskAccess(as('mallory', ['ops']), task, action, DEFAULT_ACCESS)).toEqual({
        allowed: false,
        reason: 'not_permitted',
      });
    }
    expect(decideTaskAccess(as('bob'), task, 'view', DEFAULT_ACCESS).allowed).toBe(true);
  });

  it('the creator may do everything, including edit and reopen', () => {
    for (const action of [...CHANGES, 'edit', 'reopen', 'view'] as const) {
      expect(decideTaskAccess(as('carol'), task, action, DEFAULT_ACCESS)).toEqual({
        allowed: true,
        reason: 'creator',
      });
    }
  });

  it('admins may change any task; a lead only the tasks of the group they lead', () => {
    expect(decideTaskAccess(as('root'), { ...task, group: undefined }, 'reopen', rules)).toEqual({
      allowed: true,
      reason: 'admin',
    });
    expect(decideTaskAccess(as('lena'), task, 'edit', rules)).toEqual({ allowed: true, reason: 'lead' });
    expect(decideTaskAccess(as('ed'), task, 'done', rules)).toEqual({
      allowed: false,
      reason: 'not_permitted',
    });
    expect(decideTaskAccess(as('lena'), { ...task, group: undefined }, 'done', rules).allowed).toBe(false);
  });

  it('assignees may not edit or reopen (owners reshape work), under every policy', () => {
    for (const policy of ['assignees', 'group', 'org'] as const) {
      for (const action of ['edit', 'reopen'] as const) {
        expect(decideTaskAccess(as('alice', ['ops']), task, action, { ...rules, policy })).toEqual({
          allowed: false,
          reason: 'not_permitted',
        });
      }
    }
  });

  it('policy `group`: someone shown to be in the task’s group; not from elsewhere, not for a task with no group', () => {
    const group: AccessRules = { ...rules, policy: 'group' };
    expect(decideTaskAccess(as('mallory', ['ops']), task, 'done', group)).toEqual({
      allowed: true,
      reason: 'group_member',
    });
    expect(decideTaskAccess(as('mallory', ['eng']), task, 'done', group).allowed).toBe(false);
    expect(decideTaskAccess(as('mallory', []), task, 'done', group).allowed).toBe(false);
    expect(
      decideTaskAccess(as('mallory', ['ops']), { ...task, group: undefined }, 'done', group).allowed,
    ).toBe(false);
    // The same membership under the default policy is worth nothing.
    expect(decideTaskAccess(as('mallory', ['ops']), task, 'done', rules).allowed).toBe(false);
  });

  it('policy `org`: anyone identified, from anywhere', () => {
    expect(decideTaskAccess(as('mallory'), task, 'cancel', { ...rules, policy: 'org' })).toEqual({
      allowed: true,
      reason: 'org_member',
    });
  });
});

describe('task access: resolving the configured names', () => {
  const people: Record<string, string> = { zhangsan: 'zhangsan', 张三: 'zhangsan', lisi: 'lisi' };
  const keyOf = (n: string) => people[n];
  const hasGroup = (g: string) => g === 'ops';

  it('maps display names and keys to directory keys', () => {
    expect(
      resolveAccessRules({ policy: 'group', admins: ['张三'], leads: { ops: ['lisi'] } }, keyOf, hasGroup),
    ).toEqual({ policy: 'group', admins: ['zhangsan'], leads: { ops: ['lisi'] } });
  });

  it('refuses an unknown person or group at start-up, naming the key (not guessing)', () => {
    expect(() =>
      resolveAccessRules({ policy: 'assignees', admins: ['ghost'], leads: {} }, keyOf, hasGroup),
    ).toThrow(/tasks\.access\.admins\[0\]: no person "ghost"/);
    expect(() =>
      resolveAccessRules({ policy: 'assignees', admins: [], leads: { nope: ['lisi'] } }, keyOf, hasGroup),
    ).toThrow(/tasks\.access\.leads\.nope: no group/);
  });
});
