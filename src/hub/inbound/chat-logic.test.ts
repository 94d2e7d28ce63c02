import { describe, expect, it } from 'vitest';
import { renderTemplate, templateVariables } from '../messages/template.js';
import { isNoop, transition } from '../tasks/state.js';
import { parseCommand } from './commands.js';

describe('chat commands', () => {
  it.each([
    [' done 42', { kind: 'transition', action: 'done', taskId: 42, lang: 'en' }],
    ['@dingkit start #7', { kind: 'transition', action: 'start', taskId: 7, lang: 'en' }],
    ['完成 12', { kind: 'transition', action: 'done', taskId: 12, lang: 'zh-CN' }],
    ['\u3000取消 3', { kind: 'transition', action: 'cancel', taskId: 3, lang: 'zh-CN' }],
    ['/tasks', { kind: 'list', lang: 'en' }],
    ['我的任务', { kind: 'list', lang: 'zh-CN' }],
    ['', { kind: 'help', lang: 'en' }],
    ['help', { kind: 'help', lang: 'en' }],
    ['帮助', { kind: 'help', lang: 'zh-CN' }],
  ])('parses %j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('does not guess: unknown words and ids without a verb are unknown', () => {
    expect(parseCommand('deploy 42').kind).toBe('unknown');
    expect(parseCommand('42').kind).toBe('unknown');
    expect(parseCommand('done forty-two').kind).toBe('unknown');
  });

  it('answers in the language the command is written in, not the one a mention or a space suggests', () => {
    // A Chinese @mention or a full-width space does not make an English command Chinese.
    expect(parseCommand('@张三 done 5').lang).toBe('en');
    expect(parseCommand('\u3000done 5').lang).toBe('en');
    expect(parseCommand('完成 #5').lang).toBe('zh-CN');
    expect(parseCommand('这是什么').lang).toBe('zh-CN');
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
