/**
 * The `serve` log: pino-compatible calls (`logger.info(obj, msg)`), written as one line each — JSON lines for
 * log collectors, or a short human form on a terminal. Every line passes through the Redactor first, which knows
 * the configured app and robot secrets and the API tokens minted by this process.
 */

import type { Writable } from 'node:stream';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';

export type LogFormat = 'json' | 'pretty';
type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createConsoleLogger(
  out: Writable,
  o: { format: LogFormat; redactor: Redactor; level?: Level; now?: () => number },
): Logger {
  const min = RANK[o.level ?? 'info'];
  const now = o.now ?? Date.now;
  const line =
    (level: Level) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (RANK[level] < min) return;
      let text: string;
      if (o.format === 'json') {
        text = JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...obj });
      } else {
        const fields = Object.entries(obj)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const t = new Date(now()).toISOString().slice(11, 19);
        text = `${t} ${level.padEnd(5)} ${msg ?? ''}${fields ? `  ${fields}` : ''}`;
      }
      out.write(`${o.redactor.redact(text)}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
