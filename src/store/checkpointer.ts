/**
 * WAL checkpoints on a worker thread. SQLite copies the WAL back into the database file when it passes
 * `wal_autocheckpoint` pages (1,000), inside the COMMIT that crossed the line, and fsyncs the WAL and the database
 * file as it does: with better-sqlite3 that is the event loop stopped for the copy and two fsyncs (the bench's
 * profile of a hub: 6 % of its time in fsync on the main thread, every few hundred messages a stall of tens of
 * ms). Here a second connection on a worker thread runs `wal_checkpoint(PASSIVE)` (never blocks readers or the
 * writer) at most every `everyMs` after writes, and the main connection's automatic checkpoint is raised tenfold:
 * a safety net for a worker that cannot keep up, not the path taken.
 *
 * The worker starts after `startAfter` commits (200), so a store that writes little (most tests, the CLI) never
 * starts one; its WAL stays small and SQLite checkpoints it when the last connection closes.
 */

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
// This connection only checkpoints: a busy wait blocks this thread alone.
db.pragma('busy_timeout = 1000');
parentPort.on('message', () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, message: String(e && e.message) });
  }
});
`;

export class Checkpointer {
  readonly #file: string;
  readonly #everyMs: number;
  readonly #startAfter: number;
  #commits = 0;
  #worker: Worker | undefined;
  #busy = false;
  #last = 0;
  /** Checkpoints asked of the worker so far (tests). */
  count = 0;

  constructor(file: string, o: { everyMs?: number; startAfter?: number } = {}) {
    this.#file = file;
    this.#everyMs = o.everyMs ?? 200;
    this.#startAfter = o.startAfter ?? 200;
  }

  /** After a commit: checkpoints on the worker unless one runs or ran less than `everyMs` ago. */
  kick(): void {
    if (!this.#worker && ++this.#commits < this.#startAfter) return;
    const now = Date.now();
    if (this.#busy || now - this.#last < this.#everyMs) return;
    this.#busy = true;
    this.#last = now;
    this.count++;
    if (!this.#worker) {
      const module = createRequire(import.meta.url).resolve('better-sqlite3');
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file: this.#file } });
      // A checkpoint that failed (a reader pinned the WAL, a busy lock) is tried again on a later kick; a worker
      // that died leaves SQLite's own automatic checkpoint to do the work.
      w.on('message', () => {
        this.#busy = false;
      });
      w.on('error', () => {
        this.#busy = true;
      });
      w.unref();
      this.#worker = w;
    }
    this.#worker.postMessage(0);
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}
