import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import { configRedactor } from '../cli/secrets.js';
import { ConfigError } from '../core/errors.js';
import { loadConfig, parseConfig, usesEmulator } from './config.js';
import { defaultWorkers } from './delivery/start.js';

describe('hub config', () => {
  it('locale and timeZone: English and the system zone by default; an unknown one is refused by name', () => {
    const plain = parseConfig({}, {});
    expect(plain.locale).toBe('en');
    // Unset means the system's zone, resolved where times are shown (zoned-time.ts), so the demo can pick its own.
    expect(plain.timeZone).toBeUndefined();
    const cn = parseConfig({ locale: 'zh-CN', timeZone: 'Asia/Shanghai' }, {});
    expect([cn.locale, cn.timeZone]).toEqual(['zh-CN', 'Asia/Shanghai']);
    const zone = expectThrows(() => parseConfig({ timeZone: 'Asia/Shangai' }, {}), ConfigError);
    // The config never echoes a value (it could be a secret put in the wrong place): the key and what it needs.
    expect(zone.message).toMatch(/timeZone: unknown time zone .* \(an IANA name such as "Asia\/Shanghai"/);
    expect(() => parseConfig({ timeZone: '+08:00' }, {})).toThrow(/timeZone: unknown time zone/);
    const locale = expectThrows(() => parseConfig({ locale: 'zh' }, {}), ConfigError);
    expect(locale.message).toMatch(/locale: one of "en", "zh-CN"/);
  });

  it('task access: assignees only by default; a policy, admins and per-group leads when set; bad values named', () => {
    expect(parseConfig({}, {}).tasks.access).toEqual({ policy: 'assignees', admins: [], leads: {} });
    expect(parseConfig({ tasks: { pollMs: 50 } }, {}).tasks.access.policy).toBe('assignees');
    const cfg = parseConfig(
      { tasks: { access: { policy: 'group', admins: ['张三'], leads: { ops: ['alice'] } } } },
      {},
    );
    expect(cfg.tasks.access).toEqual({ policy: 'group', admins: ['张三'], leads: { ops: ['alice'] } });
    expect(() => parseConfig({ tasks: { access: { policy: 'everyone' } } }, {})).toThrow(
      /tasks\.access\.policy/,
    );
    expect(() => parseConfig({ tasks: { access: { admin: ['x'] } } }, {})).toThrow(/tasks\.access/);
  });

  it('tasks.mentionFallback: app by default; notice needs the app to have an agentId; unknown values refused', () => {
    expect(parseConfig({}, {}).tasks.mentionFallback).toBe('app');
    const app = { appKey: 'k', appSecret: 's' };
    expect(() => parseConfig({ apps: { hub: app }, tasks: { mentionFallback: 'notice' } }, {})).toThrow(
      /tasks\.mentionFallback: "notice" needs apps\.hub\.agentId/,
    );
    expect(
      parseConfig({ apps: { hub: { ...app, agentId: 1 } }, tasks: { mentionFallback: 'notice' } }, {}).tasks
        .mentionFallback,
    ).toBe('notice');
    expect(() => parseConfig({ tasks: { mentionFallback: 'sms' } }, {})).toThrow(/tasks\.mentionFallback/);
  });

  it('tasks.cards: on without a template (so off), answer empty; HTTP clicks need the apiSecret, which is redacted', () => {
    const plain = parseConfig({}, {}).tasks.cards;
    expect(plain).toEqual({ enabled: true, answer: 'empty', http: { routeKey: 'dingkit-tasks' } });
    expect(() => parseConfig({ tasks: { cards: { answer: 'inline' } } }, {})).toThrow(/tasks\.cards\.answer/);
    expect(() => parseConfig({ tasks: { cards: { template: 'x' } } }, {})).toThrow(/tasks\.cards/);
    const http = { inbound: { mode: 'http' }, tasks: { cards: { templateId: 'tpl.schema' } } };
    const missing = expectThrows(() => parseConfig(http, {}), ConfigError);
    expect(missing.message).toMatch(/tasks\.cards\.http\.apiSecret: needed to receive card clicks/);
    // Over Stream the clicks need no secret; with one, the HTTP route can be served, and the secret never shows.
    expect(parseConfig({ tasks: http.tasks }, {}).tasks.cards.templateId).toBe('tpl.schema');
    const cfg = parseConfig(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
      { ...http, tasks: { cards: { templateId: 'tpl.schema', http: { apiSecret: '${CARD_SECRET}' } } } },
      { CARD_SECRET: 'card-secret-0123456789' },
    );
    expect(cfg.tasks.cards.http).toEqual({ routeKey: 'dingkit-tasks', apiSecret: 'card-secret-0123456789' });
    expect(configRedactor(cfg).redact('x card-secret-0123456789 y')).not.toContain('card-secret-0123456789');
  });

  it('inbound: Stream by default; HTTP events take their token and AES key from the environment, never echoed, always redacted', () => {
    expect(parseConfig({}, {}).inbound).toEqual({
      mode: 'stream',
      http: { robot: true, sessionWebhookOrigins: [] },
    });
    const token = 'cbTokenCanary7';
    const aesKey = 'Zq7Xc0Vb9Nm8Lk2Jh4Gf6Ds1Aa3Ss5Dd7Ff9Gg0Hh2J';
    const cfg = parseConfig(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
      { inbound: { mode: 'http', http: { events: { token: '${CB_TOKEN}', aesKey: '${CB_AES}' } } } },
      { CB_TOKEN: token, CB_AES: aesKey },
    );
    expect(cfg.inbound.http.events).toEqual({ token, aesKey });
    const r = configRedactor(cfg);
    const line = r.redact(`token=${token} key=${aesKey}`);
    expect(line).not.toContain(token);
    expect(line).not.toContain(aesKey);
    // A malformed key is refused by name, without its value.
    const bad = `${aesKey.slice(0, 40)}-_!`;
    const e = expectThrows(
      () => parseConfig({ inbound: { mode: 'http', http: { events: { token, aesKey: bad } } } }, {}),
      ConfigError,
    );
    expect(e.message).toContain('inbound.http.events');
    expect(e.message).not.toContain(bad);
    expect(e.message).not.toContain(token);
    expect(() => parseConfig({ inbound: { mode: 'pull' } }, {})).toThrow(/inbound\.mode/);
  });

  it('defaults to the emulator and SQLite when nothing is configured', () => {
    const cfg = parseConfig({}, {});
    expect(usesEmulator(cfg)).toBe(true);
    expect(cfg.database.url).toBe('./data/dingkit.db');
    expect(cfg.dispatcher.robotBudget).toEqual({ limit: 19, windowMs: 60_000 });
  });

  it('names the bad key and never echoes a secret', () => {
    const secret = 'SEC-this-is-a-canary-secret-value';
    const msg = expectThrows(
      () => parseConfig({ robots: { ops: { webhook: 'x', secret } } }, {}),
      ConfigError,
    ).message;
    expect(msg).toContain('robots.ops.webhook');
    expect(msg).not.toContain(secret);
  });

  it("refuses a malformed webhook when the config loads, with the parser's reason and not the token", () => {
    const token = 'c0ffee'.repeat(10);
    for (const [webhook, reason] of [
      [`ftp://oapi.dingtalk.com/robot/send?access_token=${token}`, 'must be an http(s) URL'],
      ['https://oapi.dingtalk.com/robot/send?sign=abc', 'URL has no access_token'],
      [`${token} `, 'nor a bare robot token'],
    ] as const) {
      const msg = expectThrows(() => parseConfig({ robots: { ops: { webhook } } }, {}), ConfigError).message;
      expect(msg).toContain('robots.ops.webhook');
      expect(msg).toContain(reason);
      expect(msg).not.toContain(token);
    }
    expect(parseConfig({ robots: { ops: { webhook: token } } }, {}).robots['ops']!.webhook).toBe(token);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
  it('expands ${ENV} references and reports missing ones by key', () => {
    const cfg = parseConfig(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
      { apps: { main: { appKey: 'k', appSecret: '${APP_SECRET}' } } },
      { APP_SECRET: 'from-env' },
    );
    expect(cfg.apps['main']!.appSecret).toBe('from-env');
    expect(usesEmulator(cfg)).toBe(false);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
    expect(() => parseConfig({ apps: { main: { appKey: 'k', appSecret: '${NOPE}' } } }, {})).toThrow(
      /apps\.main\.appSecret: environment variable NOPE/,
    );
  });

  it('checks cross references between groups, apps and robots', () => {
    expect(() => parseConfig({ groups: { ops: { robot: 'ghost' } } }, {})).toThrow(/groups\.ops\.robot/);
  });

  it('loads YAML and layers the environment over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-cfg-'));
    writeFileSync(join(dir, 'dingkit.config.yaml'), 'server:\n  port: 9000\n');
    const { config, source } = loadConfig({
      dir,
      env: { DINGKIT_DATABASE_URL: 'postgres://x@127.0.0.1/db' },
    });
    expect(source).toContain('dingkit.config.yaml');
    expect(config.server.port).toBe(9000);
    expect(config.database.url).toBe('postgres://x@127.0.0.1/db');
  });

  it('rejects unknown keys so typos do not pass silently', () => {
    expect(() => parseConfig({ robts: {} }, {})).toThrow(/robts|Unrecognized/);
  });

  it('refuses a sender timeout that is not below the lease, naming both keys', () => {
    expect(() => parseConfig({ dispatcher: { leaseMs: 5_000, sendTimeoutMs: 5_000 } }, {})).toThrow(
      /dispatcher\.sendTimeoutMs: must be less than dispatcher\.leaseMs \(5000 ms\), got 5000 ms/,
    );
    expect(() => parseConfig({ dispatcher: { sendTimeoutMs: 60_000 } }, {})).toThrow(
      /must be less than dispatcher\.leaseMs \(30000 ms\)/,
    );
    expect(
      parseConfig({ dispatcher: { leaseMs: 5_000, sendTimeoutMs: 4_999 } }, {}).dispatcher.sendTimeoutMs,
    ).toBe(4_999);
  });

  it('derives the sender timeout from the lease when it is not set: 10 s, at most 80 % of the lease', () => {
    expect(parseConfig({}, {}).dispatcher.sendTimeoutMs).toBe(10_000);
    expect(parseConfig({ dispatcher: {} }, {}).dispatcher.sendTimeoutMs).toBe(10_000);
    expect(parseConfig({ dispatcher: { leaseMs: 1_500 } }, {}).dispatcher.sendTimeoutMs).toBe(1_200);
    expect(parseConfig({ dispatcher: { leaseMs: 5_000 } }, {}).dispatcher.sendTimeoutMs).toBe(4_000);
    expect(parseConfig({ dispatcher: { leaseMs: 120_000 } }, {}).dispatcher.sendTimeoutMs).toBe(10_000);
  });

  it('retention keeps a week by default and refuses less than the 24 h windows', () => {
    expect(parseConfig({}, {}).retention).toEqual({
      deliveriesMs: 604_800_000,
      inboxMs: 604_800_000,
      everyMs: 3_600_000,
    });
    expect(parseConfig({ retention: { everyMs: 0 } }, {}).retention.everyMs).toBe(0);
    expect(() => parseConfig({ retention: { deliveriesMs: 3_600_000 } }, {})).toThrow(
      /retention\.deliveriesMs: must be at least 86400000/,
    );
    expect(() => parseConfig({ retention: { inboxMs: 1 } }, {})).toThrow(
      /retention\.inboxMs: must be at least/,
    );
  });

  it('orders nothing by default; a group or the people default opts in', () => {
    const plain = parseConfig({}, {});
    expect(plain.ordering).toEqual({ groups: false, people: false });
    const cfg = parseConfig(
      {
        robots: { r: { webhook: 'a'.repeat(40) } },
        groups: { ops: { robot: 'r', ordered: true } },
        ordering: { people: true },
      },
      {},
    );
    expect(cfg.groups['ops']?.ordered).toBe(true);
    expect(cfg.ordering).toEqual({ groups: false, people: true });
    expect(() => parseConfig({ ordering: { everything: true } }, {})).toThrow(/ordering/);
  });

  it('sends with one worker per custom robot when there are more than 8, at most 256', () => {
    const robots = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, { webhook: `token-${i}-xxxxxxxx` }]));
    expect(defaultWorkers(parseConfig({}, {}))).toBe(8);
    expect(defaultWorkers(parseConfig({ robots: robots(50) }, {}))).toBe(50);
    expect(defaultWorkers(parseConfig({ robots: robots(300) }, {}))).toBe(256);
    // An explicit setting wins (delivery.ts uses it as given).
    expect(parseConfig({ dispatcher: { workers: 4 } }, {}).dispatcher.workers).toBe(4);
  });
});
