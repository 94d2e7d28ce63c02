/**
 * `dispatcher.enabled: false` (an API-only process, or a held queue): the hub accepts and stores requests and
 * sends nothing; a process with the dispatcher on, sharing the store, then delivers them. The bench's backlog
 * mode (bench/hub/processes.ts) relies on it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { backends, OPS, type startTestHub, testConfig, waitFor } from './hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
type Fixture = Awaited<ReturnType<typeof startTestHub>>['fresh'];

describe('hub with the dispatcher off', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  it('stores and holds messages; a hub with the dispatcher on delivers them once', async () => {
    const fresh: Fixture = await sqlite.fresh();
    stops.push(() => fresh.cleanup());
    const off = await launchHub({
      config: testConfig({ dispatcher: { enabled: false, pollMs: 20 } }),
      store: await fresh.open(),
      receive: false,
    });
    stops.push(() => off.stop());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await off.sendMessage({ group: 'ops', text: `held ${i}` }, { by: 't' })).messageId);
    }
    // Ten poll periods of the disabled process: a running dispatcher would have sent by now.
    await new Promise((r) => setTimeout(r, 200));
    expect(off.emulator!.messages(OPS).filter((m) => m.text.startsWith('held'))).toHaveLength(0);
    for (const id of ids) expect((await off.getMessage(id))?.deliveries[0]?.status).toBe('queued');

    const on = await launchHub({
      config: testConfig({ dispatcher: { pollMs: 20 } }),
      store: await fresh.open(),
      receive: false,
    });
    stops.push(() => on.stop());
    const got = await waitFor(() => {
      const m = on.emulator!.messages(OPS).filter((x) => x.text.startsWith('held'));
      return m.length >= 3 ? m : undefined;
    });
    expect(got.map((m) => m.text)).toEqual(['held 0', 'held 1', 'held 2']);
    for (const id of ids) {
      await waitFor(async () => (await on.getMessage(id))?.deliveries[0]?.status === 'sent');
    }
  });
});
