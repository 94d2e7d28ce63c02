/**
 * A progress bar for bulk sends and uploads, drawn on stderr and only on a TTY (a pipe or a CI log gets nothing:
 * carriage-return animations are noise there). Redraws are throttled so a fast loop does not flood the terminal.
 */

import type { Writable } from 'node:stream';
import { oneLine } from './terminal-text.js';

interface ProgressOptions {
  total: number;
  label: string;
  /** Show byte counts (uploads) instead of item counts. */
  bytes?: boolean;
  /** @default 80 ms */
  intervalMs?: number;
  now?: () => number;
}

const WIDTH = 24;

export class ProgressBar {
  readonly #out: Writable & { isTTY?: boolean; columns?: number };
  readonly #o: ProgressOptions;
  readonly #enabled: boolean;
  readonly #now: () => number;
  #done = 0;
  #last = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(out: Writable & { isTTY?: boolean; columns?: number }, o: ProgressOptions) {
    this.#out = out;
    this.#o = o;
    this.#enabled = out.isTTY === true && o.total > 0;
    this.#now = o.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Sets the absolute amount done. */
  update(done: number): void {
    this.#done = Math.min(done, this.#o.total);
    if (!this.#enabled) return;
    const t = this.#now();
    if (this.#done < this.#o.total && t - this.#last < (this.#o.intervalMs ?? 80)) return;
    this.#last = t;
    this.#draw();
  }

  tick(by = 1): void {
    this.update(this.#done + by);
  }

  /** Clears the bar so the result can be printed on a clean line. */
  finish(): void {
    if (this.#enabled && this.#drawn) this.#out.write('\r\u001b[2K');
    this.#drawn = false;
  }

  render(): string {
    const ratio = this.#o.total === 0 ? 1 : this.#done / this.#o.total;
    const filled = Math.round(ratio * WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
    const count = this.#o.bytes
      ? `${formatBytes(this.#done)}/${formatBytes(this.#o.total)}`
      : `${this.#done}/${this.#o.total}`;
    // The label may name a file from a remote Content-Disposition (`file share --from-url`): escaped, one line.
    return `${oneLine(this.#o.label)} ${bar} ${String(Math.floor(ratio * 100)).padStart(3)}% ${count}`;
  }

  #draw(): void {
    const cols = this.#out.columns ?? 80;
    this.#out.write(`\r\u001b[2K${this.render().slice(0, Math.max(10, cols - 1))}`);
    this.#drawn = true;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
