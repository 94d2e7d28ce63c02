/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`) posting to the hub: started on 127.0.0.1 with a config in
 * a temp dir, random ports, no clustering, and scaled timings (group_wait 200 ms, group_interval 1 s); its webhook
 * receiver is the hub's `/hooks/am` with bearer auth, as an operator would configure it. Alerts are posted to
 * Alertmanager's own API (`POST /api/v2/alerts`): a firing one, then the same one ended; both reach the emulator's
 * group the rule names, the resolved one referring to the firing message. Then a storm through Alertmanager's own
 grouping: 600 alerts under 20 alert names, routed by severity to two groups whose custom robots are held to the
 emulator's real limit on a scaled window; every alert must reach its group exactly once (single messages and
 digests), no robot over the limit in any window, no throttle. Skipped, saying so, without the binary.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchHubOptions } from '../../src/cli/launch-hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { maxPerWindow } from '../chaos/hub-chaos-support.js';
import { backends } from '../conformance/backends.js';
import { accounted, gatewayConfig, HOOK_TOKEN } from '../e2e/gateways-support.js';
import { type HubFixture, OPS, PRODUCT, startTestHub, waitFor } from '../e2e/hub-helpers.js';

const BINARY = process.env['DINGKIT_ALERTMANAGER'] ?? '/usr/bin/prometheus-alertmanager';
const present = existsSync(BINARY);
if (!present) console.warn(`[gateways] ${BINARY} is not installed: the real-Alertmanager test is skipped`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alertmanagerConfig(hookUrl: string): string {
  // YAML by hand: the token is a test value; in production it is `credentials_file` or a secret manager's.
  return [
    'route:',
    '  receiver: dingkit',
    "  group_by: ['alertname']",
    '  group_wait: 200ms',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: dingkit',
    '    webhook_configs:',
    `      - url: '${hookUrl}'`,
    '        send_resolved: true',
    '        http_config:',
    '          authorization:',
    '            type: Bearer',
    `            credentials: '${HOOK_TOKEN}'`,
    '',
  ].join('\n');
}

async function startAlertmanager(hookUrl: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dingkit-am-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig(hookUrl));
  const port = await freePort();
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4_000);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => child.exitCode === null && (await fetch(`${url}/-/ready`)).ok,
    10_000,
    `Alertmanager ready (${stderr})`,
  );
  return url;
}

async function postAlerts(am: string, alerts: unknown[]): Promise<void> {
  const r = await fetch(`${am}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  if (!r.ok) throw new Error(`Alertmanager refused the alerts: ${r.status} ${await r.text()}`);
}

/** A hub (SQLite) with its hook doors on a real socket, and an Alertmanager whose receiver is the hub's `/hooks/am`. */
async function hubAndAlertmanager(
  config: ReturnType<typeof gatewayConfig>,
  emulator?: LaunchHubOptions['emulator'],
): Promise<{ f: HubFixture; am: string }> {
  const f = await startTestHub(backends[0]!, { config, ...(emulator ? { emulator } : {}) });
  cleanups.push(() => f.cleanup());
  const server: ApiServer = await createApiServer(f.hub, {
    tokens: new StoreTokenVerifier(new MemoryApiTokenStore()),
    metrics: f.hub.metrics,
    hooks: f.hub.gateways,
  });
  cleanups.push(() => server.close());
  return { f, am: await startAlertmanager(`${server.url}/hooks/am`) };
}

describe.skipIf(!present)('a real Alertmanager posting to the hub', () => {
  it('firing, then resolved, reach the group the rule names', async () => {
    const { f, am } = await hubAndAlertmanager(gatewayConfig());

    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alert = {
      labels: { alertname: 'RealDiskFull', severity: 'critical', instance: 'db-1:9100', owner: '张三' },
      annotations: { summary: 'Disk on db-1 is 95% full' },
      generatorURL: 'http://prometheus.example/graph',
      startsAt,
    };
    await postAlerts(am, [alert]);
    const emu = f.hub.emulator!;
    const fired = await waitFor(
      () => emu.messages(OPS).find((m) => m.text.includes('RealDiskFull') && m.text.includes('FIRING')),
      10_000,
      'the firing alert in the ops group',
    );
    expect(fired.text).toContain('Disk on db-1 is 95% full');
    expect(fired.atUserIds).toEqual(['zhangsan']);

    await postAlerts(am, [{ ...alert, endsAt: new Date(Date.now() - 1_000).toISOString() }]);
    const resolved = await waitFor(
      () => emu.messages(OPS).find((m) => m.text.includes('RealDiskFull') && m.text.includes('RESOLVED')),
      10_000,
      'the resolved alert in the ops group',
    );
    expect(resolved.text).toMatch(/re: the alert posted at /);
    expect(f.hub.metrics.render()).toContain('dingkit_hook_requests_total{result="accepted",route="am"} 2');
    // Nothing went elsewhere, and Alertmanager's requests were never refused.
    expect(f.hub.metrics.render()).not.toContain('result="unauthorized"');
  }, 30_000);

  it('a storm through Alertmanager’s grouping: every alert reaches its group once, within the robots’ limits', async () => {
    const WINDOW_MS = 2_000;
    const LIMIT = 20;
    const cfg = gatewayConfig(
      {},
      {
        rules: [
          { match: { severity: 'critical' }, targets: { groups: ['ops'] } },
          { match: { severity: 'warning' }, targets: { groups: ['product'] } },
        ],
      },
    );
    cfg.dispatcher.robotBudget = { limit: LIMIT - 1, windowMs: WINDOW_MS };
    const { f, am } = await hubAndAlertmanager(cfg, {
      limits: { robotLimit: LIMIT, robotWindowMs: WINDOW_MS, robotPenaltyMs: WINDOW_MS },
    });

    const NAMES = 20;
    const PER_NAME = 30;
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alerts = Array.from({ length: NAMES * PER_NAME }, (_, n) => {
      const name = n % NAMES;
      return {
        labels: {
          alertname: `Storm${name}`,
          severity: name % 2 === 0 ? 'critical' : 'warning',
          instance: `node-${n}`,
        },
        annotations: { summary: `node ${n} is unwell` },
        startsAt,
      };
    });
    // In three posts, as several Prometheus servers would send them; Alertmanager groups them by alertname.
    for (let i = 0; i < 3; i++)
      await postAlerts(
        am,
        alerts.filter((_, n) => n % 3 === i),
      );
    const emu = f.hub.emulator!;
    const half = (NAMES * PER_NAME) / 2;
    await waitFor(
      () => accounted(emu, OPS).alerts >= half && accounted(emu, PRODUCT).alerts >= half,
      30_000,
      'every alert of the storm in its group',
    );
    await f.hub.gateways!.flush();
    const ops = accounted(emu, OPS);
    const product = accounted(emu, PRODUCT);
    expect([ops.alerts, product.alerts]).toEqual([half, half]);
    const sends = emu.requests({ route: 'POST /robot/send' });
    expect(sends.filter((r) => r.code !== 0).map((r) => r.code)).toEqual([]);
    const peaks = [...maxPerWindow(sends, WINDOW_MS).values()];
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(LIMIT);
    expect(await f.hub.gateways!.hooks.counts()).toMatchObject({ sent: NAMES * PER_NAME });
    console.info(
      `[real alertmanager storm] ${NAMES * PER_NAME} alerts → ops ${ops.messages} messages, product ${product.messages}; busiest robot window ${Math.max(...peaks)} of ${LIMIT}`,
    );
  }, 60_000);
});
