/**
 * A hub in a process of its own (test/chaos/hub-runner.ts: store → startHub → HTTP API) with an emulator in this
 * process, for the upload-flood test and bench: many concurrent multipart uploads to `POST /v1/files`, and the
 * hub's peak resident memory read from `/proc/<pid>/status` (`VmHWM`, the kernel's high-water mark of RSS).
 * The emulator runs here, not in the hub, so its own copy of each upload is not counted as the hub's.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';
import { createApiToken } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';
import { openStore } from '../../src/store/open-store.js';
import {
  chaosOrg,
  type HubProcess,
  hubStandby,
  kill9,
  productionConfig,
  spawnHub,
} from '../chaos/hub-chaos-support.js';

export interface FloodHub {
  hub: HubProcess;
  emulator: Emulator;
  token: string;
  /** The hub process's temporary directory (its TMPDIR). */
  tempDir: string;
  /** Peak RSS of the hub process so far, in MB (`VmHWM`). */
  peakMb(): number;
  /** Current RSS of the hub process, in MB (`VmRSS`). */
  rssMb(): number;
  stop(): Promise<void>;
}

function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) / 1024;
}

export async function startFloodHub(files: Record<string, unknown> = {}): Promise<FloodHub> {
  const emulator = await startEmulator({ port: 0, fixture: chaosOrg(0), logRequests: false });
  const dir = mkdtempSync(join(tmpdir(), 'dingkit-flood-'));
  const url = join(dir, 'hub.db');
  const store = await openStore({ url });
  const { token } = await createApiToken(new StoreApiTokens(store), 'flood', ['send']);
  await store.close();
  const config = productionConfig(emulator, 0, {});
  config['files'] = files;
  // The hub's temporary files go to a directory of its own, so a test can count them while other tests (in other
  // workers) upload files of their own.
  const tempDir = join(dir, 'tmp');
  mkdirSync(tempDir, { mode: 0o700 });
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', TMPDIR: tempDir };
  const hub = await spawnHub({ config, databaseUrl: url, receive: false }, { standby: hubStandby(env) });
  const pid = hub.child.pid!;
  return {
    hub,
    emulator,
    token,
    tempDir,
    peakMb: () => statusMb(pid, 'VmHWM'),
    rssMb: () => statusMb(pid, 'VmRSS'),
    async stop() {
      await kill9(hub);
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface UploadAnswer {
  status: number;
  body: string;
  retryAfter: string | null;
}

/** One multipart upload of `content` as `name` to the group `engineering` (app robot: a real media upload). */
export async function uploadOnce(
  base: string,
  token: string,
  content: Blob,
  name: string,
): Promise<UploadAnswer> {
  const form = new FormData();
  form.append('group', 'engineering');
  form.append('file', content, name);
  const res = await fetch(`${base}/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

/** `n` uploads at once; resolves with every answer, in order. */
export function flood(base: string, token: string, n: number, content: Blob): Promise<UploadAnswer[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => uploadOnce(base, token, content, `flood-${i}.pdf`)));
}

/** `bytes` of a PDF-looking file (the content is not inspected; the extension is). */
export function pdfBlob(bytes: number): Blob {
  const b = Buffer.alloc(bytes, 0x61);
  b.write('%PDF-1.4\n');
  return new Blob([b]);
}
