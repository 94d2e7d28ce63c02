/**
 * The verify suite (src/verify) against the real emulator over loopback: the emulator's defaults all agree; three
 * changed settings show up as exactly three differences; failing endpoints make their checks "could not run" with
 * the reason while the rest runs, and what could not be removed is listed. The emulator's records are the oracle
 * for what was sent, to whom, and what was removed.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { runVerify, verifyEnv } from '../../src/verify/suite.js';
import type { VerifyEnv, VerifyReport } from '../../src/verify/types.js';
import { demoSecrets, ME_USER_ID, OPS, verifyConfig } from './verify-support.js';

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const TODO_CREATE = 'POST /v1.0/todo/users/:unionId/tasks';
const QUICK_RETRY = { retries: 1, minDelayMs: 1, maxDelayMs: 5 };

async function verifyAgainst(
  o: EmulatorOptions,
  run: {
    group?: string;
    me?: string;
    writes?: boolean;
    todoEventWaitMs?: number;
    askOperator?: VerifyEnv['askOperator'];
    signal?: AbortSignal;
  } = { group: 'ops', me: 'me', writes: true },
): Promise<{ emu: Emulator; report: VerifyReport }> {
  emu = await startEmulator({ port: 0, seed: 11, ...o });
  const env = verifyEnv({
    config: verifyConfig(emu),
    group: run.group,
    me: run.me,
    env: {},
    retry: QUICK_RETRY,
    timeoutMs: 5_000,
    todoEventWaitMs: run.todoEventWaitMs,
    askOperator: run.askOperator,
    signal: run.signal,
  });
  env.writes = run.writes ?? false;
  return { emu, report: await runVerify(env) };
}

const status = (r: VerifyReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
const OBSERVABLE = [
  'token.lifetime',
  'robot.unknownTokenErrcode',
  'auth.codeErrcode',
  'api.unknownRoute',
  'robot.unknownDownloadCode',
  'robot.otoMaxUsers',
  'media.badExtensionErrcode',
];

describe('dingkit verify against the emulator', () => {
  it('all agree with the defaults; sends only to the test group and the operator; removes what it can', async () => {
    const { emu, report } = await verifyAgainst({});
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(
      report.facts
        .filter((f) => f.verdict === 'agrees')
        .map((f) => f.id)
        .sort(),
    ).toEqual([...OBSERVABLE].sort());
    expect(report.summary.differs).toBe(0);
    // Each fact that is not observed says why.
    for (const f of report.facts.filter((x) => x.verdict === 'not_observed'))
      expect(f.detail.length).toBeGreaterThan(10);

    // Only the Ops group and 张三 were written to.
    const msgs = emu.messages().filter((m) => m.source !== 'user');
    expect(new Set(msgs.map((m) => m.conversation))).toEqual(new Set([OPS]));
    expect(new Set(emu.notices().map((n) => n.userId))).toEqual(new Set([ME_USER_ID]));
    // Removed: the app-robot message and the card (recalled), the work notice (recalled), the Todo (deleted).
    const appMsgs = msgs.filter((m) => m.source === 'app_robot' || m.source === 'card');
    expect(appMsgs.length).toBe(2);
    expect(appMsgs.every((m) => m.recalled)).toBe(true);
    expect(emu.notices().every((n) => n.recalled)).toBe(true);
    expect(emu.requests({ route: TODO_CREATE }).map((r) => r.status)).toEqual([200]);
    expect(emu.todos()).toEqual([]);
    expect(report.removed.map((x) => x.what).sort()).toEqual(
      ['Todo', 'app-robot text message', 'interactive card', 'work notice'].sort(),
    );
    // Left: what DingTalk cannot remove, each with its reason.
    expect(report.leftovers.map((l) => l.what)).toEqual([
      expect.stringMatching(/^media file dingkit-verify-.*\.png$/),
      'custom-robot text message',
    ]);
    expect(msgs.filter((m) => m.source === 'custom_robot').every((m) => !m.recalled)).toBe(true);
    const text = JSON.stringify(report);
    for (const secret of demoSecrets(emu)) expect(text).not.toContain(secret);
  });

  it('three changed settings are exactly three differences, with what this DingTalk answered', async () => {
    const { emu, report } = await verifyAgainst({
      limits: { unknownRobotErrcode: 400101, authCodeErrcode: 40014, otoMaxUsers: 100 },
    });
    const differs = report.facts.filter((f) => f.verdict === 'differs');
    expect(differs.map((f) => [f.id, f.emulator, f.observed])).toEqual([
      ['robot.unknownTokenErrcode', 300005, 400101],
      ['auth.codeErrcode', 40078, 40014],
      ['robot.otoMaxUsers', 20, 100],
    ]);
    // Nothing else moved: the other observable facts still agree, the rest are still not observed.
    expect(report.summary.agrees).toBe(OBSERVABLE.length - 3);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    // With a cap of 100 the 21-copy probe was taken: 1:1 messages to the operator only (the emulator delivers each
    // copy), all recalled; the 101-copy probe was refused.
    const oto = emu.messages().filter((m) => m.conversation.startsWith('oto:'));
    expect(oto.length).toBe(21);
    expect(new Set(oto.map((m) => m.conversation))).toEqual(new Set([`oto:${ME_USER_ID}`]));
    expect(oto.every((m) => m.recalled)).toBe(true);
  });

  it('failing endpoints: those checks could not run (with the reason), the rest ran, leftovers are listed', async () => {
    const { emu, report } = await verifyAgainst({
      initialFaults: {
        rules: [
          { route: 'POST /media/upload', error5xx: 1 },
          { route: 'POST /topapi/v2/user/getuserinfo', error5xx: 1 },
          { route: 'DELETE /v1.0/todo/*', error5xx: 1 },
          { route: 'POST /v1.0/robot/groupMessages/recall', error5xx: 1 },
        ],
      },
    });
    const s = status(report);
    expect(s['media-upload']).toBe('could_not_run');
    expect(s['auth-code']).toBe('could_not_run');
    expect(report.checks.find((c) => c.id === 'media-upload')!.detail).toMatch(/HTTP 5\d\d|5\d\d/);
    expect(
      report.checks
        .filter((c) => c.status !== 'ok')
        .map((c) => c.id)
        .sort(),
    ).toEqual(['auth-code', 'media-bad-extension', 'media-upload']);
    // The fact that check observes is not observed, and says which check could not run.
    const auth = report.facts.find((f) => f.id === 'auth.codeErrcode')!;
    expect(auth.verdict).toBe('not_observed');
    expect(auth.detail).toMatch(/^check auth-code could not run: /);
    expect(report.summary.differs).toBe(0);
    // Left behind: the Todo and both group messages (their removal failed), and the custom-robot message.
    const left = Object.fromEntries(report.leftovers.map((l) => [l.what, l.reason]));
    expect(Object.keys(left).sort()).toEqual(
      ['Todo', 'app-robot text message', 'custom-robot text message', 'interactive card'].sort(),
    );
    expect(left['Todo']).toMatch(/^removal failed: /);
    expect(left['app-robot text message']).toMatch(/^removal failed: /);
    // The oracle agrees: the Todo is still there, the notice was still recalled.
    expect(emu.todos().length).toBe(1);
    expect(report.removed.map((x) => x.what)).toEqual(['work notice']);
    expect(emu.notices().every((n) => n.recalled)).toBe(true);
  });

  it('a throttled probe could not run: the throttle code is never recorded as the fact (twin of the refusal)', async () => {
    const { report } = await verifyAgainst(
      { initialFaults: { rules: [{ route: 'POST /topapi/v2/user/getuserinfo', throttle: 1 }] } },
      {},
    );
    expect(report.checks.find((c) => c.id === 'auth-code')!.status).toBe('could_not_run');
    const f = report.facts.find((x) => x.id === 'auth.codeErrcode')!;
    expect([f.verdict, f.observed]).toEqual(['not_observed', null]);
    expect(f.detail).toMatch(/90018/);
  });

  it('without --group and --me: read-only, nothing sent or created, the write checks say why they were skipped', async () => {
    const { emu, report } = await verifyAgainst({}, { writes: true });
    expect(emu.messages()).toEqual([]);
    expect(emu.notices()).toEqual([]);
    expect(emu.todos()).toEqual([]);
    expect(emu.requests({ route: 'POST /media/upload' })).toEqual([]);
    const skipped = report.checks.filter((c) => c.status === 'skipped');
    expect(skipped.map((c) => c.id)).toContain('app-robot-message');
    expect(skipped.find((c) => c.id === 'work-notice')!.detail).toBe('no --me');
    expect(report.facts.find((f) => f.id === 'robot.otoMaxUsers')!.detail).toBe(
      'check robot-oto-cap skipped: no --me',
    );
    // The batchSend cap and the .exe upload are probed only in a write run.
    expect(report.summary.agrees).toBe(OBSERVABLE.length - 2);
  });

  it('named but not confirmed: the writes are skipped and nothing reaches the group or the operator', async () => {
    const { emu, report } = await verifyAgainst({}, { group: 'ops', me: 'me', writes: false });
    expect(emu.messages()).toEqual([]);
    expect(emu.notices()).toEqual([]);
    expect(report.mode).toBe('read-only');
    expect(status(report)['users-lookup']).toBe('ok');
    expect(report.checks.find((c) => c.id === 'todo')!.detail).toMatch(/^read-only run/);
  });

  describe('--todo-event: the operator ticks the Todo, the suite records the event DingTalk pushes', () => {
    const tick: VerifyEnv['askOperator'] = async (act) => {
      await emu!.markTodoDone(act.taskId, act.unionId);
    };
    const run = { group: 'ops', me: 'me', writes: true, todoEventWaitMs: 5_000, askOperator: tick };

    it('agrees with the default type, and the Todo is still deleted', async () => {
      const { emu, report } = await verifyAgainst({}, run);
      const f = report.facts.find((x) => x.id === 'todo.doneEventType')!;
      expect([f.verdict, f.observed]).toEqual(['agrees', 'todo_task_update']);
      expect(emu.todos()).toEqual([]);
    });

    it('an org that pushes another type differs (twin)', async () => {
      const { report } = await verifyAgainst({ todoDoneEventType: 'todo_change_event' }, run);
      const differs = report.facts.filter((f) => f.verdict === 'differs');
      expect(differs.map((f) => [f.id, f.observed])).toEqual([['todo.doneEventType', 'todo_change_event']]);
    });

    it('Ctrl-C while waiting for the person: no further check starts, and everything created is removed', async () => {
      const interrupt = new AbortController();
      const { emu, report } = await verifyAgainst(
        {},
        { ...run, todoEventWaitMs: 60_000, askOperator: () => interrupt.abort(), signal: interrupt.signal },
      );
      expect(report.checks.find((c) => c.id === 'media-upload')).toMatchObject({
        status: 'skipped',
        detail: 'interrupted before it started',
      });
      expect(emu.requests({ route: 'POST /media/upload' })).toEqual([]);
      expect(report.facts.find((f) => f.id === 'todo.doneEventType')!.detail).toBe(
        'interrupted while waiting for the Todo to be ticked',
      );
      expect(emu.todos()).toEqual([]);
      expect(emu.notices().every((n) => n.recalled)).toBe(true);
      expect(report.leftovers.map((l) => l.what)).toEqual(['custom-robot text message']);
    });

    it('nobody ticks it: not observed, with the reason, and the run goes on', async () => {
      const { report } = await verifyAgainst({}, { ...run, todoEventWaitMs: 300, askOperator: () => {} });
      const f = report.facts.find((x) => x.id === 'todo.doneEventType')!;
      expect(f.verdict).toBe('not_observed');
      expect(f.detail).toMatch(/no event named the Todo within/);
      expect(report.checks.find((c) => c.id === 'media-upload')!.status).toBe('ok');
    });
  });
});
