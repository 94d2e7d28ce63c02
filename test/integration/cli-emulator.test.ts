/**
 * `dingkit emulator` as a child process: prints where it listens, answers DingTalk calls, stops on SIGTERM. The
 * refusals (a taken port) run in this process through runCli (support/cli-in-process.ts).
 */

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../support/cli-in-process.js';
import { cliArgs } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';

describe('dingkit emulator', () => {
  it('serves the demo org until SIGTERM', async () => {
    const child = spawn(process.execPath, cliArgs('emulator', '--port', '0', '--json', '--seed', '3'), {
      env: { PATH: process.env['PATH'] ?? '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    type Info = { url: string; apps: string[]; robots: string[]; users: number };
    const info = await waitFor(
      () => JSON.parse(out) as Info,
      20_000,
      'the emulator to print where it listens',
    ).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e;
    });
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.apps.length).toBeGreaterThan(0);
    expect(info.robots).toContain('alerts');
    const res = await fetch(`${info.url}/gettoken?appkey=nope&appsecret=nope`);
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
    const r = await runCliInProcess(['emulator', '--port', String(port)]);
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
    try {
      const r = await runCliInProcess(['serve'], { cwd });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`emulator's port ${port} is in use`);
    } finally {
      blocker.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 30_000);
});
