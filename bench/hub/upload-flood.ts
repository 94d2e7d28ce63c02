/**
 * Upload flood: N concurrent 20 MB uploads to `POST /v1/files` of a real hub process (SQLite,
 * the emulator in this process so its copy of each upload is not the hub's), each shared with an app-robot
 * group: the hub streams the body to a temporary file and the file to the emulator's media upload.
 *
 *   node --import tsx bench/hub/upload-flood.ts [uploads=50] [mb=20]
 *
 * Two cases side by side: `files.maxConcurrentUploads` at N (every upload admitted at once) and at its default
 * (16: the rest answered 429 and sent again by the client after Retry-After). For each: the hub's RSS when idle,
 * its peak RSS during the flood (`VmHWM` from /proc/<pid>/status), uploads shared and refused, wall time and
 * throughput of shared bytes; an upload that got neither 202 nor 429 is counted as failed, its reason on stderr.
 * Before the streaming route (commit d399ee1) the whole body and a copy of the file were in memory: 12 such
 * uploads took the same hub to 935 MB peak. Not a test: nothing here asserts.
 *
 * Figures of 2026-12-04 (2 shared cores, load ~12): idle 156-171 MB, peak 205-233 MB in every run; 44-50 of 50
 * shared at limit 50 (54-175 s, 5-19 MB/s), 22-36 at the default 16. The failures were EPIPE on the client and
 * media uploads to the emulator over the flat 10 s per-call timeout (502). Causes: Node's keep-alive timeout
 * (5 s) closing a pooled socket as the client, late under load, wrote its next upload (a retry after 429) into
 * it; and a timeout not sized for 20 MB. After both fixes (every upload answer says Connection: close; the
 * media upload gets the send timeout plus the size at 512 KiB/s): 50/50 at limit 50 (peak 218 MB, 15.9 s) and
 * 50/50 at 16 (81 retries, peak 230 MB, 24.3 s), on a less loaded machine (load ~4). The loaded repro (30
 * uploads at limit 8 with 4 CPU-burning processes beside): 21/30 with 9 EPIPE before, 30/30 after (79 retries).
 */

import { type FloodHub, pdfBlob, startFloodHub, uploadOnce } from '../../test/support/upload-flood.js';

const N = Number(process.argv[2] ?? 50);
const MBYTES = Number(process.argv[3] ?? 20);
const MB = 1024 * 1024;

interface Row {
  limit: string;
  idleMb: number;
  peakMb: number;
  shared: number;
  refused429: number;
  failed: number;
  seconds: number;
  mbPerS: number;
}

async function runCase(limit: number | undefined): Promise<Row> {
  const f: FloodHub = await startFloodHub(limit === undefined ? {} : { maxConcurrentUploads: limit });
  try {
    const blob = pdfBlob(MBYTES * MB - 1024);
    // Warm the route once (module loading, the first token check), then read the idle figure.
    await uploadOnce(f.hub.url, f.token, pdfBlob(1024), 'warm.pdf');
    const idleMb = f.rssMb();
    let refused = 0;
    const reasons = new Map<string, number>();
    let failed = 0;
    let shared = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const a = await uploadOnce(f.hub.url, f.token, blob, `flood-${i}.pdf`).catch((e: unknown) => {
            const c = (e as { cause?: { code?: string; message?: string } }).cause;
            const why = `no answer (${c?.code ?? c?.message ?? String(e)})`;
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
            return undefined;
          });
          if (a?.status === 202) {
            shared++;
            return;
          }
          if (a?.status === 429) {
            refused++;
            await new Promise((r) => setTimeout(r, Number(a.retryAfter ?? 1) * 1000));
            continue;
          }
          failed++;
          if (a) {
            const why = `${a.status} ${a.body.slice(0, 160)}`;
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
          }
          return;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    for (const [why, n] of reasons) process.stderr.write(`failed x${n}: ${why}\n`);
    return {
      limit: limit === undefined ? 'default (16)' : String(limit),
      idleMb,
      peakMb: f.peakMb(),
      shared,
      refused429: refused,
      failed,
      seconds,
      mbPerS: (shared * blob.size) / MB / seconds,
    };
  } finally {
    await f.stop();
  }
}

const rows: Row[] = [];
/** `HFLOOD_CASES=all` (default) or `wide` (the limit at N only). */
const cases = process.env['HFLOOD_CASES'] === 'wide' ? [N] : [N, undefined];
for (const limit of cases) rows.push(await runCase(limit));

const head = [
  'maxConcurrentUploads',
  'idle RSS MB',
  'peak RSS MB',
  'shared',
  '429s',
  'failed',
  'wall s',
  'MB/s',
];
const lines = rows.map((r) => [
  r.limit,
  r.idleMb.toFixed(0),
  r.peakMb.toFixed(0),
  `${r.shared}/${N}`,
  String(r.refused429),
  String(r.failed),
  r.seconds.toFixed(1),
  r.mbPerS.toFixed(0),
]);
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
process.stdout.write(
  `\n${N} concurrent uploads of ${MBYTES} MB to one hub process (SQLite, app-robot group)\n\n`,
);
process.stdout.write(`${fmt(head)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n`);
for (const l of lines) process.stdout.write(`${fmt(l)}\n`);
