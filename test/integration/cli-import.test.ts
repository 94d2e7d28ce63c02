/**
 * `dingkit import prometheus-webhook-dingtalk` as a user runs it: the fragment on stdout, what could not be carried
 * on stderr, the secrets only in the file the user named (mode 0600, never overwritten), and no secret anywhere in
 * what is printed, also when the old config is malformed. Exit codes per src/cli/exit-codes.ts.
 */

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/hub/config.js';
import { tempDir } from '../e2e/hub-helpers.js';
import { runCliInProcess } from '../support/cli-in-process.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'prometheus-webhook-dingtalk');
const CONFIG = join(FIXTURES, 'config.yml');
/** Every secret in the fixture: the robots' access tokens and the sign secret. */
const SECRETS = [...readFileSync(CONFIG, 'utf8').matchAll(/access_token=([0-9a-f]+)|(SEC[0-9a-f]+)/g)].map(
  (m) => m[1] ?? m[2]!,
);

const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('dingkit import prometheus-webhook-dingtalk', () => {
  it('prints the fragment and what was not carried; secrets only in the 0600 file; the result starts a hub config', async () => {
    const d = tempDir();
    dirs.push(d);
    const secrets = join(d.dir, 'dingkit.env');
    const r = await runCliInProcess([
      'import',
      'prometheus-webhook-dingtalk',
      CONFIG,
      '--secrets-file',
      secrets,
      '--people',
      join(FIXTURES, 'people.yml'),
      '--allow-from',
      '10.0.3.7',
    ]);
    expect(r.stderr).toContain('Not carried (10):');
    expect(r.code).toBe(0);
    expect(SECRETS).toHaveLength(4);
    for (const s of SECRETS) {
      expect(r.stdout).not.toContain(s);
      expect(r.stderr).not.toContain(s);
    }
    expect(r.stderr).toContain('templates: /etc/prometheus-webhook-dingtalk/templates/ops.tmpl');
    expect(r.stderr).toContain('13900139000 is no one in the people directory');
    expect(r.stderr).toContain('take requests from 10.0.3.7 without credentials');
    const fragment = parseYaml(r.stdout) as Record<string, unknown>;
    expect(Object.keys(fragment)).toEqual(['robots', 'groups', 'gateways']);

    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const env = envFile(readFileSync(secrets, 'utf8'));
    // Twin of the "not printed" checks: every secret is in the file.
    for (const s of SECRETS) expect(Object.values(env).join('\n')).toContain(s);
    expect(env.OPS_CRITICAL_HOOK_TOKEN).toMatch(/^[0-9a-f]{48}$/);
    // The fragment, its environment and a people section make a config the hub accepts.
    const people = (parseYaml(readFileSync(join(FIXTURES, 'people.yml'), 'utf8')) as { people: unknown })
      .people;
    const cfg = parseConfig({ ...fragment, people }, env);
    expect(cfg.gateways.routes.map((x) => [x.name, x.alias?.target, x.mentions.always])).toEqual([
      ['ops-critical', 'ops-critical', ['all']],
      ['webhook_mention_users', 'webhook_mention_users', ['zhangsan']],
      ['webhook_legacy', 'webhook_legacy', []],
    ]);

    // Never overwritten: a second run into the same file is a conflict (7), and the file is unchanged.
    const before = readFileSync(secrets, 'utf8');
    const again = await runCliInProcess([
      'import',
      'prometheus-webhook-dingtalk',
      CONFIG,
      '--secrets-file',
      secrets,
    ]);
    expect(again.code).toBe(7);
    expect(readFileSync(secrets, 'utf8')).toBe(before);
  });

  it('without a secrets file: names the variables to set, prints no value; --json likewise', async () => {
    const r = await runCliInProcess(['import', 'prometheus-webhook-dingtalk', CONFIG]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('OPS_CRITICAL_ROBOT_WEBHOOK  the value of targets.ops-critical.url in');
    expect(r.stderr).toContain('OPS_CRITICAL_HOOK_TOKEN  a new random token');
    expect(r.stderr).toContain('add http_config.authorization (Bearer,');
    const json = await runCliInProcess(['--json', 'import', 'prometheus-webhook-dingtalk', CONFIG]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      env: Array<{ name: string }>;
      notCarried: Array<{ path: string }>;
    };
    expect(doc.env.map((e) => e.name)).toContain('WEBHOOK_LEGACY_ROBOT_WEBHOOK');
    // No people file: both mobiles are no one, so that target mentions nobody.
    expect(
      doc.notCarried.map((n) => n.path).filter((p) => p.includes('webhook_mention_users.mention')),
    ).toEqual([
      'targets.webhook_mention_users.mention.mobiles.0',
      'targets.webhook_mention_users.mention.mobiles.1',
    ]);
    for (const s of SECRETS) {
      expect(r.stdout + r.stderr + json.stdout + json.stderr).not.toContain(s);
    }
  });

  it('malformed, missing, misused: clear errors with their exit codes, and no secret in them', async () => {
    const d = tempDir();
    dirs.push(d);
    const bad = await runCliInProcess([
      'import',
      'prometheus-webhook-dingtalk',
      join(FIXTURES, 'malformed.yml'),
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/malformed\.yml: not valid YAML at line \d+, column \d+/);
    expect(bad.stdout + bad.stderr).not.toContain('5a5a5a5a');
    expect(bad.stdout + bad.stderr).not.toContain('SEC0000');

    const none = await runCliInProcess(['import', 'prometheus-webhook-dingtalk', join(d.dir, 'nope.yml')]);
    expect(none.code).toBe(6);
    expect((await runCliInProcess(['import', 'other-tool', CONFIG])).code).toBe(2);
    expect((await runCliInProcess(['import', 'prometheus-webhook-dingtalk'])).code).toBe(2);
    const wide = await runCliInProcess([
      'import',
      'prometheus-webhook-dingtalk',
      CONFIG,
      '--allow-from',
      '0.0.0.0/0',
    ]);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toContain('lets nearly anyone in');

    // Every target unusable: nothing to import is an error, with the reason and without the value.
    const only = join(d.dir, 'only-bad.yml');
    writeFileSync(only, 'targets:\n  a:\n    url: https://example.com/x?token=feedfacecafebeef\n');
    const r = await runCliInProcess(['import', 'prometheus-webhook-dingtalk', only]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no target could be imported');
    expect(r.stderr).not.toContain('feedfacecafebeef');
  });
});
