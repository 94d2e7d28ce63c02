/**
 * Firing and resolved together, and flapping. A resolved alert is held for `gateways.flapWindowMs` (scaled down
 * here); when the same alert fires again inside it, neither the resolve nor the refire is posted and the alert's
 * flap count goes up, shown on the resolved reply that finally goes out. Twin: with no window (0), every
 * transition is its own message.
 */

import { describe, expect, it } from 'vitest';
import { amBody, gatewayConfig, hookApp } from './gateways-support.js';
import { backends, OPS, startTestHub, waitFor } from './hub-helpers.js';

const FLAP_MS = 600;

async function flap(post: ReturnType<typeof hookApp>['post']): Promise<void> {
  const send = async (status: 'firing' | 'resolved', startsAt: string, endsAt?: string) => {
    const body = amBody([{ name: 'Flappy', fp: 'fp-flap', status, startsAt, ...(endsAt ? { endsAt } : {}) }]);
    const r = await post('/hooks/am', body);
    if (r.status !== 202) throw new Error(`${status}: ${r.status}`);
  };
  await send('firing', '2026-12-05T02:00:00Z');
  await send('resolved', '2026-12-05T02:00:00Z', '2026-12-05T02:01:00Z');
  await send('firing', '2026-12-05T02:02:00Z');
  await send('resolved', '2026-12-05T02:02:00Z', '2026-12-05T02:03:00Z');
}

/** Transitions the group was told of: a single message tells one, a digest its count. */
function transitions(emu: { messages(c: string): Array<{ text: string }> }): number {
  let n = 0;
  for (const m of emu.messages(OPS)) {
    const digest = /📋 (\d+) alerts/.exec(m.text);
    if (digest) n += Number(digest[1]);
    else if (m.text.includes('Flappy')) n += 1;
  }
  return n;
}

const flappy = (emu: { messages(c: string): Array<{ text: string }> }) =>
  emu.messages(OPS).filter((m) => m.text.includes('Flappy'));

for (const backend of backends) {
  describe.skipIf(backend.skip)(`firing, resolved and flapping (${backend.name})`, () => {
    it('fire → resolve → fire → resolve inside the window: one firing message, one resolved reply saying it flapped', async () => {
      const f = await startTestHub(backend, { config: gatewayConfig({ flapWindowMs: FLAP_MS }) });
      try {
        const { post } = hookApp(f.hub);
        await flap(post);
        const resolved = await waitFor(
          () => flappy(f.hub.emulator!).find((m) => m.text.includes('RESOLVED')),
          FLAP_MS * 10,
        );
        expect(resolved.text).toContain('flapped 1×');
        expect(resolved.text).toMatch(/re: the alert posted at /);
        await f.hub.gateways!.flush();
        const texts = flappy(f.hub.emulator!).map((m) => m.text.split('\n')[0]);
        expect(texts).toEqual(['### 🔥 FIRING: Flappy', '### ✅ RESOLVED: Flappy']);
        expect(await f.hub.gateways!.hooks.counts()).toEqual({ sent: 2, coalesced: 2 });
      } finally {
        await f.cleanup();
      }
    });

    it('twin: with no flap window every transition is posted (alone or in a digest)', async () => {
      const f = await startTestHub(backend, { config: gatewayConfig({ flapWindowMs: 0 }) });
      try {
        const { post } = hookApp(f.hub);
        await flap(post);
        await waitFor(() => transitions(f.hub.emulator!) >= 4, 5_000);
        await f.hub.gateways!.flush();
        expect(transitions(f.hub.emulator!)).toBe(4);
        expect(flappy(f.hub.emulator!).some((m) => m.text.includes('flapped'))).toBe(false);
      } finally {
        await f.cleanup();
      }
    });
  });
}
