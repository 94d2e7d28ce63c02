/**
 * `dingkit verify`: runs the contract suite (src/verify, docs/verify.md) against the DingTalk the config points at,
 * and reports, for every fact the emulator treats as a setting, what this org's DingTalk answered. Without
 * `--group` / `--me` it only makes read-only calls. With them it lists exactly what it will send and to whom and
 * asks first (`--yes` skips the question; with no terminal and no `--yes` it stays read-only).
 */

import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { isDingTalkError } from '../core/errors.js';
import { usesEmulator } from '../hub/config.js';
import { emulatorSettingsFrom, redactReport, renderReport } from '../verify/report.js';
import { readEmulatorSettings } from '../verify/settings.js';
import { runVerify, verifyEnv, writePlan } from '../verify/suite.js';
import type { VerifyReport } from '../verify/types.js';
import { type CliContext, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import type { CliIo } from './io.js';
import { configRedactor } from './secrets.js';
import { VERSION } from './version.js';

export const verifyHelp = `Usage: dingkit verify [--group ALIAS] [--me PERSON [--todo-event SECONDS]] [--yes] [--settings FILE] [--emulator-settings]

Checks the emulator's contract against the DingTalk of the config (the same config as the hub) and reports, for
each fact the emulator treats as a setting, the emulator's value, what this org's DingTalk answered, and a verdict.
Without --group and --me it only makes read-only calls (made-up tokens and codes that DingTalk can only refuse).

  --group ALIAS        a group of the config to send test messages to (custom robot, app robot, card)
  --me PERSON          you: a person of the config (key, name or userId) or a mobile; gets a work notice, a Todo
                       and 1:1 robot messages, all removed at the end
  --app NAME           the app to use (default: the group's app, else defaultApp, else the first)
  --yes                send without asking (the list of what is sent is still printed)
  --settings FILE      compare with these emulator settings instead of the emulator's defaults
  --emulator-settings  print the emulator settings that make it answer like this org (JSON), nothing else
  --todo-event SECONDS with --me: after the test Todo is made, wait up to SECONDS for you to tick it in DingTalk
                       and record which event DingTalk pushes (the app's events are read meanwhile; others are
                       answered LATER so a running hub gets them again)
  --timeout MS         per DingTalk call (default 10000)
  --json               the whole report as one JSON document (secrets redacted): attach it to an issue

Everything created is removed at the end where DingTalk allows it; the report lists what was left and why.
Exit: 0 every check ran, 1 a check failed or could not run or something could not be removed, 3 config.`;

export async function verifyVerb(args: string[], ctx: CliContext): Promise<number> {
  const { values: v } = parse(
    args,
    {
      group: { type: 'string' },
      me: { type: 'string' },
      app: { type: 'string' },
      yes: { type: 'boolean' },
      settings: { type: 'string' },
      'emulator-settings': { type: 'boolean' },
      timeout: { type: 'string' },
      'todo-event': { type: 'string' },
    },
    false,
  );
  const todoWait = v['todo-event'] === undefined ? 0 : Number(v['todo-event']);
  if (!Number.isInteger(todoWait) || todoWait < 0 || todoWait > 600)
    throw usage('--todo-event is 1-600 seconds');
  if (todoWait > 0 && v.me === undefined) throw usage('--todo-event needs --me (the Todo is made for you)');
  const timeoutMs = v.timeout === undefined ? 10_000 : Number(v.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)
    throw usage('--timeout is 100-120000 ms');
  const config = ctx.config();
  // Demo mode (no credentials, or emulator.mode "on") would check the built-in emulator against itself.
  if (usesEmulator(config))
    throw new CliError(
      EXIT.config,
      'nothing to verify: this config runs against the built-in emulator (no app or robot, or emulator.mode "on")',
      'config',
    );
  const env = configured(() =>
    verifyEnv({
      config,
      group: v.group,
      me: v.me,
      app: v.app,
      settings: v.settings === undefined ? undefined : readEmulatorSettings(resolve(ctx.io.cwd, v.settings)),
      env: ctx.io.env,
      timeoutMs,
      todoEventWaitMs: todoWait * 1000,
      // Printed even with --json (on stderr): only the operator can do this, and the suite waits for it.
      askOperator: (act) => {
        ctx.io.stderr.write(
          `\n>>> In DingTalk, open 待办 (Todo) and tick "${act.subject}" done. Waiting up to ${Math.round(act.waitMs / 1000)} s...\n`,
        );
      },
    }),
  );

  const sends = writePlan(env).filter((p) => p.sends !== undefined);
  if (sends.length > 0) {
    const lines = [`dingkit verify would send (${env.oapiBase}):`, ...sends.map((p) => `  - ${p.sends}`)];
    if (v.yes) {
      ctx.out.note(lines.join('\n'));
      env.writes = true;
    } else if (ctx.io.stdin.isTTY && ctx.io.stderr.isTTY) {
      env.writes = await confirm(ctx.io, `${lines.join('\n')}\nSend these? [y/N] `);
      if (!env.writes) ctx.out.note('not confirmed: running the read-only checks only');
    } else {
      ctx.out.note('no terminal to confirm on and no --yes: running the read-only checks only');
    }
  } else if (v.group === undefined && v.me === undefined) {
    ctx.out.note('read-only run: name a test group (--group) and yourself (--me) to check sends too');
  }

  // Ctrl-C: no new check starts and what was created is removed; a second Ctrl-C ends the process as usual.
  const interrupt = new AbortController();
  env.signal = interrupt.signal;
  const onSigint = () => {
    ctx.io.stderr.write('\ninterrupted: removing what was created (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  };
  process.once('SIGINT', onSigint);
  let raw: VerifyReport;
  try {
    raw = await runVerify(env);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const report = redactReport(raw, [configRedactor(config), env.redactor]);
  if (v['emulator-settings']) {
    const { settings, fixedDifferences } = emulatorSettingsFrom(report);
    ctx.io.stdout.write(`${JSON.stringify(settings, null, 2)}\n`);
    for (const d of fixedDifferences) ctx.out.note(`not a setting (the emulator's code must change): ${d}`);
    if (report.summary.notObserved > 0)
      ctx.out.note(`${report.summary.notObserved} fact(s) not observed keep the emulator's defaults`);
  } else {
    ctx.out.result({ version: VERSION, ...report }, () => renderReport(report));
  }
  const s = report.summary.checks;
  const removalFailed = report.leftovers.some((l) => l.reason.startsWith('removal failed'));
  return s.failed + s.could_not_run > 0 || removalFailed ? EXIT.failure : EXIT.ok;
}

function configured<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDingTalkError(e) && e.code === 'CONFIG') throw new CliError(EXIT.config, e.message, 'config');
    throw e;
  }
}

async function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await rl.question(question);
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
