/**
 * Secrets for the hub: after messages, tasks, files, chat commands and a dead letter, no secret
 * of the org (app secret, the app's access token, robot webhook tokens, robot signing secrets, the session webhook of a
 * bot message) nor
 * its base64 / URL-encoded form appears in any store row, hub event, health answer or log line.
 */
import { describe, expect, it } from 'vitest';
import { runDemoScene } from '../../src/cli/demo-scene.js';
import { backends, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

function forms(s: string): string[] {
  const b64 = Buffer.from(s).toString('base64');
  return [s, encodeURIComponent(s), b64, b64.replace(/=+$/, ''), encodeURIComponent(b64)];
}

describe('hub secrets', () => {
  it('keeps every org secret out of the store, events, health and logs', async () => {
    const logs: string[] = [];
    const line = (level: string) => (obj: Record<string, unknown>, msg?: string) =>
      logs.push(`${level} ${msg} ${JSON.stringify(obj)}`);
    const f = await startTestHub(sqlite, {
      config: testConfig({ dispatcher: { pollMs: 20, maxAttempts: 1 } }),
      logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    });
    try {
      const { hub } = f;
      const emu = hub.emulator!;
      const events: string[] = [];
      hub.events.subscribe((e) => events.push(JSON.stringify(e)));
      await runDemoScene(hub, { log: (l) => logs.push(l), stepTimeoutMs: 10_000 });
      await hub.sendMessage({ group: 'ops', text: 'signed robot message' }, { by: 't' });
      await waitFor(() => emu.messages(OPS).find((m) => m.text === 'signed robot message'));
      // A failing send leaves a dead letter whose reason is stored.
      emu.setFaults({ rules: [{ route: 'POST /robot/send', error5xx: 1 }] });
      const r = await hub.sendMessage({ group: 'ops', text: 'this one fails' }, { by: 't' });
      const failed = await waitFor(async () => {
        const m = await hub.getMessage(r.messageId);
        return m?.deliveries.find((d) => d.status === 'dead' || d.status === 'parked');
      });
      expect(failed.lastError).toBeTruthy();
      emu.setFaults({ rules: [] });
      // A bot message carries a session webhook; the inbox must not keep it.
      const posted = await emu.postMessage(OPS, { from: 'alice', text: 'help', atBot: true });
      await waitFor(() => emu.messages(OPS).find((m) => m.text.includes('I understand')));

      const org = emu.state.org;
      const secrets = [
        ...org.apps.map((a) => a.appSecret),
        ...org.customRobots.map((r) => r.token),
        ...org.customRobots.flatMap((r) => (r.security.secret ? [r.security.secret] : [])),
        new URL(posted.sessionWebhook!).searchParams.get('session')!,
        // The app access token in use: shared through the store, but sealed there (src/store/token-seal.ts).
        ...[...emu.state.tokensByApp.values()].map((t) => t.token),
      ];
      expect(emu.state.tokensByApp.size).toBeGreaterThan(0);
      const tables = [
        'messages',
        'deliveries',
        'inbox',
        'tasks',
        'task_events',
        'task_assignees',
        'file_shares',
        'people',
        'schedules',
        'kv',
        'locks',
      ] as const;
      const dump: string[] = [];
      for (const t of tables) dump.push(JSON.stringify(await f.store.db.selectFrom(t).selectAll().execute()));
      const health = JSON.stringify(await hub.health());
      const haystacks = { store: dump.join('\n'), events: events.join('\n'), health, logs: logs.join('\n') };
      expect(dump.join('').length).toBeGreaterThan(1_000); // the scan reads real rows
      expect(dump.join('')).toContain('token:'); // including the shared token's row
      for (const secret of secrets) {
        for (const form of forms(secret)) {
          for (const [where, text] of Object.entries(haystacks)) {
            expect(text.includes(form), `${where} holds a secret form`).toBe(false);
          }
        }
      }
      // Twin: the scan finds a secret when one is there.
      expect(JSON.stringify(org).includes(secrets[0]!)).toBe(true);
    } finally {
      await f.cleanup();
    }
  });
});
