import { describe, expect, it } from 'vitest';
import { runDemoScene } from '../../src/cli/demo-scene.js';
import { backends, startTestHub, waitFor } from './hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

describe('the npm start demo scene', () => {
  it('assigns, shares, and closes the task from the chat over Stream, logging each step', async () => {
    const f = await startTestHub(sqlite);
    try {
      const lines: string[] = [];
      const r = await runDemoScene(f.hub, { log: (l) => lines.push(l), stepTimeoutMs: 10_000 });
      expect(r.completed).toBe(true);
      const t = (await f.hub.getTask(r.taskId))!;
      expect(t.state).toBe('done');
      expect(t.history.map((e) => e.kind)).toEqual(['created', 'done']);
      expect(lines.join('\n')).toMatch(/Task #\d+ "Prepare the release notes" assigned to/);
      expect(lines.at(-1)).toMatch(/Demo scene finished/);
      expect(lines.join('\n')).toMatch(/both Todos are closed in DingTalk/);
      const emu = f.hub.emulator!;
      const group = 'cidDemoEngineering0001==';
      await waitFor(() => emu.messages(group).find((m) => m.type === 'sampleFile'));
      await waitFor(() => emu.messages(group).find((m) => m.text.includes(`Task #${r.taskId} finished by`)));
      await waitFor(
        () => emu.todos().filter((x) => x.subject === 'Prepare the release notes' && x.done).length === 2,
      );
      const metrics = f.hub.metrics.render();
      expect(metrics).toContain('dingkit_hub_changes_total{type="task.created"} 1');
      expect(metrics).toContain('dingkit_hub_changes_total{type="file.shared"} 1');
      expect(metrics).toMatch(/dingkit_inbound_total\{kind="bot",result="new"\} [1-9]/);
      expect((await f.hub.health()).stream).toBe('connected');
    } finally {
      await f.cleanup();
    }
  });

  it('refuses to run against real DingTalk', async () => {
    const fake = { emulator: undefined } as unknown as Parameters<typeof runDemoScene>[0];
    await expect(runDemoScene(fake, { log: () => {} })).rejects.toThrow(/emulator only/);
  });
});

describe('hub start in demo mode', () => {
  it('does not hang when the Stream gateway refuses every connection; it starts and keeps trying', async () => {
    const warnings: string[] = [];
    const noop = () => {};
    const started = Date.now();
    const f = await startTestHub(sqlite, {
      emulator: { port: 0, initialFaults: { stream: { refuseUpgrades: true } } },
      streamConnectTimeoutMs: 300,
      logger: { debug: noop, info: noop, error: noop, warn: (_o, m) => warnings.push(String(m)) },
    });
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(warnings).toContain('Stream not connected yet; the hub starts anyway and keeps trying');
      expect((await f.hub.health()).stream).not.toBe('connected');
      f.hub.emulator!.setFaults({ stream: { refuseUpgrades: false } });
      await waitFor(async () => (await f.hub.health()).stream === 'connected', 10_000);
    } finally {
      await f.cleanup();
    }
  });
});
