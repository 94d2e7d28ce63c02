/**
 * Every text the hub says exists in every locale, translated: the same keys (nested ones too) in each language, no
 * empty text, and a Chinese text that really is Chinese. The samples below are typed from the catalogues'
 * interfaces, so a text added without a sample does not compile here.
 */

import { describe, expect, it } from 'vitest';
import { GITHUB_TEXTS, type GithubTexts } from './gateways/github-texts.js';
import { REPLIES, type Replies } from './inbound/replies.js';
import { type Catalogue, LOCALES } from './locale.js';
import { CARD_TEXTS, type CardTexts } from './tasks/card-texts.js';
import { TASK_TEXTS, type TaskTexts } from './tasks/texts.js';

type Samples<T> = { [K in keyof T]: T[K] extends (...args: infer A) => string ? A : null };

const CJK = /[\u3400-\u9fff\uff01-\uffef]/u;

const REPLY_SAMPLES: Samples<Replies> = {
  help: null,
  notUnderstood: ['deploy it'],
  refused: [7],
  unknownSender: null,
  moved: [7, 'Ship it', 'done'],
  already: [7, 'cancelled'],
  cannot: [7, 'because'],
  noOpenTasks: null,
  openTasks: [['#7 Ship it']],
  taskLine: [7, 'Ship it', 'in_progress', '2026-12-05 18:00 (UTC+08:00)'],
};

const TASK_SAMPLES: Samples<TaskTexts> = {
  state: null,
  actor: ['api:ci'],
  created: [7, 'Ship it', '2026-12-05 18:00 (UTC+08:00)', '@Alice'],
  open: ['https://hub.example.com/app/tasks/7'],
  moved: [7, 'done', 'Alice', 'Ship it', 'note'],
  via: null,
  reminder: [7, 'Ship it', '2026-12-05 18:00 (UTC+08:00)'],
  overdue: [7, 'Ship it', '2026-12-05 18:00 (UTC+08:00)', 'open'],
  soon: null,
  edited: [7, 'Alice', 'Ship it', ['line'], '@Bob'],
  field: null,
  none: null,
  colon: null,
  cannotMove: ['start', 'done'],
};

const CARD_SAMPLES: Samples<CardTexts> = {
  assignees: null,
  and: null,
  due: null,
  start: null,
  done: null,
  open: null,
  last: ['Alice', 'start', '2026-12-05 18:00 (UTC+08:00)'],
  received: null,
  refused: null,
  unknown: null,
  cannot: ['because'],
};

/** Each text of a catalogue entry by dotted key: strings as they are, functions called with their sample. */
function texts<T extends object>(entry: T, samples: Samples<T>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, key: string, sample: unknown) => {
    if (typeof value === 'string') out.set(key, value);
    else if (typeof value === 'function')
      out.set(key, (value as (...a: unknown[]) => string)(...(sample as unknown[])));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, `${key}.${k}`, undefined);
    } else out.set(key, String(value));
  };
  for (const [k, v] of Object.entries(entry)) walk(v, k, (samples as Record<string, unknown>)[k]);
  return out;
}

const GITHUB_SAMPLES: Samples<GithubTexts> = {
  pr: null,
  prLine: [
    {
      repo: 'octo-org/hello-world',
      number: 7,
      title: 'Ship it',
      url: 'https://github.com/octo-org/hello-world/pull/7',
      author: 'octocat',
      head: 'ship',
      base: 'main',
    },
  ],
  view: null,
  reviewersUnknown: ['octocat'],
  team: ['core'],
  pushTitle: ['octo-org/hello-world', 'main', 2],
  pushBy: ['octocat', true],
  more: [3],
  compare: null,
  runFailed: ['CI', 'octo-org/hello-world', 'main'],
  runSummary: [562, 'failure', 'push', 'octocat'],
};

/** Keys allowed to show Chinese in English: the help lists both forms of every command. */
const BILINGUAL = new Set(['help', 'notUnderstood']);

function checkComplete<T extends object>(name: string, cat: Catalogue<T>, samples: Samples<T>) {
  describe(`${name} catalogue`, () => {
    const en = texts(cat.en, samples);
    const zh = texts(cat['zh-CN'], samples);

    it('has every key in every locale, none empty', () => {
      expect(Object.keys(cat).sort()).toEqual([...LOCALES].sort());
      for (const l of LOCALES) {
        const got = texts(cat[l], samples);
        expect([...got.keys()].sort(), l).toEqual([...en.keys()].sort());
        for (const [k, v] of got) expect(v.trim(), `${l} ${k}`).not.toBe('');
        for (const [k, v] of got) expect(v, `${l} ${k}`).not.toMatch(/undefined|\[object/);
      }
      expect(en.size).toBeGreaterThan(8);
    });

    it('says the Chinese texts in Chinese and the English ones in English', () => {
      for (const [k, v] of zh) {
        // Operators' words that are the same in both (a token name, an action verb inside a code span) aside.
        expect(CJK.test(v), `zh-CN ${k}: ${v}`).toBe(true);
        expect(v, `zh-CN ${k} is the English text`).not.toBe(en.get(k));
      }
      for (const [k, v] of en) if (!BILINGUAL.has(k)) expect(CJK.test(v), `en ${k}: ${v}`).toBe(false);
    });
  });
}

checkComplete('chat replies', REPLIES, REPLY_SAMPLES);
checkComplete('task texts', TASK_TEXTS, TASK_SAMPLES);
checkComplete('task cards', CARD_TEXTS, CARD_SAMPLES);
checkComplete('GitHub hook texts', GITHUB_TEXTS, GITHUB_SAMPLES);

describe('what the catalogues say', () => {
  it('help lists both forms of every command, in both languages', () => {
    for (const l of LOCALES) {
      for (const [en, zh] of [
        ['tasks', '我的任务'],
        ['start', '开始'],
        ['done', '完成'],
        ['cancel', '取消'],
        ['help', '帮助'],
      ]) {
        expect(REPLIES[l].help, `${l} ${en}`).toContain(`\`${en}`);
        expect(REPLIES[l].help, `${l} ${zh}`).toContain(`\`${zh}`);
      }
    }
  });

  it('names operators by what they are, never as a bare api:<token>', () => {
    expect(TASK_TEXTS.en.actor('api:ci')).toBe('the API (token ci)');
    expect(TASK_TEXTS['zh-CN'].actor('api:ci')).toBe('API（令牌 ci）');
    expect(TASK_TEXTS.en.actor('cli')).toBe('the CLI');
    expect(TASK_TEXTS['zh-CN'].actor('cli')).toBe('命令行');
    expect(TASK_TEXTS.en.actor('张三')).toBe('张三');
    expect(TASK_TEXTS.en.moved(3, 'done', TASK_TEXTS.en.actor('api:ci'), 'Ship', undefined)).toBe(
      'Task #3 finished by the API (token ci): Ship',
    );
    expect(TASK_TEXTS['zh-CN'].moved(3, 'done', '张三', '发布', undefined)).toBe(
      '任务 #3 已由 张三 完成：发布',
    );
  });

  it('words the state machine’s refusal in each language', () => {
    expect(TASK_TEXTS.en.cannotMove('done', 'cancelled')).toBe('cannot finish a task that is cancelled');
    expect(TASK_TEXTS['zh-CN'].cannotMove('done', 'cancelled')).toBe('任务已取消，不能完成');
  });
});
