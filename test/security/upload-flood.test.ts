/**
 * Attack: many large uploads at once. The file route read the whole multipart body into memory, then copied the
 * file part into a Buffer for the hub: 12 concurrent 20 MB uploads took a hub from ~125 MB to ~967 MB RSS, and
 * enough of them exhaust the machine. Defence: the body is streamed to an owner-only temporary file (the cap
 * enforced while streaming, 413 at the first byte over), the upload to DingTalk streams from that file, and
 * `files.maxConcurrentUploads` bounds how many run at once (429 with Retry-After beyond it).
 *
 * A real hub in its own process; its peak RSS (`VmHWM`) is read from /proc.
 */

import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FloodHub, flood, pdfBlob, startFloodHub, uploadOnce } from '../support/upload-flood.js';

const MB = 1024 * 1024;
const N = 12;
const BOUND_MB = 300;

describe.skipIf(process.platform !== 'linux')('upload flood against a hub process', () => {
  let f: FloodHub;
  beforeAll(async () => {
    f = await startFloodHub({ maxConcurrentUploads: 16 });
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  it(`${N} concurrent 20 MB uploads are all shared and keep the hub under ${BOUND_MB} MB peak RSS`, async () => {
    const blob = pdfBlob(20 * MB - 1024);
    const answers = await flood(f.hub.url, f.token, N, blob);
    for (const a of answers) expect(a.status, a.body.slice(0, 200)).toBe(202);
    const ids = answers.map((a) => (JSON.parse(a.body) as { mediaId: string }).mediaId);
    for (const id of ids) expect(f.emulator.state.media.get(id)?.size).toBe(blob.size);
    const peak = f.peakMb();
    expect(peak, `peak RSS ${peak.toFixed(0)} MB`).toBeLessThan(BOUND_MB);
  }, 120_000);

  it('refuses a file over the cap with 413 while it streams, and leaves no temporary file behind', async () => {
    const before = readdirSync(f.tempDir).filter((n) => n.startsWith('dingkit-upload-')).length;
    const a = await uploadOnce(f.hub.url, f.token, pdfBlob(21 * MB), 'big.pdf');
    expect(a.status).toBe(413);
    const after = readdirSync(f.tempDir).filter((n) => n.startsWith('dingkit-upload-')).length;
    expect(after).toBeLessThanOrEqual(before);
  }, 60_000);
});

describe.skipIf(process.platform !== 'linux')('the upload concurrency limit', () => {
  let f: FloodHub;
  beforeAll(async () => {
    f = await startFloodHub({ maxConcurrentUploads: 2 });
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  it('answers 429 with Retry-After beyond files.maxConcurrentUploads, and serves the rest', async () => {
    const answers = await flood(f.hub.url, f.token, 8, pdfBlob(8 * MB));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(2);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    // Once they are done, the next one is taken.
    expect((await uploadOnce(f.hub.url, f.token, pdfBlob(1024), 'after.pdf')).status).toBe(202);
  }, 60_000);
});
