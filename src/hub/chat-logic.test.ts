import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.js';
import { isNoop, transition } from './task-state.js';
import { renderTemplate, templateVariables } from './template.js';

describe('chat commands', () => {
  it.each([
    [' done 42', { kind: 'transition', action: 'done', taskId: 42 }],
    ['@dingkit start #7', { kind: 'transition', action: 'start', taskId: 7 }],
    ['完成 12', { kind: 'transition', action: 'done', taskId: 12 }],
    ['\u3000取消 3', { kind: 'transition', action: 'cancel', taskId: 3 }],
    ['/tasks', { kind: 'list' }],
    ['我的任务', { kind: 'list' }],
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
  ])('parses %j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('does not guess: unknown words and ids without a verb are unknown', () => {
    expect(parseCommand('deploy 42').kind).toBe('unknown');
    expect(parseCommand('42').kind).toBe('unknown');
    expect(parseCommand('done forty-two').kind).toBe('unknown');
  });
});

describe('task lifecycle', () => {
  it('follows open → in_progress → done | cancelled', () => {
    expect(transition('open', 'start')).toBe('in_progress');
    expect(transition('in_progress', 'done')).toBe('done');
    expect(transition('open', 'cancel')).toBe('cancelled');
    expect(transition('done', 'reopen')).toBe('open');
  });

  it('refuses moves out of a final state with a reason', () => {
    expect(() => transition('done', 'start')).toThrow(/cannot start a task that is done/);
    expect(() => transition('cancelled', 'done')).toThrow(/cannot done|cannot/);
    expect(isNoop('done', 'done')).toBe(true);
    expect(isNoop('open', 'done')).toBe(false);
  });
});

describe('templates', () => {
  it('fills variables, including nested ones', () => {
    expect(
      renderTemplate('**{{ title }}** by {{user.name}}', { title: 'Deploy', user: { name: 'Li' } }),
    ).toBe('**Deploy** by Li');
    expect(templateVariables('{{a}} {{ b.c }} {{a}}')).toEqual(['a', 'b.c']);
  });

  it('names missing variables instead of sending a hollow message', () => {
    expect(() => renderTemplate('{{a}} {{b}}', { a: 1 })).toThrow(/missing template variables: b/);
  });
});
