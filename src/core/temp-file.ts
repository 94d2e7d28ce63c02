/**
 * Temporary files for uploads that must not sit in memory: a directory of our own under the OS temp dir (mode
 * 0700, from mkdtemp) holding files opened exclusively with mode 0600, so no other local user can read or swap
 * them; `remove()` deletes the lot and is safe to call twice. Writes are awaited one by one, which is the
 * backpressure: a fast sender waits for the disk instead of filling memory.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TEMP_PREFIX = 'dingkit-upload-';

export interface TempDir {
  dir: string;
  remove(): Promise<void>;
}

export async function makeTempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A file being written: `write` resolves once the bytes are handed to the OS. */
export interface FileSink {
  readonly path: string;
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function openSink(path: string): Promise<FileSink> {
  const fh = await open(path, 'wx', 0o600);
  let size = 0;
  let closed = false;
  return {
    path,
    get size() {
      return size;
    },
    async write(chunk) {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
      size += chunk.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/**
 * Copies a stream into `path`, refusing (and stopping the source) as soon as it passes `cap` bytes: `onOver`
 * makes the error. Resolves with the size and SHA-256 of what was written.
 */
export async function spoolTo(
  source: AsyncIterable<Uint8Array | string>,
  path: string,
  cap: number,
  onOver: (bytes: number) => Error,
): Promise<{ size: number; sha256: string }> {
  const sink = await openSink(path);
  const hash = createHash('sha256');
  try {
    for await (const chunk of source) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (sink.size + b.length > cap) {
        const s = source as { destroy?: () => void; on?: (e: string, f: () => void) => void };
        // Stop the source (a socket, a file): its abort error is expected, not a crash.
        s.on?.('error', () => {});
        s.destroy?.();
        throw onOver(sink.size + b.length);
      }
      hash.update(b);
      await sink.write(b);
    }
  } finally {
    await sink.close();
  }
  return { size: sink.size, sha256: hash.digest('hex') };
}

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
