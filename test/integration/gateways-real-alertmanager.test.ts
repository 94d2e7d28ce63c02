/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`) posting to the hub: started on 127.0.0.1 with a config in
 * a temp dir, random ports, no clustering, and scaled timings (group_wait 200 ms, group_interval 1 s); its webhook
 * receiver is the hub's `/hooks/am` with bearer auth, as an operator would configure it. Alerts are posted to
 * Alertmanager's own API (`POST /api/v2/alerts`): a firing one, then the same one ended; both reach the emulator's
 * group the rule names, the resolved one referring to the firing message. Skipped, saying so, without the binary.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { backends } from '../conformance/backends.js';
import { gatewayConfig, HOOK_TOKEN } from '../e2e/gateways-support.js';
import { OPS, startTestHub, waitFor } from '../e2e/hub-helpers.js';

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

describe.skipIf(!present)('a real Alertmanager posting to the hub', () => {
  it('firing, then resolved, reach the group the rule names', async () => {
    const f = await startTestHub(backends[0]!, { config: gatewayConfig() });
    cleanups.push(() => f.cleanup());
    const server: ApiServer = await createApiServer(f.hub, {
      tokens: new StoreTokenVerifier(new MemoryApiTokenStore()),
      metrics: f.hub.metrics,
      hooks: f.hub.gateways,
    });
    cleanups.push(() => server.close());
    const am = await startAlertmanager(`${server.url}/hooks/am`);

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
});
