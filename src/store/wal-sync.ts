/**
 * Durable commits on SQLite without freezing the event loop, and one fsync for the commits that end together.
 *
 * With `synchronous = FULL`, SQLite fsyncs the WAL inside every COMMIT. better-sqlite3 is synchronous, so that
 * fsync (2 ms typical, 30 ms and more on a busy disk) stops the whole process: every HTTP caller, every dispatcher
 * send, every other commit. Instead the connection runs with `synchronous = NORMAL` (in WAL mode: consistent after
 * any crash, the last commits possibly missing after a power cut, https://www.sqlite.org/pragma.html#pragma_synchronous)
 * and the driver, after a COMMIT that wrote something, waits here for an fsync of the WAL file done on libuv's
 * thread pool. The transaction's promise resolves only after it: a caller told "committed" has its rows on disk,
 * as with FULL, while the event loop keeps serving everyone else.
 *
 * Group commit falls out of it: a commit must wait for an fsync that *started* after it (one already running may
 * have missed its pages), so commits that end while an fsync runs all share the next one.
 *
 * The WAL is opened lazily (it exists once the first commit wrote to it) and stays open: SQLite never deletes it
 * while our connection is open, and resets it in place (same inode) after a checkpoint. The first fsync also
 * syncs the directory, as SQLite does for a new WAL (its `UNIXFILE_DIRSYNC`), so the file's name survives too.
 */

import { closeSync, fsync as fsyncCb, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type FsyncFn = (fd: number) => Promise<void>;

const fsyncAsync: FsyncFn = (fd) =>
  new Promise((resolve, reject) => fsyncCb(fd, (e) => (e ? reject(e) : resolve())));

export class WalSync {
  readonly #walFile: string;
  readonly #fsync: FsyncFn;
  #fd: number | undefined;
  #dirSynced = false;
  /** The fsync running now, if any. */
  #running: Promise<void> | undefined;
  /** The fsync that starts when the running one ends: the one every commit made meanwhile waits for. */
  #next: Promise<void> | undefined;
  /** fsyncs started so far (tests, the bench). */
  count = 0;

  constructor(walFile: string, o: { fsync?: FsyncFn } = {}) {
    this.#walFile = walFile;
    this.#fsync = o.fsync ?? fsyncAsync;
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    const after = this.#running.catch(() => {});
    this.#next = after.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<void> {
    this.count++;
    const p = this.#flush().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }

  async #flush(): Promise<void> {
    this.#fd ??= openSync(this.#walFile, 'r');
    await this.#fsync(this.#fd);
    if (!this.#dirSynced) {
      const dir = openSync(dirname(this.#walFile), 'r');
      try {
        await this.#fsync(dir);
      } finally {
        closeSync(dir);
      }
      this.#dirSynced = true;
    }
  }

  /** Waits for the fsyncs asked for, then closes the WAL. */
  async close(): Promise<void> {
    await (this.#next ?? this.#running)?.catch(() => {});
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
