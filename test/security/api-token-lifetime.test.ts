/**
 * Attacks on API tokens' lifetime:
 * - a token minted by a demo `serve` never expired, and kept working after the same database was switched to a
 *   real configuration (real credentials, emulator off);
 * - an expiring token did not exist at all, so a leaked CI token worked forever;
 * - revoking a token (from another process: the CLI on the same store) did not close its open SSE stream, and the
 *   verifier's cache kept accepting it for a while;
 * - `?access_token=` (meant for EventSource, which cannot send headers) was accepted on every route, POST
 *   included, so a token in a link or a log line could send messages.
 *
 * Each attack runs against a real hub over loopback. Time is a scaled clock where the rule is about hours.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromOrg } from '../../src/cli/emulator-config.js';
import { startEmulator } from '../../src/emulator/emulator.js';
import { parseConfig } from '../../src/hub/config.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { openStore } from '../../src/store/open-store.js';
import { backends, OPS, waitFor } from '../e2e/hub-helpers.js';
import { cliArgs } from '../support/cli-process.js';
import { type SecureHub, secureHub, streamEnd } from './secure-hub.js';

const sqlite = backends[0]!;
const HOUR = 3_600_000;

describe('API token lifetime', () => {
  let h: SecureHub | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an expired token is refused (401), on the next request after its expiry', async () => {
    let clock = Date.parse('2026-12-04T10:00:00Z');
    h = await secureHub(sqlite, { verifier: { now: () => clock } });
    const ci = await h.mint('ci', ['send'], { expiresInMs: 30 * 24 * HOUR });
    expect((await h.call(ci, '/v1/tasks')).status).toBe(200);
    clock += 30 * 24 * HOUR - 1_000;
    expect((await h.call(ci, '/v1/tasks')).status).toBe(200);
    clock += 1_000;
    const r = await h.call(ci, '/v1/tasks');
    expect(r.status).toBe(401);
    const text = await r.text();
    expect(text).toContain('expired');
    expect(text).not.toContain(ci);
  });

  it('revoking a token from another process ends its open SSE stream within 1 s', async () => {
    // The verifier caches verdicts for 5 s: the stream must not rely on the cache.
    h = await secureHub(sqlite, { verifier: { ttlMs: 5_000 }, sse: { heartbeatMs: 10_000 } });
    const watcher = await h.mint('watcher', ['read']);
    const res = await h.call(watcher, '/v1/events');
    expect(res.status).toBe(200);
    const ended = streamEnd(res);
    // The CLI's `token revoke` is another process: another store on the same database.
    const other = new StoreApiTokens(await h.fx.reopen());
    const revokedAt = performance.now();
    expect(await other.revoke('watcher', new Date().toISOString())).toBe(true);
    const end = await Promise.race([
      ended,
      new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 3_000).unref()),
    ]);
    expect(end - revokedAt).toBeLessThan(1_000);
    // And the revoked token opens nothing new.
    expect((await h.call(watcher, '/v1/events')).status).toBe(401);
  });

  it('an open SSE stream ends when its token expires (scaled clock)', async () => {
    let clock = Date.parse('2026-12-04T10:00:00Z');
    h = await secureHub(sqlite, { verifier: { now: () => clock }, sse: { heartbeatMs: 10_000 } });
    const watcher = await h.mint('watcher', ['read'], { expiresInMs: HOUR });
    const res = await h.call(watcher, '/v1/events');
    expect(res.status).toBe(200);
    const ended = streamEnd(res);
    clock += HOUR;
    const at = performance.now();
    const end = await Promise.race([
      ended,
      new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 3_000).unref()),
    ]);
    expect(end - at).toBeLessThan(1_000);
  });

  it('?access_token= is accepted on the SSE route only: a POST or another GET with it is 401', async () => {
    h = await secureHub(sqlite);
    const admin = await h.mint('admin', ['admin']);
    const q = `access_token=${encodeURIComponent(admin)}`;
    const before = await h.messageCount();
    const post = await h.call('', `/v1/messages?${q}`, {
      json: { group: 'ops', text: 'sent with a token from a URL' },
    });
    expect(post.status).toBe(401);
    expect((await h.call('', `/v1/tasks?${q}`)).status).toBe(401);
    expect((await h.call('', `/v1/deliveries/redrive?${q}`, { json: { ids: ['1'] } })).status).toBe(401);
    expect(await h.messageCount()).toBe(before);
    const sse = await h.call('', `/v1/events?${q}`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    // The dispatcher had its chance; the emulator never saw the message.
    await h.call(admin, '/v1/messages', { json: { group: 'ops', text: 'marker after query token' } });
    const emu = h.fx.hub.emulator!;
    await waitFor(() => emu.messages(OPS).some((m) => m.text.includes('marker after query token')));
    expect(emu.messages().some((m) => m.text.includes('sent with a token from a URL'))).toBe(false);
  });
});

// ---- the demo token, across a switch of the same database to real credentials ----

interface Serve {
  banner: { dashboard: string; token?: string; mode: string };
  stop(): Promise<void>;
  stderr(): string;
}

async function serve(cwd: string): Promise<Serve> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    cliArgs('serve', '--json', '--log', 'json', '--no-demo'),
    { cwd, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise((r) => child.on('exit', r));
  const banner = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited:\n${stderr}`);
      try {
        return JSON.parse(stdout) as Serve['banner'];
      } catch {
        return undefined;
      }
    },
    30_000,
    'the serve banner',
  );
  return {
    banner,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('demo tokens', () => {
  it('a demo token expires within 24 h and is refused once the same database runs with real credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingkit-demo-token-'));
    // "DingTalk" for the real configuration: an emulator of our own, not the hub's built-in one.
    const dingtalk = await startEmulator({ port: 0 });
    try {
      writeFileSync(
        join(dir, 'dingkit.config.json'),
        JSON.stringify({ server: { port: 0 }, emulator: { port: 0 } }),
      );
      const demo = await serve(dir);
      const token = demo.banner.token!;
      expect(demo.banner.mode).toContain('demo');
      const base = demo.banner.dashboard.replace(/\/$/, '');
      expect(
        (await fetch(`${base}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      await demo.stop();

      // The operator now configures real credentials on the same directory (same ./data/dingkit.db).
      const real = configFromOrg(
        dingtalk.state.org,
        parseConfig({ server: { port: 0 }, emulator: { mode: 'off' } }, {}),
        dingtalk.url,
      );
      writeFileSync(join(dir, 'dingkit.config.json'), JSON.stringify({ ...real, emulator: { mode: 'off' } }));
      const prod = await serve(dir);
      try {
        expect(prod.banner.mode).toBe('dingtalk');
        expect(prod.banner.token).toBeUndefined();
        const pbase = prod.banner.dashboard.replace(/\/$/, '');
        const r = await fetch(`${pbase}/v1/tasks`, { headers: { authorization: `Bearer ${token}` } });
        expect(r.status).toBe(401);
        const sent = await fetch(`${pbase}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ group: 'ops', text: 'demo token in production' }),
        });
        expect(sent.status).toBe(401);
        expect(dingtalk.state.messages.some((m) => m.text.includes('demo token in production'))).toBe(false);
        expect(prod.stderr()).not.toContain(token);
      } finally {
        await prod.stop();
      }

      const store = await openStore({ url: join(dir, 'data', 'dingkit.db') });
      try {
        const rows = await new StoreApiTokens(store).list();
        const row = rows.find((r) => r.name.startsWith('demo-'));
        expect(row).toBeDefined();
        expect(row!.demo).toBe(true);
        expect(Date.parse(row!.expiresAt ?? 'x') - Date.parse(row!.createdAt)).toBeLessThanOrEqual(24 * HOUR);
      } finally {
        await store.close();
      }
    } finally {
      await dingtalk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
