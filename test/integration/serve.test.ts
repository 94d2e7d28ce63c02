/**
 * End to end through the real hub: `dingkit serve` as a child process on a fresh directory (demo mode, built-in
 * emulator, SQLite under ./data/), then the CLI (in this process, through runCli) against it — a message
 * delivered, a task moved, a file shared — and a graceful SIGTERM. The logs and output are scanned for the demo
 * org's secrets and the minted API token.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG } from '../../src/emulator/demo-org.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { cliArgs } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

interface Banner {
  dashboard: string;
  api: string;
  peopleApp: string;
  emulator: string;
  mode: string;
  token: string;
}

let dir: string;
let child: ChildProcessWithoutNullStreams;
let stdout = '';
let stderr = '';
let banner: Banner;
let base: string;
let exited: Promise<number | null>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-serve-'));
  writeFileSync(
    join(dir, 'dingkit.config.json'),
    JSON.stringify({ server: { port: 0 }, emulator: { port: 0 } }),
  );
  child = spawn(process.execPath, cliArgs('serve', '--json', '--log', 'json', '--no-demo'), {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
  });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      banner = JSON.parse(stdout) as Banner;
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  base = banner.dashboard.replace(/\/$/, '');
}, 40_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ DINGKIT_URL: base, DINGKIT_TOKEN: banner.token });

describe('dingkit serve (demo mode, real hub)', () => {
  it('starts on a fresh directory: SQLite under ./data, the emulator, a token, and says so first', async () => {
    expect(banner.mode).toContain('demo');
    expect(banner.token).toMatch(/^dk_/);
    expect(banner.emulator).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(join(dir, 'data', 'dingkit.db'))).toBe(true);
    const first = JSON.parse(stderr.split('\n')[0]!) as { msg: string };
    expect(first.msg).toContain('built-in emulator');
    const health = (await (
      await fetch(`${base}/v1/health`, { headers: { authorization: `Bearer ${banner.token}` } })
    ).json()) as {
      ok: boolean;
      emulator?: { url: string };
    };
    expect(health).toMatchObject({ ok: true, emulator: { url: banner.emulator } });
    expect((await fetch(`${base}/`)).headers.get('content-type')).toContain('text/html');
    // The people's homepage to paste into DingTalk's console (no publicUrl here: the listen address).
    expect(banner.peopleApp).toBe(`${base}/app/`);
    expect((await fetch(banner.peopleApp)).headers.get('content-security-policy')).toContain(
      'frame-ancestors',
    );
  });

  it('delivers a message sent with the CLI (queued → sent at the emulator)', async () => {
    const sent = await runCliInProcess(['send', '--to', 'alice', 'hello from the e2e test', '--json'], {
      env: env(),
    });
    expect(sent.code).toBe(0);
    const { messageId } = JSON.parse(sent.stdout) as { messageId: string };
    const delivered = await waitFor(async () => {
      const r = await fetch(`${base}/v1/messages/${messageId}`, {
        headers: { authorization: `Bearer ${banner.token}` },
      });
      const m = (await r.json()) as { deliveries: Array<{ status: string }> };
      return m.deliveries.every((d) => d.status === 'sent') ? m : undefined;
    }, 20_000);
    expect(delivered.deliveries.length).toBeGreaterThan(0);
    const list = await runCliInProcess(['deliveries', 'list', '--status', 'sent'], { env: env() });
    expect(list.stdout).toMatch(/sent +app +Alice Chen +1 /);
  }, 40_000);

  it('assigns a task and moves it with the CLI; shares a file', async () => {
    const a = await runCliInProcess(['task', 'assign', 'E2E task', '--to', 'alice,bob', '--json'], {
      env: env(),
    });
    expect(a.code).toBe(0);
    const task = JSON.parse(a.stdout) as { id: number; state: string };
    expect(task.state).toBe('open');
    const done = await runCliInProcess(['task', 'done', String(task.id), '--note', 'checked'], {
      env: env(),
    });
    expect(done.stdout).toBe(`task #${task.id} is now done\n`);
    const again = await runCliInProcess(['task', 'start', String(task.id)], { env: env() });
    expect(again.code).toBe(7);

    const file = join(dir, 'notes.pdf');
    writeFileSync(file, 'release notes\n'.repeat(100));
    const shared = await runCliInProcess(['file', 'share', file, '--to', 'alice', '--json'], { env: env() });
    expect(shared.code, shared.stderr).toBe(0);
    expect(JSON.parse(shared.stdout)).toMatchObject({ fileName: 'notes.pdf', size: 1400 });
  }, 40_000);

  it('stops gracefully on SIGTERM, and no secret reached the output or the logs', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
    const org = DEMO_ORG.org;
    const secrets = [
      ...org.apps.map((a) => a.appSecret),
      ...org.customRobots.flatMap((r) => [r.token, r.security.secret].filter((s): s is string => !!s)),
    ];
    const forms = (s: string) => [
      s,
      encodeURIComponent(s),
      Buffer.from(s).toString('base64').replace(/=+$/, ''),
    ];
    for (const s of secrets) for (const f of forms(s)) expect(stdout + stderr).not.toContain(f);
    // The minted token appears once, in the banner on stdout, and never in a log line.
    expect(stderr).not.toContain(banner.token);
    expect(stdout.split(banner.token).length - 1).toBe(1);
  }, 30_000);
});
