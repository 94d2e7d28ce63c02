import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../hub/config.js';
import { ImportError, importPrometheusWebhookDingtalk } from './prometheus-webhook-dingtalk.js';

const DIR = join(import.meta.dirname, '../../../test/fixtures/prometheus-webhook-dingtalk');
const read = (n: string) => readFileSync(join(DIR, n), 'utf8');
const people = (parseYaml(read('people.yml')) as { people: Record<string, { mobile?: string }> }).people;
const token = () => 'generated-hook-token-0123456789';
/** `${NAME}`, as the fragment writes an environment reference. */
const ref = (name: string) => `\${${name}}`;

describe('import prometheus-webhook-dingtalk', () => {
  it('a real-looking v2 config: one robot, group and alertmanager route per target, the old URL as alias', () => {
    const r = importPrometheusWebhookDingtalk(read('config.yml'), { people, token });
    expect(Object.keys(r.config.robots)).toEqual(['ops-critical', 'webhook_mention_users', 'webhook_legacy']);
    expect(r.config.robots['ops-critical']).toEqual({
      webhook: ref('OPS_CRITICAL_ROBOT_WEBHOOK'),
      secret: ref('OPS_CRITICAL_ROBOT_SECRET'),
    });
    expect(r.config.robots.webhook_legacy).toEqual({ webhook: ref('WEBHOOK_LEGACY_ROBOT_WEBHOOK') });
    expect(r.config.groups['ops-critical']).toEqual({ robot: 'ops-critical' });
    const [crit, users, legacy] = r.config.gateways.routes;
    expect(crit).toEqual({
      name: 'ops-critical',
      kind: 'alertmanager',
      auth: { type: 'bearer', token: ref('OPS_CRITICAL_HOOK_TOKEN') },
      alias: { target: 'ops-critical', allowFrom: [] },
      targets: { groups: ['ops-critical'] },
      mentions: { always: ['all'] },
    });
    // The mobile +86 138-0000-0001 is zhangsan's (张三) in the people file; the other is no one.
    expect(users?.mentions).toEqual({ always: ['zhangsan'] });
    expect(legacy?.mentions).toBeUndefined();
    expect(users?.name).toBe('webhook_mention_users');
  });

  it('lists exactly what it could not carry', () => {
    const r = importPrometheusWebhookDingtalk(read('config.yml'), { people, token });
    expect(r.notCarried.map((n) => n.path)).toEqual([
      'timeout',
      'templates: /etc/prometheus-webhook-dingtalk/templates/ops.tmpl',
      'templates: contrib/templates/legacy/template.tmpl',
      'default_message.title',
      'default_message.text',
      'targets.ops-critical.mention',
      'targets.webhook_mention_users.mention.mobiles.1',
      'targets.webhook_mention_users.mention',
      // The title is the old built-in one (dingkit's built-in replaces it); the text is a custom Go template.
      'targets.webhook_mention_users.message.text',
      'targets.webhook_legacy.retries',
    ]);
    const mobile = r.notCarried.find((n) => n.path.endsWith('mobiles.1'));
    expect(mobile?.reason).toContain('13900139000 is no one in the people directory');
    // Without a people file, both mobiles are listed.
    const bare = importPrometheusWebhookDingtalk(read('config.yml'), { token });
    expect(bare.notCarried.filter((n) => n.path.includes('.mobiles.'))).toHaveLength(2);
    expect(bare.config.gateways.routes[1]?.mentions).toBeUndefined();
  });

  it('secrets only as environment references: the values are returned apart, and none is in the fragment or the notes', () => {
    const source = read('config.yml');
    const r = importPrometheusWebhookDingtalk(source, { people, token });
    const values = [...source.matchAll(/access_token=([0-9a-f]+)|(SEC[0-9a-f]+)/g)].map((m) => m[1] ?? m[2]!);
    expect(values).toHaveLength(4);
    const shown = JSON.stringify({ config: r.config, notCarried: r.notCarried });
    for (const v of [...values, token()]) expect(shown).not.toContain(v);
    expect(r.secrets.map((s) => s.env)).toEqual([
      'OPS_CRITICAL_ROBOT_WEBHOOK',
      'OPS_CRITICAL_ROBOT_SECRET',
      'OPS_CRITICAL_HOOK_TOKEN',
      'WEBHOOK_MENTION_USERS_ROBOT_WEBHOOK',
      'WEBHOOK_MENTION_USERS_HOOK_TOKEN',
      'WEBHOOK_LEGACY_ROBOT_WEBHOOK',
      'WEBHOOK_LEGACY_HOOK_TOKEN',
    ]);
    // Twin: the values are all there, apart (so the check above looked at the right strings).
    const apart = JSON.stringify(r.secrets);
    for (const v of values) expect(apart).toContain(v);
  });

  it('the fragment with its environment is a dingkit config the hub accepts', () => {
    const r = importPrometheusWebhookDingtalk(read('config.yml'), { people, token, allowFrom: ['10.0.3.7'] });
    const env = Object.fromEntries(r.secrets.map((s) => [s.env, s.value]));
    const cfg = parseConfig({ ...r.config, people }, env);
    expect(cfg.robots['ops-critical']?.secret).toMatch(/^SEC/);
    expect(cfg.gateways.routes.map((x) => x.alias)).toEqual([
      { target: 'ops-critical', allowFrom: ['10.0.3.7'] },
      { target: 'webhook_mention_users', allowFrom: ['10.0.3.7'] },
      { target: 'webhook_legacy', allowFrom: ['10.0.3.7'] },
    ]);
    expect(cfg.gateways.routes[0]?.auth).toMatchObject({ type: 'bearer', token: token() });
  });

  it('malformed: an error names the line and never quotes it (the line holds a token)', () => {
    const source = read('malformed.yml');
    let e: unknown;
    try {
      importPrometheusWebhookDingtalk(source, { token });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ImportError);
    const message = (e as Error).message;
    expect(message).toMatch(/^not valid YAML at line \d+, column \d+ \(/);
    expect(message).not.toContain('5a5a5a5a');
    expect(message).not.toContain('SEC0000');
  });

  it('configs the old tool refuses too: no targets, a bad target name, a target without url', () => {
    const fails = (source: string) => {
      try {
        importPrometheusWebhookDingtalk(source, { token });
      } catch (e) {
        if (e instanceof ImportError) return e.message;
        throw e;
      }
      throw new Error('imported');
    };
    expect(fails(read('no-targets.yml'))).toBe('no `targets:` in the file: nothing to import');
    expect(fails(read('bad-target.yml'))).toMatch(
      /^targets\.1st-team: not a valid target name .*\(line 2\)$/,
    );
    expect(fails('targets:\n  a:\n    secret: SECabc\n')).toMatch(/^targets\.a\.url: required/);
    expect(fails('- a\n- b\n')).toContain('not a YAML mapping');
  });

  it('a url dingkit cannot send to skips that target with the reason, never the value', () => {
    const r = importPrometheusWebhookDingtalk(
      'targets:\n  a:\n    url: https://example.com/hook?token=abcdef0123456789\n  b:\n    url: https://oapi.dingtalk.com/robot/send?access_token=00ff00ff00ff00ff\n',
      { token },
    );
    expect(r.config.gateways.routes.map((x) => x.name)).toEqual(['b']);
    expect(r.notCarried[0]).toMatchObject({
      path: 'targets.a.url',
      reason: expect.stringContaining('access_token'),
    });
    expect(JSON.stringify(r.notCarried)).not.toContain('abcdef0123456789');
  });
});
