/**
 * `dingkit hooks list|test` against a real hub served on a loopback port, as an operator runs them: the CLI reads
 * the route secrets from its own config file (`${ENV}`), posts each kind's sample through the route's real door
 * (bearer; HMAC with a timestamp), and reads back what it became through the API. No secret in any output; a
 * wrong kind or route is a clear error with its exit code. SQLite and PostgreSQL.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { runCliInProcess as runCli } from '../support/cli-in-process.js';
import { gatewayConfig, HMAC_SECRET, HOOK_TOKEN } from './gateways-support.js';
import { backends, startTestHub, tempDir, waitFor } from './hub-helpers.js';

/** The CLI's config: only the routes (the CLI reads their secrets from here, through the environment). */
function writeCliConfig(dir: string): string {
  const path = join(dir, 'dingkit.config.json');
  writeFileSync(
    path,
    JSON.stringify({
      gateways: {
        routes: [
          {
            name: 'am',
            kind: 'alertmanager',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
            auth: { type: 'bearer', token: '${AM_TOKEN}' },
            targets: { groups: ['ops'] },
          },
          {
            name: 'generic',
            kind: 'generic',
            auth: {
              type: 'hmac',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
              secret: '${GENERIC_SECRET}',
              header: 'x-signature',
              prefix: 'sha256=',
              timestampHeader: 'x-timestamp',
            },
            targets: { groups: ['ops'] },
          },
        ],
      },
    }),
  );
  return path;
}

