import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBytes, ProgressBar } from './progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const s = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  s.isTTY = isTTY;
  s.columns = 100;
  return { s, chunks };
}

describe('ProgressBar', () => {
  it('draws on a TTY, throttled, always drawing the final state, and clears its line', () => {
    const { s, chunks } = sink(true);
    let now = 0;
    const bar = new ProgressBar(s, { total: 10, label: 'sending', intervalMs: 100, now: () => now });
    bar.tick();
    bar.tick();
    now = 50;
    bar.tick();
    expect(chunks).toHaveLength(1);
    now = 200;
    bar.tick();
    expect(chunks.at(-1)).toContain(`sending ${'█'.repeat(10)}${'░'.repeat(14)}  40% 4/10`);
    bar.update(10);
    expect(chunks.at(-1)).toContain('100% 10/10');
    bar.finish();
    expect(chunks.at(-1)).toBe('\r\u001b[2K');
  });

  it('writes nothing off a TTY (pipes and CI logs)', () => {
    const { s, chunks } = sink(false);
    const bar = new ProgressBar(s, { total: 3, label: 'x' });
    bar.tick();
    bar.update(3);
    bar.finish();
    expect(bar.enabled).toBe(false);
    expect(chunks).toEqual([]);
  });

  it('shows bytes for uploads', () => {
    const { s } = sink(true);
    const bar = new ProgressBar(s, { total: 3 * 1024 * 1024, label: 'up', bytes: true });
    bar.update(1024 * 1024);
    expect(bar.render()).toMatch(/ 33% 1\.0 MiB\/3\.0 MiB$/);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
  });
});
