/**
 * `dingkit doctor` against the emulator: credentials accepted and refused, robot shape checks, and the robot
 * probe — which must never post (the emulator's message record is the oracle). The CLI runs in this process
 * (support/cli-in-process.ts).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { runCliInProcess } from '../support/cli-in-process.js';

let emu: Emulator;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, seed: 7 });
  dir = mkdtempSync(join(tmpdir(), 'dingkit-doctor-'));
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function configDir(
  overrides: { appSecret?: string; robotSecret?: string; robotToken?: string } = {},
): string {
  const cwd = mkdtempSync(join(dir, 'c-'));
  const app = emu.state.org.apps[0]!;
  const alerts = emu.state.org.customRobots.find((r) => r.name === 'alerts')!;
  const news = emu.state.org.customRobots.find((r) => r.name === 'news')!;
  writeFileSync(
    join(cwd, 'dingkit.config.json'),
    JSON.stringify({
      apps: {
        main: { appKey: app.appKey, appSecret: overrides.appSecret ?? app.appSecret, agentId: app.agentId },
      },
      robots: {
        alerts: {
          webhook: overrides.robotToken ?? alerts.token,
          secret: overrides.robotSecret ?? alerts.security.secret,
        },
        news: { webhook: `${emu.url}/robot/send?access_token=${news.token}`, keywords: ['notice'] },
        bare: { webhook: 'c'.repeat(64) },
      },
      people: { Alice: { userId: 'alice' } },
      dingtalk: { oapiBase: emu.url, apiBase: emu.url },
      database: { url: './data/hub.db', create: true },
      server: { port: 59998 },
    }),
  );
  return cwd;
}

type DoctorOut = { ok: boolean; checks: Array<{ check: string; status: string; detail: string }> };
const status = (out: DoctorOut, check: string) => out.checks.find((c) => c.check === check)?.status;

describe('dingkit doctor', () => {
  it('passes with good credentials; warns about a robot without security; never posts', async () => {
    const before = emu.messages().length;
    const probes = emu.requests({ route: 'POST /robot/send' }).length;
    const r = await runCliInProcess(['doctor', '--probe-robots', '--json'], { cwd: configDir() });
    expect(emu.requests({ route: 'POST /robot/send' }).length).toBe(probes + 3);
    const out = JSON.parse(r.stdout) as DoctorOut;
    expect(status(out, 'app main: token')).toBe('ok');
    expect(status(out, 'app main: users API')).toBe('ok');
    expect(status(out, 'robot alerts: security')).toBe('ok');
    expect(status(out, 'robot alerts: probe')).toBe('ok');
    expect(status(out, 'robot news: probe')).toBe('ok');
    expect(status(out, 'robot bare: security')).toBe('warn');
    expect(status(out, 'robot bare: probe')).toBe('fail');
    expect(status(out, 'clock')).toBe('ok');
    // No publicUrl: Todo links would point at the listen address.
    expect(status(out, 'publicUrl')).toBe('warn');
    expect(r.code).toBe(1);
    expect(emu.messages().length).toBe(before);
    // The app secret and robot secrets never appear in the output.
    const app = emu.state.org.apps[0]!;
    const alerts = emu.state.org.customRobots.find((x) => x.name === 'alerts')!;
    for (const secret of [app.appSecret, alerts.security.secret!, alerts.token]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  it("warns about a missing or plain-http publicUrl, and prints the people's homepage for an https one", async () => {
    for (const [publicUrl, want] of [
      ['http://hub.example.com', 'warn'],
      ['https://hub.example.com/', 'ok'],
    ] as const) {
      const cwd = configDir();
      const file = join(cwd, 'dingkit.config.json');
      const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...cfg, publicUrl }));
      const r = await runCliInProcess(['doctor', '--json'], { cwd });
      const out = JSON.parse(r.stdout) as DoctorOut;
      expect(status(out, 'publicUrl'), publicUrl).toBe(want);
      if (want === 'ok') {
        expect(out.checks.find((c) => c.check === 'publicUrl')?.detail).toContain(
          'https://hub.example.com/app/',
        );
      }
    }
  });

  it('fails on a wrong app secret and an unknown robot token, with a human report', async () => {
    const r = await runCliInProcess(['doctor', '--probe-robots'], {
      cwd: configDir({ appSecret: 'wrong-secret-value-123', robotToken: 'd'.repeat(64) }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ app main: token +DingTalk refused the credentials/);
    expect(r.stdout).toMatch(/✘ robot alerts: probe +DingTalk does not know this robot token/);
    expect(r.stdout).not.toContain('wrong-secret-value-123');
    expect(r.stdout).toMatch(/\d check\(s\) failed\n$/);
  });

  it("refuses a malformed webhook at the config with the library's reason, never the token, and calls nothing", async () => {
    const canary = 'feedface'.repeat(8);
    const before = emu.requests().length;
    const r = await runCliInProcess(['doctor', '--probe-robots', '--json'], {
      cwd: configDir({ robotToken: `ftp://${new URL(emu.url).host}/robot/send?access_token=${canary}` }),
    });
    // The config is read with the library's webhook parser: a broken robot is a config error (exit 3) naming the
    // key and the reason, before any credential is tried or any robot probed.
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('robots.alerts.webhook');
    expect(r.stderr).toContain('must be an http(s) URL');
    expect(emu.requests().length).toBe(before);
    expect(r.stdout + r.stderr).not.toContain(canary);
  });

  it('without --probe-robots it makes no webhook call at all', async () => {
    const before = emu.requests({ route: 'POST /robot/send' }).length;
    const r = await runCliInProcess(['doctor', '--json'], { cwd: configDir() });
    const out = JSON.parse(r.stdout) as DoctorOut;
    expect(out.checks.some((c) => c.check.endsWith(': probe'))).toBe(false);
    expect(emu.requests({ route: 'POST /robot/send' }).length).toBe(before);
  });

  /** A config directory holding exactly `config` (and a store path). */
  function writeConfig(config: Record<string, unknown>): string {
    const cwd = mkdtempSync(join(dir, 'c-'));
    writeFileSync(
      join(cwd, 'dingkit.config.json'),
      JSON.stringify({
        database: { url: './data/hub.db', create: true },
        server: { port: 59998 },
        ...config,
      }),
    );
    return cwd;
  }

  it("probes a robot given by DingTalk's full webhook URL on the configured base, as sending does", async () => {
    const alerts = emu.state.org.customRobots.find((r) => r.name === 'alerts')!;
    const probes = emu.requests({ route: 'POST /robot/send' }).length;
    const r = await runCliInProcess(['doctor', '--probe-robots', '--json'], {
      cwd: writeConfig({
        robots: {
          alerts: {
            webhook: `https://oapi.dingtalk.com/robot/send?access_token=${alerts.token}`,
            secret: alerts.security.secret,
          },
        },
        dingtalk: { oapiBase: emu.url, apiBase: emu.url },
      }),
    });
    const out = JSON.parse(r.stdout) as DoctorOut;
    // It reached the emulator (which knows the token), not the real DingTalk (no network here).
    expect(status(out, 'robot alerts: probe')).toBe('ok');
    expect(emu.requests({ route: 'POST /robot/send' }).length).toBe(probes + 1);
  });

  it('a webhook it cannot reach is reported with the cause, not "fetch failed"', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const r = await runCliInProcess(['doctor', '--probe-robots', '--json'], {
      cwd: writeConfig({
        robots: {
          other: {
            webhook: `http://127.0.0.1:${closed}/robot/send?access_token=${'e'.repeat(64)}`,
            keywords: ['x'],
          },
        },
      }),
    });
    const out = JSON.parse(r.stdout) as DoctorOut;
    const probe = out.checks.find((c) => c.check === 'robot other: probe')!;
    expect(probe.status).toBe('fail');
    expect(probe.detail).toContain('ECONNREFUSED');
    expect(probe.detail).not.toContain('fetch failed');
    expect(probe.detail).not.toContain('e'.repeat(64));
  });

  it("checks the clock for a signed robot with no app and no probe: DingTalk's Date header, read by one HEAD", async () => {
    let offsetMs = 2 * 3_600_000;
    const heads: string[] = [];
    const clock = createServer((req, res) => {
      heads.push(req.method ?? '');
      res.setHeader('date', new Date(Date.now() - offsetMs).toUTCString());
      res.end();
    });
    await new Promise<void>((r) => clock.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(clock.address() as AddressInfo).port}`;
    const cwd = writeConfig({
      robots: { signed: { webhook: 'f'.repeat(64), secret: `SEC${'0'.repeat(64)}` } },
      dingtalk: { oapiBase: base },
    });
    try {
      const skewed = JSON.parse((await runCliInProcess(['doctor', '--json'], { cwd })).stdout) as DoctorOut;
      const c = skewed.checks.find((x) => x.check === 'clock')!;
      expect(c.status).toBe('fail');
      expect(c.detail).toMatch(/local clock is 7\d{3} s from DingTalk's/);
      // Twin: the same clock in step passes.
      offsetMs = 0;
      const fine = JSON.parse((await runCliInProcess(['doctor', '--json'], { cwd })).stdout) as DoctorOut;
      expect(status(fine, 'clock')).toBe('ok');
      expect(heads).toEqual(['HEAD', 'HEAD']);
    } finally {
      await new Promise<void>((r) => clock.close(() => r()));
    }
  });
});
