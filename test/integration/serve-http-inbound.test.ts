/**
 * `dingkit serve` with `inbound.mode: http` in demo mode, as a child process: the banner names the callback routes,
 * the built-in emulator is pointed at them, and the demo scene's chat command comes in over `POST /callbacks/robot`
 * and closes the task. The whole output is scanned for the demo app's secret and its event token and AES key.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CARD_API_SECRET } from '../../src/cli/emulator-config.js';
import { DEMO_ORG } from '../../src/emulator/demo-org.js';
import { cliArgs } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
let child: ChildProcessWithoutNullStreams;
let stdout = '';
let stderr = '';
let banner: { dashboard: string; callbacks?: string[]; token: string };
let exited: Promise<number | null>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-serve-http-'));
  writeFileSync(
    join(dir, 'dingkit.config.json'),
    JSON.stringify({ server: { port: 0 }, emulator: { port: 0 }, inbound: { mode: 'http' } }),
  );
  child = spawn(process.execPath, cliArgs('serve', '--json', '--log', 'json'), {
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
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      banner = JSON.parse(stdout) as typeof banner;
      break;
    } catch {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 40_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('dingkit serve, inbound over HTTP callbacks (demo mode)', () => {
  it('the demo scene command arrives over /callbacks/robot and closes the task; no secret in the output', async () => {
    const base = banner.dashboard.replace(/\/$/, '');
    expect(banner.callbacks).toEqual([
      `${base}/callbacks/robot`,
      `${base}/callbacks/events`,
      // Task-card clicks: the demo's cards call back over HTTP too (docs/hub.md "Task cards").
      `${base}/callbacks/card`,
    ]);
    await waitFor(() => /moved task #\d+ to done/.test(stderr), 40_000, 'the demo scene to close its task');
    expect(stderr).toMatch(
      /it came in over an HTTP callback, was stored in the inbox, and moved task #\d+ to done/,
    );
    const lines = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l['route'] === '/callbacks/robot' && l['status'] === 200)).toBe(true);
    const app = DEMO_ORG.org.apps[0]!;
    for (const secret of [app.appSecret, app.callback!.token, app.callback!.aesKey, DEMO_CARD_API_SECRET]) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
    // Still no token on the API itself.
    expect((await fetch(`${base}/v1/tasks`)).status).toBe(401);
  }, 60_000);
});
