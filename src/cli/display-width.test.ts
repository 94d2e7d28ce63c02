import { describe, expect, it } from 'vitest';
import { displayWidth, padEndDisplay } from './display-width.js';
import { table } from './io.js';

describe('display width', () => {
  it('counts CJK, kana, Hangul, full-width forms and emoji as two columns', () => {
    expect(displayWidth('Alice')).toBe(5);
    expect(displayWidth('张三')).toBe(4);
    expect(displayWidth('ひらがなカタカナ')).toBe(16);
    expect(displayWidth('한국')).toBe(4);
    expect(displayWidth('ＡＢ１')).toBe(6);
    expect(displayWidth('完成，谢谢！')).toBe(12);
    expect(displayWidth('ok 👍')).toBe(5);
    expect(displayWidth('𠀋')).toBe(2); // beyond the BMP (extension B)
  });

  it('counts combining marks and zero-width characters as nothing', () => {
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('a\u200bb')).toBe(2);
    expect(displayWidth('')).toBe(0);
  });

  it('pads by columns, never cutting', () => {
    expect(padEndDisplay('张三', 6)).toBe('张三  ');
    expect(padEndDisplay('Bob', 6)).toBe('Bob   ');
    expect(padEndDisplay('张三丰', 4)).toBe('张三丰');
  });
});

describe('tables with Chinese names', () => {
  it('lines up every column after a cell of Chinese text', () => {
    const out = table(
      ['ID', 'ASSIGNEES', 'STATE', 'TITLE'],
      [
        ['#1', '张三, 李四', 'open', '发布 2.0'],
        ['#22', 'Alice Chen', 'done', 'Write notes'],
        ['#3', '王五', 'in_progress', '审核合同'],
      ],
    );
    const lines = out.split('\n');
    // The STATE column starts at the same display column on every line.
    const col = (line: string, cell: string) => displayWidth(line.slice(0, line.indexOf(cell)));
    expect(lines.map((l, i) => col(l, ['STATE', 'open', 'done', 'in_progress'][i]!))).toEqual([
      17, 17, 17, 17,
    ]);
    expect(lines.map((l, i) => col(l, ['TITLE', '发布', 'Write', '审核'][i]!))).toEqual([30, 30, 30, 30]);
  });
});
