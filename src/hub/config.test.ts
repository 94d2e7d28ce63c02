import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, usesEmulator } from './config.js';

describe('hub config', () => {
  it('defaults to the emulator and SQLite when nothing is configured', () => {
    const cfg = parseConfig({}, {});
    expect(usesEmulator(cfg)).toBe(true);
    expect(cfg.database.url).toBe('./data/dingkit.db');
    expect(cfg.dispatcher.robotBudget).toEqual({ limit: 19, windowMs: 60_000 });
  });

  it('names the bad key and never echoes a secret', () => {
    const secret = 'SEC-this-is-a-canary-secret-value';
    try {
      parseConfig({ robots: { ops: { webhook: 'x', secret } } }, {});
      expect.unreachable();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('robots.ops.webhook');
      expect(msg).not.toContain(secret);
    }
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
});
