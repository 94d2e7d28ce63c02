import { describe, expect, it } from 'vitest';
import { CARD_TEXTS } from './card-texts.js';
import { type CardTaskView, cardButtons, isCardAction, taskCardData } from './card-view.js';
import { TASK_TEXTS } from './texts.js';

const view = (over: Partial<CardTaskView> = {}): CardTaskView => ({
  id: 42,
  title: 'Prepare the release notes',
  state: 'open',
  assignees: ['张三', 'Alice Chen'],
  due: '2026-12-05 18:00 (UTC+08:00)',
  last: { by: '张三', action: 'created', at: '2026-12-04 09:00 (UTC+08:00)' },
  openUrl: 'dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fhub%2Fapp%2Ftasks%2F42',
  ...over,
});

const ids = (v: CardTaskView) => cardButtons(v, CARD_TEXTS.en).map((b) => b.id);

describe('a task as its card', () => {
  it('shows title, state, assignees, due and who did what, in the locale', () => {
    const zh = taskCardData(
      view(),
      CARD_TEXTS['zh-CN'],
      TASK_TEXTS['zh-CN'].state,
      TASK_TEXTS['zh-CN'].colon,
    );
    expect(zh).toEqual({
      title: '#42 Prepare the release notes',
      status: '待处理',
      state: 'open',
      content: '**负责人**：张三，Alice Chen\n\n**截止**：2026-12-05 18:00 (UTC+08:00)',
      lastAction: '张三 创建了任务 · 2026-12-04 09:00 (UTC+08:00)',
      buttons: JSON.stringify([
        { id: 'start', text: '开始' },
        { id: 'done', text: '完成' },
        { id: 'open', text: '打开', url: view().openUrl },
      ]),
    });
    const en = taskCardData(
      view({ due: undefined, last: undefined }),
      CARD_TEXTS.en,
      TASK_TEXTS.en.state,
      ': ',
    );
    expect(en['content']).toBe('**Assignees**: 张三, Alice Chen');
    expect(en['lastAction']).toBe('');
  });

  it('offers Start while open, Done until final, Open always', () => {
    expect(ids(view({ state: 'open' }))).toEqual(['start', 'done', 'open']);
    expect(ids(view({ state: 'in_progress' }))).toEqual(['done', 'open']);
    expect(ids(view({ state: 'done' }))).toEqual(['open']);
    expect(ids(view({ state: 'cancelled' }))).toEqual(['open']);
  });

  it('takes back only the moves it offers: Open and unknown ids move nothing', () => {
    expect(isCardAction('start')).toBe(true);
    expect(isCardAction('done')).toBe(true);
    for (const id of ['open', 'cancel', 'reopen', 'edit', '', 'constructor', 42, undefined]) {
      expect(isCardAction(id), String(id)).toBe(false);
    }
  });

  it('keeps every value a string (cardParamMap, docs/dingtalk.md §10)', () => {
    const d = taskCardData(view(), CARD_TEXTS.en, TASK_TEXTS.en.state, ': ');
    for (const v of Object.values(d)) expect(typeof v).toBe('string');
  });
});
