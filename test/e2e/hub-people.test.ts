/**
 * A hub configured as for production (credentials, people known only by mobile), pointed at the emulator as its
 * DingTalk: people are resolved through the users API (mobile → userId → unionId, docs/dingtalk.md §7), cached in the
 * store, and not asked again after a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORG } from '../../src/emulator/demo-org.js';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { parseConfig } from '../../src/hub/config.js';
import { startHub } from '../../src/hub/hub.js';
import { backends, OPS, waitFor } from './hub-helpers.js';

const app = DEMO_ORG.org.apps[0]!;
const alerts = DEMO_ORG.org.customRobots.find((r) => r.name === 'alerts')!;

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub people directory against DingTalk (${backend.name})`, () => {
    let emu: Emulator;
    beforeAll(async () => {
      emu = await startEmulator({ port: 0 });
    });
    afterAll(async () => {
      await emu?.close();
    });

    it('resolves a person known by mobile once, caches it, and uses it after a restart without asking', async () => {
      const fresh = await backend.fresh();
      const config = parseConfig(
        {
          emulator: { mode: 'off' },
          dingtalk: { oapiBase: emu.url, apiBase: emu.url },
          apps: { main: { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId } },
          robots: {
            alerts: {
              webhook: `https://oapi.dingtalk.com/robot/send?access_token=${alerts.token}`,
              secret: alerts.security.secret,
            },
          },
          groups: { ops: { openConversationId: OPS, app: 'main', robot: 'alerts' } },
          people: { al: { name: 'Al', mobile: '13800000004' } },
          dispatcher: { pollMs: 20 },
          tasks: { pollMs: 20 },
        },
        {},
      );
      const lookups = () =>
        emu
          .requests()
          .filter((r) => r.path.startsWith('/topapi/v2/user/') || r.path.startsWith('/topapi/user/')).length;
      try {
        const hub = await startHub({ config, store: await fresh.open(), receive: false });
        expect(hub.emulator).toBeUndefined();
        expect((await hub.health()).stream).toBe('off');
        const before = lookups();
        const t = await hub.assignTask(
          { title: 'Check backups', assignees: ['Al'], group: 'ops' },
          { by: 't' },
        );
        expect(lookups() - before).toBe(2); // getbymobile, then user/get for the unionId
        const m = await waitFor(() => emu.messages(OPS).find((x) => x.text.includes(`New task #${t.id}`)));
        expect(m.atUserIds).toEqual(['alice']);
        await waitFor(() =>
          emu.todos().find((x) => x.subject === 'Check backups' && x.executorIds[0] === 'unionAlice0000004'),
        );
        expect((await hub.listPeople()).find((p) => p.name === 'Al')).toMatchObject({
          userId: 'alice',
          unionId: 'unionAlice0000004',
        });
        await hub.stop();

        const again = await startHub({ config, store: await fresh.open(), receive: false });
        const before2 = lookups();
        await again.sendMessage({ group: 'ops', text: 'ping', mention: ['Al'] }, { by: 't' });
        await again.assignTask({ title: 'Second', assignees: ['al'] }, { by: 't' });
        expect(lookups()).toBe(before2); // from the store's people cache
        await waitFor(() =>
          emu.messages(OPS).find((x) => x.text.startsWith('ping') && x.atUserIds.includes('alice')),
        );
        await again.stop();
      } finally {
        await fresh.cleanup();
      }
    });

    it('an unknown mobile is a typed error naming the person, and nothing is stored', async () => {
      const fresh = await backend.fresh();
      const config = parseConfig(
        {
          emulator: { mode: 'off' },
          dingtalk: { oapiBase: emu.url, apiBase: emu.url },
          apps: { main: { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId } },
          people: { ghost: { name: 'Ghost', mobile: '13999999999' } },
        },
        {},
      );
      const store = await fresh.open();
      const hub = await startHub({ config, store, receive: false });
      try {
        await expect(hub.assignTask({ title: 'x', assignees: ['Ghost'] }, { by: 't' })).rejects.toThrow(
          /cannot resolve "Ghost"/,
        );
        expect(await store.db.selectFrom('tasks').selectAll().execute()).toHaveLength(0);
      } finally {
        await hub.stop();
        await fresh.cleanup();
      }
    });
  });
}
