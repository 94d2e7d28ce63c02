/**
 * Where a command reads and writes. The real process streams in production; buffers in tests. Human output goes
 * to stdout, progress and notes to stderr, and with `--json` stdout carries exactly one JSON document.
 */

import type { Readable, Writable } from 'node:stream';
import { displayWidth, padEndDisplay } from './display-width.js';
import { oneLine, terminalSafe } from './terminal-text.js';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /**
   * The command's result: `human()` as text, or `data` as one JSON document with `--json`. Human text has its
   * control characters escaped (terminal-text.ts): it often quotes what people in the org wrote.
   */
  result(data: unknown, human: () => string): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = terminalSafe(human());
      if (text !== '') this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** A note for humans (stderr), suppressed with `--json` so scripts see clean output. */
  note(text: string): void {
    if (!this.json) this.io.stderr.write(`${terminalSafe(text)}\n`);
  }

  error(text: string): void {
    this.io.stderr.write(`dingkit: ${terminalSafe(text)}\n`);
  }
}

/**
 * A plain text table; columns padded to their widest cell by display width (a Chinese character takes two
 * columns, display-width.ts), the last one left ragged. Each cell is one line, its control characters shown as
 * escapes (a title with a newline cannot forge a row).
 */
export function table(headers: readonly string[], rawRows: readonly (readonly string[])[]): string {
  const rows = rawRows.map((r) => r.map(oneLine));
  const widths = headers.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padEndDisplay(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Reads all of stdin as text (for `send -` and line mode). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
