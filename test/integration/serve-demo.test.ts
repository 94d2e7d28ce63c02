/**
 * `npm start`'s first run: `dingkit serve` in demo mode plays the demo scene against the built-in emulator — a
 * task assigned, a file shared, a person answering `done <id>` in the chat, which comes back over Stream and
 * closes the task. Checked through the API (task state, inbound command on the event feed) and, when Chromium is
 * installed, on the live dashboard.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { cliArgs } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

let dir: string;
let child: ChildProcessWithoutNullStreams;
let stdout = '';
let stderr = '';
let base = '';
let token = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-demo-'));
  writeFileSync(
    join(dir, 'dingkit.config.json'),
    JSON.stringify({ server: { port: 0 }, emulator: { port: 0 } }),
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
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      const b = JSON.parse(stdout) as { dashboard: string; token: string };
      base = b.dashboard.replace(/\/$/, '');
      token = b.token;
      break;
    } catch {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`serve did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}, 40_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start: the demo scene', () => {
  it('plays to the end: the chat answer comes back over Stream and closes the task', async () => {
    await waitFor(() => /moved task #\d+ to done/.test(stderr), 40_000, 'the demo scene to close its task');
    expect(stderr).toMatch(/moved task #\d+ to done/);
    const taskId = Number(/moved task #(\d+) to done/.exec(stderr)?.[1]);
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const task = (await (await fetch(`${base}/v1/tasks/${taskId}`, auth)).json()) as {
      state: string;
      history: Array<{ kind: string }>;
    };
    expect(task.state).toBe('done');
    const recent = (await (await fetch(`${base}/v1/events/recent?limit=1000`, auth)).json()) as {
      events: Array<{ type: string; data: Record<string, unknown> }>;
    };
    expect(recent.events.some((e) => e.type === 'inbound.command' && e.data['taskId'] === taskId)).toBe(true);
    expect(recent.events.some((e) => e.type === 'file.shared')).toBe(true);
    // The scene's lines are log records, and none carries the token.
    expect(stderr).not.toContain(token);
  }, 60_000);

  it("prints the emulated client's URL, points the scene's last line at it, and gives its workbench the hub's /app/", async () => {
    const info = JSON.parse(stdout) as { client: string; emulator: string };
    expect(info.client).toBe(`${info.emulator}/_emulator/client/`);
    await waitFor(() => /Demo scene finished/.test(stderr), 40_000, 'the demo scene to finish');
    const last = stderr.split('\n').find((l) => l.includes('Demo scene finished'));
    expect(last).toContain(info.client);
    const page = await fetch(info.client);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('钉钉');
    const view = (await (await fetch(`${info.client}view`)).json()) as {
      apps: Array<{ homepageUrl?: string }>;
    };
    expect(view.apps[0]?.homepageUrl).toBe(`${base}/app/`);
  }, 60_000);

  it.skipIf(!existsSync(CHROMIUM))(
    'shows the scene on the live dashboard',
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(`${base}/`);
        await page.locator('#token').fill(token);
        await page.locator('#login-form button').click();
        await expect.poll(() => page.locator('#tasks').textContent(), { timeout: 15_000 }).toMatch(/done/);
        await expect.poll(() => page.locator('#commands').textContent()).toMatch(/done #\d+/);
        await expect.poll(() => page.locator('#live-text').textContent()).toBe('live');
        const shots = process.env['DINGKIT_SCREENSHOT_DIR'] ?? join(tmpdir(), 'dingkit-screens');
        mkdirSync(shots, { recursive: true });
        await page.screenshot({ path: join(shots, 'dashboard-demo.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
