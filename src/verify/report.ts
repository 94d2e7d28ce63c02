/**
 * What `dingkit verify` prints: the human report (checks, facts with the emulator's value, this org's answer and a
 * verdict, what was removed and what was left behind), and the emulator settings that would make the emulator
 * answer like this org (`--emulator-settings`), which `dingkit emulator --settings FILE` and `startEmulator` take.
 */

import { table } from '../cli/io.js';
import type { FactValue } from './facts.js';
import type { EmulatorSettings } from './settings.js';
import type { CheckStatus, Verdict, VerifyReport } from './types.js';

const MARK: Record<CheckStatus, string> = { ok: '✔', failed: '✘', could_not_run: '!', skipped: '-' };
const VERDICT: Record<Verdict, string> = {
  agrees: 'agrees',
  differs: 'DIFFERS',
  not_observed: 'not observed',
};

const show = (v: FactValue | null) => (v === null ? '-' : String(v));

/** Lifetimes are set in whole minutes: an answer a few seconds short is the same lifetime (facts.ts tolerance). */
function settingValue(setting: string, v: FactValue): FactValue {
  return setting === 'limits.tokenTtlSec' && typeof v === 'number' ? Math.round(v / 60) * 60 : v;
}

/**
 * The settings that make the emulator answer as observed: every observed fact that has a setting, agreeing or not
 * (a file that states them stays right when a default changes). Facts fixed in the emulator's code cannot be set;
 * `fixedDifferences` lists those that differ.
 */
export function emulatorSettingsFrom(report: VerifyReport): {
  settings: EmulatorSettings;
  fixedDifferences: string[];
} {
  const limits: Record<string, number> = {};
  const settings: EmulatorSettings = {};
  const fixedDifferences: string[] = [];
  for (const f of report.facts) {
    if (f.observed === null) continue;
    if (f.setting === null) {
      if (f.verdict === 'differs')
        fixedDifferences.push(`${f.id}: emulator ${show(f.emulator)}, this org ${show(f.observed)}`);
      continue;
    }
    const v = settingValue(f.setting, f.observed);
    if (f.setting === 'todoDoneEventType') settings.todoDoneEventType = String(v);
    else if (typeof v === 'number') limits[f.setting.slice('limits.'.length)] = v;
  }
  if (Object.keys(limits).length) settings.limits = limits;
  return { settings, fixedDifferences };
}

export function renderReport(r: VerifyReport): string {
  const out: string[] = [];
  out.push(`dingkit verify ${r.runId} against ${r.target.oapiBase} and ${r.target.apiBase} (${r.mode})`, '');
  out.push(
    table(
      ['', 'check', 'result'],
      r.checks.map((c) => [
        MARK[c.status],
        c.id,
        c.status === 'ok' ? c.detail : `${c.status.replace(/_/g, ' ')}: ${c.detail}`,
      ]),
    ),
    '',
  );
  out.push(
    table(
      ['fact', 'emulator', 'this org', 'verdict', 'how / why not'],
      r.facts.map((f) => [f.id, show(f.emulator), show(f.observed), VERDICT[f.verdict], f.detail]),
    ),
    '',
  );
  if (r.removed.length) out.push(`removed: ${r.removed.map((x) => `${x.what} → ${x.to}`).join('; ')}`);
  if (r.leftovers.length) {
    out.push('left behind:');
    for (const l of r.leftovers) out.push(`  ${l.what} → ${l.to}: ${l.reason}`);
  }
  const s = r.summary;
  out.push(
    '',
    `${s.checks.ok} ok, ${s.checks.failed} failed, ${s.checks.could_not_run} could not run, ${s.checks.skipped} skipped; ` +
      `facts: ${s.agrees} agree, ${s.differs} differ, ${s.notObserved} not observed`,
  );
  if (s.differs > 0)
    out.push(
      'differences: dingkit verify --emulator-settings prints the emulator settings for this org; --json for an issue report',
    );
  return out.join('\n');
}

/**
 * The report with every secret taken out by value, wherever it sits (a detail, a reason, an observed value): the
 * config's secrets and the tokens the run was handed. The last net before anything is printed.
 */
export function redactReport(
  report: VerifyReport,
  redactors: ReadonlyArray<{ redact(text: string): string }>,
): VerifyReport {
  let text = JSON.stringify(report);
  for (const r of redactors) text = r.redact(text);
  return JSON.parse(text) as VerifyReport;
}
