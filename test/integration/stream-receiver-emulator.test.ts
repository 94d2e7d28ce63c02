/**
 * The library's Stream receiver against the emulator's gateway with dropped connections (
 * "dropped Stream connections: no event lost or acked twice"). The emulator terminates every socket on a short
 * period while events are fired; the gateway re-pushes what was not acked (docs/dingtalk.md §S9).
 *
 * What must hold: every event reaches the handler (none lost), and no push is settled twice: the gateway's log
 * has at most one consuming ack per messageId. Handlers may see an event more than once (at-least-once: a push
 * whose ack was lost with its socket comes again), which is why the hub dedupes by eventId in its inbox.
 *
 * The test also proves it exercised the failure path: sockets were dropped, the client reconnected, and frames
 * were pushed again because their connection closed.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { StreamClient } from '../../src/stream/index.js';
import { waitFor } from '../support/wait-for.js';

const EVENTS = 150;

describe('StreamClient over the emulator with sockets dropped', () => {
  let emu: Emulator | undefined;
  let client: StreamClient | undefined;
  afterEach(async () => {
    await client?.stop();
    await emu?.close();
    client = undefined;
    emu = undefined;
  });

  it('loses no event and settles no push twice', async () => {
    // Redelivery of unacked frames after 300 ms keeps the test short (DingTalk's own delay is unpublished, §9).
    emu = await startEmulator({ port: 0, seed: 3, stream: { redeliverAfterMs: 300, pingIntervalMs: 1_000 } });
    const app = emu.state.org.apps[0]!;
    const seen = new Map<number, number>();
    let opens = 0;
    client = new StreamClient({
      clientId: app.appKey,
      clientSecret: app.appSecret,
      openApiBase: emu.url,
      backoff: { initialMs: 20, maxMs: 200 },
      healthyAfterMs: 50,
      onState: (s) => {
        if (s.state === 'connected') opens++;
      },
    });
    client.onEvent(async (event) => {
      // A little work per event, so that drops land between receipt and ack.
      await new Promise((r) => setTimeout(r, 20));
      const n = Number((event.data as { n: number }).n);
      seen.set(n, (seen.get(n) ?? 0) + 1);
    });
    await client.start();
    emu.setFaults({ stream: { dropEveryMs: 100, seed: 9 } });

    const messageIds: string[] = [];
    for (let n = 0; n < EVENTS; n++) {
      const out = await emu.fireEvent({ eventType: 'dingkit_test', data: { n }, via: 'stream' });
      messageIds.push(out.messageId!);
      if (n % 10 === 9) await new Promise((r) => setTimeout(r, 25));
    }
    await waitFor(() => seen.size === EVENTS, 20_000);
    emu.setFaults({ stream: { dropEveryMs: undefined } });
    // Let in-flight redeliveries of already-handled frames settle before reading the log.
    await waitFor(() => emu!.gateway.stats().pendingFrames === 0, 10_000).catch(() => {});

    // None lost.
    for (let n = 0; n < EVENTS; n++) expect(seen.get(n), `event ${n}`).toBeGreaterThanOrEqual(1);

    // None settled twice: at most one consuming ack per pushed messageId, and exactly one for each fired event.
    const log = emu.gateway.log();
    const consumed = new Map<string, number>();
    for (const a of log.acks) {
      if (a.kind === 'event' && a.consumed) consumed.set(a.messageId, (consumed.get(a.messageId) ?? 0) + 1);
    }
    for (const id of messageIds) expect(consumed.get(id), `acks of ${id}`).toBe(1);

    // The failure path really ran: sockets were dropped, the client reconnected, frames were re-pushed.
    expect(log.faults.length).toBeGreaterThan(0);
    expect(opens).toBeGreaterThan(1);
    const repushed = log.frames.filter((f) => f.reason === 'connection_closed' || f.reason === 'unacked');
    expect(repushed.length, 'frames pushed again after a drop').toBeGreaterThan(0);
  });
});
