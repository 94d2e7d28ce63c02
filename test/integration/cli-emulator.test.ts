/** `dingkit emulator` as a child process: prints where it listens, answers DingTalk calls, stops on SIGTERM. */

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI_MAIN } from '../support/cli-process.js';

describe('dingkit emulator', () => {
  it('serves the demo org until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), CLI_MAIN, 'emulator', '--port', '0', '--json', '--seed', '3'],
      {
        env: { PATH: process.env['PATH'] ?? '' },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    let info: { url: string; apps: string[]; robots: string[]; users: number } | undefined;
    const end = Date.now() + 20_000;
    while (!info) {
      try {
        info = JSON.parse(out) as typeof info;
      } catch {
        if (Date.now() > end) {
          child.kill('SIGKILL');
          throw new Error('emulator did not start');
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(info!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info!.apps.length).toBeGreaterThan(0);
    expect(info!.robots).toContain('alerts');
    const res = await fetch(`${info!.url}/gettoken?appkey=nope&appsecret=nope`);
    const body = (await res.json()) as { errcode: number };
    expect(body.errcode).not.toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Names only: the demo org's credentials are not printed.
    expect(out).not.toContain('appSecret');
    expect(out).not.toContain('demo-app-secret');
  }, 30_000);

  it('a taken port exits 4 with a reason', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const { runCliProcess } = await import('../support/cli-process.js');
    const r = await runCliProcess(['emulator', '--port', String(port)]);
    blocker.close();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`port ${port} is in use`);
  }, 30_000);

  it('serve exits 4 with a hint when the built-in emulator port is taken', async () => {
    const net = await import('node:net');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const cwd = mkdtempSync(join(tmpdir(), 'dingkit-port-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({ server: { port: 0 }, emulator: { port } }),
    );
    const { runCliProcess } = await import('../support/cli-process.js');
    try {
      const r = await runCliProcess(['serve'], { cwd });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`emulator's port ${port} is in use`);
    } finally {
      blocker.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 30_000);
});
