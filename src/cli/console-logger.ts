/**
 * The `serve` log: pino-compatible calls (`logger.info(obj, msg)`), written as one line each — JSON lines for
 * log collectors, or a short human form on a terminal. Every string passes through the Redactor first, which knows
 * the configured app and robot secrets and the API tokens minted by this process, and the whole line once more.
 *
 * A field can quote what people in the org wrote (an error naming a chat message, a nick), so one call is always
 * exactly one line and acts on no terminal: the pretty form quotes any value that is not a bare word and escapes
 * its control characters; the JSON form escapes what JSON.stringify leaves raw (C1, bidi controls, U+2028/9).
 */

import type { Writable } from 'node:stream';
import type { Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { oneLine } from './terminal-text.js';

export type LogFormat = 'json' | 'pretty';
type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A value printed bare in the pretty form: no space, quote, `=` or backslash, nothing a terminal acts on. */
const BARE = /^[^\s"'=\\\p{C}\u2028\u2029]+$/u;
/** Left raw by JSON.stringify, acted on by terminals and some log viewers; only ever inside JSON strings. */
const JSON_RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export function createConsoleLogger(
  out: Writable,
  o: { format: LogFormat; redactor: Redactor; level?: Level; now?: () => number },
): Logger {
  const min = RANK[o.level ?? 'info'];
  const now = o.now ?? Date.now;
  // Redact before escaping: an escaped secret (a quote in it turned into \") would no longer match.
  const redacted = (v: unknown, depth = 0): unknown => {
    if (typeof v === 'string') return o.redactor.redact(v);
    if (depth > 6 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => redacted(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redacted(x, depth + 1)]));
  };
  const line =
    (level: Level) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (RANK[level] < min) return;
      const fields = redacted(obj) as Record<string, unknown>;
      const message = msg === undefined ? undefined : o.redactor.redact(msg);
      let text: string;
      if (o.format === 'json') {
        text = JSON.stringify({
          time: new Date(now()).toISOString(),
          level,
          msg: message,
          ...fields,
        }).replace(JSON_RAW, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
      } else {
        const shown = Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${oneLine(k)}=${pretty(v)}`)
          .join(' ');
        const t = new Date(now()).toISOString().slice(11, 19);
        text = `${t} ${level.padEnd(5)} ${oneLine(message ?? '')}${shown ? `  ${shown}` : ''}`;
      }
      out.write(`${o.redactor.redact(text)}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

function pretty(v: unknown): string {
  if (typeof v === 'string') return BARE.test(v) ? v : oneLine(JSON.stringify(v));
  return oneLine(JSON.stringify(v) ?? String(v));
}
