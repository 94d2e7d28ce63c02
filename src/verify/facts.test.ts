import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../core/redact.js';
import { DEFAULT_LIMITS } from '../emulator/state.js';
import { agrees, expectedValue, FACTS, factById } from './facts.js';
import { emulatorSettingsFrom, redactReport } from './report.js';
import { parseEmulatorSettings, readEmulatorSettings, resolveSettings } from './settings.js';
import { CHECKS } from './suite.js';
import type { VerifyReport } from './types.js';

describe('the fact registry', () => {
  it('names real emulator settings, real checks, and says why each unobserved fact is not observed', () => {
    const checkIds = new Set(CHECKS.map((c) => c.id));
    for (const f of FACTS) {
      if (f.setting?.startsWith('limits.')) expect(Object.keys(DEFAULT_LIMITS)).toContain(f.setting.slice(7));
      if (f.setting === undefined) expect(f.fixed).toBeDefined();
      if (f.check) {
        expect(checkIds).toContain(f.check);
        // The check declares the fact, so a check that does not run marks it "not observed" with its reason.
        expect(CHECKS.find((c) => c.id === f.check)!.facts).toContain(f.id);
      } else expect(f.unobservable?.length).toBeGreaterThan(10);
    }
    expect(new Set(FACTS.map((f) => f.id)).size).toBe(FACTS.length);
  });

  it('reads the expected value from the settings compared against, defaults otherwise', () => {
    const f = factById('robot.unknownTokenErrcode');
    expect(expectedValue(f, resolveSettings())).toBe(300005);
    expect(expectedValue(f, resolveSettings({ limits: { unknownRobotErrcode: 400101 } }))).toBe(400101);
    expect(expectedValue(factById('todo.doneEventType'), resolveSettings({ todoDoneEventType: 'x' }))).toBe(
      'x',
    );
  });

  it('a token lifetime agrees within a minute (a token in use answers what is left of it), not beyond', () => {
    const f = factById('token.lifetime');
    expect(agrees(f, 7200, 7170)).toBe(true);
    expect(agrees(f, 7200, 7100)).toBe(false);
    expect(agrees(factById('auth.codeErrcode'), 40078, 40079)).toBe(false);
  });
});

describe('emulator settings', () => {
  it('refuses an unknown key and a non-integer value, naming the key', () => {
    expect(() => parseEmulatorSettings({ limits: { unknownRobotErrCode: 1 } })).toThrow(
      /limits: .*unknownRobotErrCode/i,
    );
    expect(() => parseEmulatorSettings({ limits: { otoMaxUsers: 1.5 } })).toThrow(/limits\.otoMaxUsers/);
    expect(() => parseEmulatorSettings({ extra: true })).toThrow(/extra|Unrecognized/);
    expect(parseEmulatorSettings({ limits: { otoMaxUsers: 100 } })).toEqual({ limits: { otoMaxUsers: 100 } });
  });

  it('a settings file that is not JSON is refused without echoing what it holds (a mistyped path to a secret)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-settings-'));
    try {
      const file = join(dir, 'wrong.env');
      writeFileSync(file, 'APP_SECRET=s3cr3t-value-0123456789\n');
      let message = '';
      try {
        readEmulatorSettings(file);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/wrong\.env: not JSON$/);
      expect(message).not.toContain('s3cr3t');
      expect(() => readEmulatorSettings(join(dir, 'missing.json'))).toThrow(/missing\.json: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are printed for every observed fact with a setting, lifetimes in whole minutes; fixed ones only noted', () => {
    const fact = (id: string, setting: string | null, observed: number | string | null, verdict: string) => ({
      id,
      title: id,
      doc: '',
      setting,
      emulator: 0,
      observed,
      verdict,
      detail: '',
    });
    const report = {
      facts: [
        fact('token.lifetime', 'limits.tokenTtlSec', 3598, 'differs'),
        fact('robot.unknownTokenErrcode', 'limits.unknownRobotErrcode', 300005, 'agrees'),
        fact('robot.throttleErrcode', 'limits.robotThrottleErrcode', null, 'not_observed'),
        fact('api.unknownRoute', null, '404 Other', 'differs'),
      ],
    } as unknown as VerifyReport;
    const { settings, fixedDifferences } = emulatorSettingsFrom(report);
    expect(settings).toEqual({ limits: { tokenTtlSec: 3600, unknownRobotErrcode: 300005 } });
    expect(fixedDifferences).toEqual(['api.unknownRoute: emulator 0, this org 404 Other']);
  });
});

describe('redactReport', () => {
  it('takes a secret out wherever DingTalk might have echoed it, and leaves the rest', () => {
    const secret = 'tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
    const report = {
      checks: [{ id: 'token', detail: `answered with ${secret}` }],
      leftovers: [{ what: 'Todo', to: 'me', reason: `removal failed: access_token=${secret}` }],
      facts: [{ id: 'x', observed: secret }],
    } as unknown as VerifyReport;
    // Twin: without the redactor the secret is there to be found.
    expect(JSON.stringify(redactReport(report, []))).toContain(secret);
    const out = JSON.stringify(redactReport(report, [new Redactor([secret])]));
    expect(out).not.toContain(secret);
    expect(out).toContain('removal failed');
  });
});