function noSecrets(text: string): void {
  expect(text).not.toContain(HOOK_TOKEN);
  expect(text).not.toContain(HMAC_SECRET);
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`dingkit hooks (${backend.name})`, () => {
    let f: Awaited<ReturnType<typeof startTestHub>>;
    let hub: RunningHub<Emulator>;
    let server: ApiServer;
    let readToken: string;
    const tmp = tempDir();
    let env: Record<string, string>;

    beforeAll(async () => {
      // The Alertmanager sample is a warning, which no rule of gatewayConfig's `am` matches: its fallback routes it.
      f = await startTestHub(backend, { config: gatewayConfig({}, { targets: { groups: ['ops'] } }) });
      hub = f.hub;
      const tokens = new MemoryApiTokenStore();
      readToken = (await createApiToken(tokens, 'reader', ['read'])).token;
      server = await createApiServer(hub, {
        tokens: new StoreTokenVerifier(tokens, { ttlMs: 0 }),
        metrics: hub.metrics,
        events: hub.events,
        hooks: hub.gateways,
      });
      hub.setPublicUrl(server.url);
      writeCliConfig(tmp.dir);
      env = {
        DINGKIT_URL: server.url,
        DINGKIT_TOKEN: readToken,
        AM_TOKEN: HOOK_TOKEN,
        GENERIC_SECRET: HMAC_SECRET,
      };
    });

    afterAll(async () => {
      await server?.close();
      await f?.cleanup();
      tmp.cleanup();
    });

    it('hooks test alertmanager: through the bearer door, shown as sent with its message and delivery', async () => {
      const r = await runCli(['hooks', 'test', 'alertmanager', '--json'], { env, cwd: tmp.dir });
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as {
        status: number;
        answer: { items: number };
        became: { result: string; items: number; summary: string; messageIds: string[] };
        messages: Array<{ id: string; deliveries: Array<{ target: string }> }>;
      };
      expect(out.status).toBe(202);
      expect(out.answer.items).toBe(1);
      expect(out.became).toMatchObject({ result: 'sent', items: 1, summary: '1 firing: DiskFull' });
      expect(out.messages).toHaveLength(1);
      expect(out.messages[0]!.deliveries[0]!.target).toBe('ops');
      // It really reaches the group, through the outbox ('sent' is the item's state: its message is queued).
      await waitFor(() =>
        hub.emulator!.messages().some((m) => m.text.includes('DiskFull') && m.text.includes('db-1')),
      );
    });

    it('hooks test generic: an HMAC over the exact bytes with a timestamp; human output names what it became', async () => {
      const r = await runCli(['hooks', 'test', 'generic'], { env, cwd: tmp.dir });
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r.stdout + r.stderr);
      expect(r.stdout).toContain(`POST ${server.url}/hooks/generic  (generic sample "event")`);
      expect(r.stdout).toMatch(/→ 202 \{"accepted":true,"duplicate":false,"items":1/);
      expect(r.stdout).toMatch(/became .* sent {2}1 item {2}1 event: Deploy finished \(a test event\)/);
      expect(r.stdout).toMatch(/message \S+: delivery \d+ \S+ → ops/);
    });

    it('twin: a wrong secret in the CLI config is refused at the door (401), exit 1, nothing stored', async () => {
      const before = await hub.hookRoutes!.list(50);
      const wrong = { ...env, GENERIC_SECRET: 'not-the-secret-0123456789' };
      const r = await runCli(['hooks', 'test', 'generic', '--json'], { env: wrong, cwd: tmp.dir });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        status: 401,
        answer: { error: { code: 'bad_signature' } },
      });
      expect(r.stdout + r.stderr).not.toContain('not-the-secret-0123456789');
      const after = await hub.hookRoutes!.list(50);
      expect(after.find((x) => x.name === 'generic')!.recent).toHaveLength(
        before.find((x) => x.name === 'generic')!.recent.length,
      );
    });

    it('hooks list: every route, its auth type, the URL to paste, and the last deliveries; no secret', async () => {
      const r = await runCli(['hooks', 'list', '--json'], { env, cwd: tmp.dir });
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r.stdout + r.stderr);
      const { routes } = JSON.parse(r.stdout) as {
        routes: Array<{
          name: string;
          kind: string;
          auth: { type: string; header?: string };
          url: string;
          rules: string[];
          fallback: string | null;
          recent: Array<{ result: string; items: number; summary: string }>;
        }>;
      };
      expect(routes.map((x) => [x.name, x.kind, x.auth])).toEqual([
        ['am', 'alertmanager', { type: 'bearer' }],
        ['generic', 'generic', { type: 'hmac', header: 'x-signature' }],
      ]);
      expect(routes[0]!.url).toBe(`${server.url}/hooks/am`);
      expect(routes[0]!.rules).toEqual([
        'severity=critical → groups ops (@all allowed)',
        'service=~web-.* → groups engineering',
      ]);
      expect(routes[0]!.fallback).toBe('groups ops');
      expect(routes[0]!.recent[0]).toMatchObject({ result: 'sent', items: 1, summary: '1 firing: DiskFull' });
      expect(routes[1]!.recent[0]).toMatchObject({ result: 'sent', items: 1 });
      const human = await runCli(['hooks', 'list'], { env, cwd: tmp.dir });
      expect(human.code).toBe(0);
      noSecrets(human.stdout + human.stderr);
      expect(human.stdout).toContain(`am  alertmanager  auth bearer\n  url     ${server.url}/hooks/am`);
      expect(human.stdout).toMatch(/recent {2}.* sent {2}1 item {2}1 firing: DiskFull {2}→ \S+/);
    });

    it('attack: an alert name with terminal escapes is shown escaped by hooks list, exact in --json', async () => {
      const evil = 'Pay\x1b]52;c;ZXZpbA==\x07\r\nforged row';
      const body = {
        version: '4',
        groupKey: 'evil',
        status: 'firing',
        receiver: 'x',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: '',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: evil },
            annotations: {},
            startsAt: new Date().toISOString(),
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: 'evil-1',
          },
        ],
      };
      const res = await fetch(`${server.url}/hooks/am`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(202);
      const human = await runCli(['hooks', 'list', '--recent', '1'], { env, cwd: tmp.dir });
      expect(human.code).toBe(0);
      expect(human.stdout).not.toContain('\x1b]52');
      expect(human.stdout).toContain('Pay\\x1b]52;c;ZXZpbA==\\x07');
      expect(human.stdout).not.toMatch(/\r/);
      const json = JSON.parse(
        (await runCli(['hooks', 'list', '--recent', '1', '--json'], { env, cwd: tmp.dir })).stdout,
      ) as {
        routes: Array<{ recent: Array<{ summary: string }> }>;
      };
      expect(json.routes[0]!.recent[0]!.summary).toContain(evil.replace(/\s+/g, ' ').trim().slice(0, 20));
    });

    it('a wrong kind or route: a clear error and its exit code, nothing posted', async () => {
      const before = (await hub.hookRoutes!.list(50)).map((x) => x.recent.length);
      const kind = await runCli(['hooks', 'test', 'nagios'], { env, cwd: tmp.dir });
      expect(kind.code).toBe(2);
      expect(kind.stderr).toContain('unknown payload kind "nagios" (kinds: alertmanager, generic');
      const route = await runCli(['hooks', 'test', 'alertmanager', '--route', 'nope'], { env, cwd: tmp.dir });
      expect(route.code).toBe(6);
      expect(route.stderr).toContain('no hook route "nope" in the config (routes: am, generic)');
      const mismatch = await runCli(['hooks', 'test', 'alertmanager', '--route', 'generic'], {
        env,
        cwd: tmp.dir,
      });
      expect(mismatch.code).toBe(2);
      expect(mismatch.stderr).toContain('route generic takes generic payloads, not alertmanager');
      const sample = await runCli(['hooks', 'test', 'alertmanager', '--sample', 'x'], { env, cwd: tmp.dir });
      expect(sample.code).toBe(2);
      expect(sample.stderr).toContain('samples: firing, resolved');
      expect((await hub.hookRoutes!.list(50)).map((x) => x.recent.length)).toEqual(before);
    });

    it('without a read token the answer is shown and the follow-up says what to set', async () => {
      const { DINGKIT_TOKEN: _t, ...anon } = env;
      const r = await runCli(['hooks', 'test', 'alertmanager', '--sample', 'resolved'], {
        env: anon,
        cwd: tmp.dir,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/→ 202 /);
      expect(r.stdout).toContain('set DINGKIT_TOKEN (read scope) to see what it became');
      const list = await runCli(['hooks', 'list'], { env: anon, cwd: tmp.dir });
      expect(list.code).toBe(5);
    });
  });
}
