/**
 * Regular-expression denial of service: text from API callers and people runs through the hub's
 * regexes (message splitting, chat commands, @mention stripping, templates). A backtracking pattern turns one large
 * request into seconds of a blocked event loop, during which the hub answers nothing and acks no Stream push. Each
 * input is built to hit the worst case of its pattern; the budget is generous (the quadratic cases take seconds,
 * the linear ones milliseconds), so the test stays stable on a loaded machine.
 */

import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/hub/inbound/commands.js';
import { splitMessage } from '../../src/hub/messages/split.js';
import { renderTemplate } from '../../src/hub/messages/template.js';

const BUDGET_MS = 500;

function timed(f: () => unknown): number {
  const started = performance.now();
  try {
    f();
  } catch {
    // Refusals are fine: only the time matters here.
  }
  return performance.now() - started;
}

describe('no catastrophic backtracking on hostile text', () => {
  it('attack: splitMessage on a long run of tabs ending in a word (no separator to cut at) → linear', () => {
    // Before: the part was trimmed with /\s+$/, which retries from every whitespace position (~7 s here).
    const chunk = `${'\t'.repeat(59_900)}${'x'.repeat(100)}`;
    let parts: string[] = [];
    const ms = timed(() => {
      parts = splitMessage(chunk.repeat(3), 60_000);
    });
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(parts.join('')).toBe(chunk.repeat(3).trimEnd());
  });

  it('held: chat commands, @mention stripping and templates on 200k-character inputs', () => {
    const cases: [string, () => unknown][] = [
      ['command: one long word', () => parseCommand(`${'a'.repeat(200_000)} 1x`)],
      ['command: verb, spaces, no id', () => parseCommand(`done${' '.repeat(200_000)}x`)],
      ['mentions: @ without spaces', () => parseCommand('@'.repeat(200_000))],
      ['mentions: many @a', () => parseCommand('@a '.repeat(70_000))],
      ['template: {{ and spaces, never closed', () => renderTemplate(`{{${' '.repeat(200_000)}a`, {})],
      ['template: a long dotted path, never closed', () => renderTemplate(`{{a${'.a'.repeat(100_000)} `, {})],
      ['template: many {{', () => renderTemplate('{{'.repeat(100_000), {})],
    ];
    for (const [name, f] of cases) expect(timed(f), name).toBeLessThan(BUDGET_MS);
  });
});
