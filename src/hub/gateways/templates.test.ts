/**
 * The template fences, each written as the attack: reading a file from disk, climbing out of the allow-listed
 * directory (by path and by symlink), an endless loop, a huge output, prototype access. Each must fail or read
 * nothing; the built-in template then carries the alert.
 */

import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectThrows } from '../../../test/support/expect-throws.js';
import { ConfigError } from '../../core/errors.js';
import { HookTemplates, readTemplateDir } from './templates.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'dingkit-tpl-'));
  dirs.push(d);
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

const SECRET_TEXT = 'TOP-SECRET-CONTENT-42';
const ctx = {
  item: { labels: { alertname: 'DiskFull' }, annotations: {} },
  labels: [],
  since: '',
  flaps: 0,
  mentions: '',
};

describe('template fences', () => {
  it('{% include %} / {% render %} cannot read a file from disk by absolute or relative path', async () => {
    const outside = tempDir({ 'secret.liquid': SECRET_TEXT });
    const t = new HookTemplates({ locale: 'en', files: readTemplateDir(tempDir({ 'ok.liquid': 'ok' })) });
    for (const src of [
      `{% include '${join(outside, 'secret.liquid')}' %}`,
      `{% render '${join(outside, 'secret.liquid')}' %}`,
      "{% include '../secret.liquid' %}",
      "{% render '/etc/passwd' %}",
      "{% layout '/etc/hostname' %}x",
    ]) {
      const e = await expectThrows(() => t.renderSource(src, {}));
      expect((e as Error).message).not.toContain(SECRET_TEXT);
    }
    // The allow-listed directory's own files are reachable by name.
    expect(await t.renderSource("{% include 'ok.liquid' %}", {})).toBe('ok');
  });

  it('a symlink in the allow-listed directory is not followed', () => {
    const outside = tempDir({ 'secret.liquid': SECRET_TEXT });
    const d = tempDir({ 'fine.liquid': 'fine' });
    symlinkSync(join(outside, 'secret.liquid'), join(d, 'link.liquid'));
    const files = readTemplateDir(d);
    expect([...files.keys()]).toEqual(['fine.liquid']);
    expect([...files.values()].join()).not.toContain(SECRET_TEXT);
  });

  it('an endless loop is stopped by the render time limit', async () => {
    const t = new HookTemplates({ locale: 'en', limits: { renderLimit: 100 } });
    const started = Date.now();
    const e = await expectThrows(() =>
      t.renderSource('{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}', {}),
    );
    expect((e as Error).message).toMatch(/limit/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a huge output is stopped (memory limit, then the output cap)', async () => {
    const t = new HookTemplates({ locale: 'en' });
    const e = await expectThrows(() =>
      t.renderSource('{% for i in (1..100000000) %}xxxxxxxxxxxxxxxx{% endfor %}', {}),
    );
    expect((e as Error).message).toMatch(/limit/);
    const capped = new HookTemplates({ locale: 'en', limits: { maxOutput: 1_000 } });
    const e2 = await expectThrows(() =>
      capped.renderSource('{% for i in (1..200) %}xxxxxxxxxx{% endfor %}', {}),
    );
    expect((e2 as Error).message).toMatch(/over 1000 characters/);
  });

  it('prototype properties read nothing', async () => {
    const t = new HookTemplates({ locale: 'en' });
    const out = await t.renderSource(
      '[{{ labels.constructor }}][{{ labels.__proto__ }}][{{ labels.toString }}][{{ labels.a }}]',
      { labels: { a: 'b' } },
    );
    expect(out).toBe('[][][][b]');
  });

  it('an override that fails at render time falls back to the built-in template (the alert is not lost)', async () => {
    const d = tempDir({ 'firing.liquid': "{% include 'missing.liquid' %}" });
    const t = new HookTemplates({
      locale: 'en',
      files: readTemplateDir(d),
      use: { firing: 'firing.liquid' },
    });
    const r = await t.render('firing', ctx);
    expect(r.text).toContain('FIRING: DiskFull');
    expect(r.fallback?.error).toMatch(/missing\.liquid/);
  });

  it('an override with a syntax error, or naming a file that is not there, stops the start', () => {
    const d = tempDir({ 'bad.liquid': '{% if %}' });
    expect(
      () => new HookTemplates({ locale: 'en', files: readTemplateDir(d), use: { firing: 'bad.liquid' } }),
    ).toThrow(ConfigError);
    expect(
      () => new HookTemplates({ locale: 'en', files: readTemplateDir(d), use: { digest: 'nope.liquid' } }),
    ).toThrow(/no file "nope.liquid"/);
  });

  it('the built-in templates speak the hub’s language', async () => {
    const zh = await new HookTemplates({ locale: 'zh-CN' }).render('firing', ctx);
    expect(zh.text).toContain('告警触发：DiskFull');
    expect(zh.title).toBe('[告警] DiskFull');
    const en = await new HookTemplates({ locale: 'en' }).render('resolved', {
      ...ctx,
      until: 'now',
      firing: { at: '2026-12-05 10:00 (UTC+08:00)' },
    });
    expect(en.text).toContain('re: the alert posted at 2026-12-05 10:00');
  });
});
