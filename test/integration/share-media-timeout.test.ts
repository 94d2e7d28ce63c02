/**
 * A media upload is given time in proportion to its size (hub/dingtalk/adapter.ts `mediaTimeoutMs`): the flat
 * per-call timeout (the dispatcher's send timeout, 10 s by default) is sized for small JSON calls, and under the
 * upload flood 20 MB uploads to the emulator ran past it, their shares failing with a 502.
 *
 * Here the send timeout is 1 s and the emulator answers the media upload after 2.5 s: a 1 MiB file gets
 * 1 s + 2 s (1 MiB at 512 KiB/s) and is shared.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_FLOOR_BYTES_PER_S, mediaTimeoutMs } from '../../src/hub/dingtalk/adapter.js';
import { backends, type HubFixture, startTestHub, testConfig } from '../e2e/hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

describe('media upload timeout', () => {
  let fx: HubFixture;
  beforeAll(async () => {
    fx = await startTestHub(sqlite, {
      config: testConfig({
        dispatcher: { pollMs: 20, leaseMs: 5_000, maxAttempts: 3, sendTimeoutMs: 1_000 },
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('grows with the size: 20 MB gets 40 s on top of the per-call timeout', () => {
    expect(MEDIA_FLOOR_BYTES_PER_S).toBe(512 * 1024);
    expect(mediaTimeoutMs(10_000, 20 * 1024 * 1024)).toBe(50_000);
    expect(mediaTimeoutMs(10_000, 0)).toBe(10_000);
  });

  it('a 1 MiB share whose media upload takes longer than the send timeout is not failed by it', async () => {
    const emu = fx.hub.emulator!;
    emu.setFaults({ rules: [{ route: 'POST /media/upload', latencyMs: 2_500 }] });
    try {
      const pdf = Buffer.alloc(1024 * 1024, 0x61);
      pdf.write('%PDF-1.4\n');
      const s = await fx.hub.shareFile(
        { group: 'engineering', content: pdf, fileName: 'big.pdf' },
        { by: 't' },
      );
      expect(emu.state.media.get(s.mediaId!)?.size).toBe(pdf.length);
    } finally {
      emu.setFaults({});
    }
  });
});
