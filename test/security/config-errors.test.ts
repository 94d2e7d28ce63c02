/**
 * Config errors: a config error names the file, the line and the key, and never the value. Parsers quote the
 * offending source line (yaml's errors show it with a caret, V8's JSON.parse quotes the text around the error),
 * and that line may be the one holding a secret.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/hub/config.js';

const dir = mkdtempSync(join(tmpdir(), 'dingkit-cfgerr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'S3cr3tCanaryValue9f2b';

function failure(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  try {
    loadConfig({ path, env: {} });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the config loaded');
}

describe('config errors name file, line and key, never the value', () => {
  it('YAML syntax error on the line with the secret', () => {
    const m = failure(
      'broken.yaml',
      ['apps:', '  main:', '    appKey: dingkeyabc', `    appSecret: "${SECRET}`, '    agentId: 42', ''].join(
        '\n',
      ),
    );
    expect(m).toContain(join(dir, 'broken.yaml'));
    expect(m).toMatch(/:4\b|line 4/);
    expect(m).toContain('apps.main.appSecret');
    expect(m).not.toContain(SECRET);
    expect(m).not.toContain(SECRET.slice(0, 8));
  });

  it('YAML: a bad indentation after the secret', () => {
    const m = failure(
      'indent.yml',
      [
        'robots:',
        '  ops:',
        `    webhook: https://oapi.dingtalk.com/robot/send?access_token=${SECRET}`,
        '   secret: SECabc',
        '',
      ].join('\n'),
    );
    expect(m).toContain(join(dir, 'indent.yml'));
    expect(m).not.toContain(SECRET.slice(0, 8));
    expect(m).toMatch(/line \d+/);
  });

  it('JSON syntax error next to the secret', () => {
    const m = failure(
      'broken.json',
      `{\n  "robots": {\n    "ops": {\n      "webhook": "https://oapi.dingtalk.com/robot/send?access_token=${SECRET}",\n    }\n  }\n}\n`,
    );
    expect(m).toContain(join(dir, 'broken.json'));
    expect(m).toMatch(/line 5/);
    expect(m).toContain('robots.ops');
    expect(m).not.toContain(SECRET.slice(0, 8));
  });

  it('a value the schema refuses: file, line and key; not the value', () => {
    const m = failure('enum.yaml', ['dispatcher:', '  pollMs: 100', `  ambiguous: ${SECRET}`, ''].join('\n'));
    expect(m).toContain(join(dir, 'enum.yaml'));
    expect(m).toMatch(/line 3/);
    expect(m).toContain('dispatcher.ambiguous');
    expect(m).not.toContain(SECRET.slice(0, 8));
  });

  it('a JSON value of the wrong kind: the line of its key', () => {
    const m = failure('type.json', `{\n  "server": {\n    "port": "${SECRET}"\n  }\n}\n`);
    expect(m).toMatch(/line 3/);
    expect(m).toContain('server.port');
    expect(m).not.toContain(SECRET.slice(0, 8));
  });
});
