/**
 * `dingkit verify` as a command, in process (support/cli-in-process.ts), against the emulator: the `--json` report
 * carries no secret; `--emulator-settings` fed back into an emulator makes a re-run agree on every fact (the
 * round trip); writes happen only when confirmed (`--yes`, or "y" at the prompt on a terminal).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliContext } from '../../src/cli/context.js';
import { emulatorVerb } from '../../src/cli/emulator.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { parseEmulatorSettings } from '../../src/verify/settings.js';
import type { VerifyReport } from '../../src/verify/types.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { waitFor } from '../support/wait-for.js';
import { demoSecrets, verifyConfigJson } from './verify-support.js';

let dir: string;
const emus: Emulator[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-verify-'));
});
afterEach(async () => {
  for (const e of emus.splice(0)) await e.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function emulator(o: EmulatorOptions = {}): Promise<{ emu: Emulator; cwd: string }> {
  const emu = await startEmulator({ port: 0, seed: 5, ...o });
  emus.push(emu);
  const cwd = mkdtempSync(join(dir, 'c-'));
  writeFileSync(join(cwd, 'dingkit.config.json'), JSON.stringify(verifyConfigJson(emu)));
  return { emu, cwd };
}

const WRITE = ['verify', '--group', 'ops', '--me', 'me'];

describe('dingkit verify (CLI)', () => {
  it('--json: a full report with no secret in it (app secret, robot token and secret, access token)', async () => {
    const { emu, cwd } = await emulator();
    const r = await runCliInProcess([...WRITE, '--yes', '--json'], { cwd });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as VerifyReport;
    expect(report.mode).toBe('write');
    expect(report.summary.checks.ok).toBe(report.checks.length);
    // The token the run used: the emulator hands out the same one while it is valid (§1.2).
    const app = emu.state.org.apps[0]!;
    const t = (await (
      await fetch(`${emu.url}/gettoken?appkey=${app.appKey}&appsecret=${app.appSecret}`)
    ).json()) as { access_token: string };
    expect(t.access_token.length).toBeGreaterThan(10);
    for (const secret of [...demoSecrets(emu), t.access_token]) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
    // The list of what was sent is printed even with --yes (stderr; not with --json, whose stdout is the report).
    expect(r.stderr).toBe('');
  });

  it('--emulator-settings round trip: the printed settings make another emulator answer like this one', async () => {
    const changed = {
      unknownRobotErrcode: 400101,
      authCodeErrcode: 40014,
      otoMaxUsers: 100,
      tokenTtlSec: 3600,
    };
    const a = await emulator({ limits: changed });
    const r1 = await runCliInProcess([...WRITE, '--yes', '--emulator-settings'], { cwd: a.cwd });
    expect(r1.code).toBe(0);
    const settings = parseEmulatorSettings(JSON.parse(r1.stdout));
    expect(settings.limits).toMatchObject(changed);

    const b = await emulator(settings);
    const file = join(b.cwd, 'org-settings.json');
    writeFileSync(file, r1.stdout);
    const r2 = await runCliInProcess([...WRITE, '--yes', '--json', '--settings', file], { cwd: b.cwd });
    const report = JSON.parse(r2.stdout) as VerifyReport;
    expect(report.summary.differs).toBe(0);
    expect(report.summary.agrees).toBe(7);
    // Twin: the same emulator compared with the defaults shows the four settings as differences.
    const r3 = await runCliInProcess([...WRITE, '--yes', '--json'], { cwd: b.cwd });
    const plain = JSON.parse(r3.stdout) as VerifyReport;
    expect(plain.facts.filter((f) => f.verdict === 'differs').map((f) => f.setting)).toEqual([
      'limits.tokenTtlSec',
      'limits.unknownRobotErrcode',
      'limits.authCodeErrcode',
      'limits.otoMaxUsers',
    ]);
  });

  it('no terminal and no --yes: lists nothing, sends nothing, runs read-only', async () => {
    const { emu, cwd } = await emulator();
    const r = await runCliInProcess(WRITE, { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no --yes: running the read-only checks only/);
    expect(r.stdout).toMatch(/\(read-only\)/);
    expect(emu.messages()).toEqual([]);
    expect(emu.notices()).toEqual([]);
  });

  it('on a terminal it lists what it will send and to whom, and sends only after "y"', async () => {
    const { emu, cwd } = await emulator();
    const no = await onTerminal(WRITE, cwd, 'n\n');
    expect(no.stderr).toMatch(/one app-robot text message to group ops/);
    expect(no.stderr).toMatch(/one work notice to the operator 张三/);
    expect(no.stderr).toMatch(/Send these\? \[y\/N\]/);
    expect(emu.messages()).toEqual([]);

    const yes = await onTerminal(WRITE, cwd, 'y\n');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/\(write\)/);
    expect(emu.messages().length).toBeGreaterThan(0);
  });

  it('dingkit emulator --settings FILE answers by the file; a bad file is refused before it listens', async () => {
    const cwd = mkdtempSync(join(dir, 'e-'));
    writeFileSync(join(cwd, 's.json'), JSON.stringify({ limits: { unknownRobotErrcode: 400101 } }));
    const stdout = new Collect();
    stdout.isTTY = false;
    const io: CliIo = { stdin: Readable.from([]), stdout, stderr: new Collect(), env: {}, cwd };
    let stop!: () => void;
    const until = new Promise<void>((r) => {
      stop = r;
    });
    const flags = { json: true, url: undefined, token: undefined, config: undefined, help: false };
    const running = emulatorVerb(['--port', '0', '--settings', 's.json'], new CliContext(io, flags), {
      until,
    });
    const url = await waitFor(
      () => (JSON.parse(stdout.text) as { url: string }).url,
      10_000,
      'the emulator URL',
    );
    const res = await fetch(`${url}/robot/send?access_token=${'e'.repeat(64)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'text', text: { content: 'x' } }),
    });
    expect(((await res.json()) as { errcode: number }).errcode).toBe(400101);
    stop();
    expect(await running).toBe(0);

    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ limits: { unknownRobotErrCode: 1 } }));
    const bad = await runCliInProcess(['emulator', '--port', '0', '--settings', 'bad.json'], { cwd });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/settings file .*bad\.json: limits: /);
  });

  it('an unknown --group or --me is a config error naming the choices, before anything is called', async () => {
    const { emu, cwd } = await emulator();
    const r = await runCliInProcess(['verify', '--group', 'nope'], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no group "nope" in the config \(have: ops\)/);
    const m = await runCliInProcess(['verify', '--me', 'somebody'], { cwd });
    expect(m.code).toBe(3);
    expect(m.stderr).toMatch(/"somebody" is neither a person of the config nor a mobile/);
    const a = await runCliInProcess(['verify', '--app', 'other'], { cwd });
    expect([a.code, a.stderr]).toEqual([
      3,
      expect.stringMatching(/no app "other" in the config \(have: main\)/),
    ]);
    const t = await runCliInProcess(['verify', '--todo-event', '30'], { cwd });
    expect([t.code, t.stderr]).toEqual([2, expect.stringMatching(/--todo-event needs --me/)]);
    expect(emu.requests()).toEqual([]);
  });
});

class Collect extends Writable {
  text = '';
  isTTY = true;
  override _write(chunk: Buffer | string, _e: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI with a terminal on stdin and stderr, answering the prompt with `answer`. */
async function onTerminal(args: string[], cwd: string, answer: string) {
  const stdin = Object.assign(Readable.from([Buffer.from(answer)]), { isTTY: true });
  const stdout = new Collect();
  stdout.isTTY = false;
  const stderr = new Collect();
  const io: CliIo = { stdin, stdout, stderr, env: { HOME: cwd }, cwd };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
