/**
 * Times as people read and write them: in one configured IANA zone (`timeZone` in the hub config), always with the
 * zone marked, so a reader in another zone (or a CLI on a laptop far from the hub) cannot mistake the hour.
 *
 *   format   2026-12-05 18:00 (UTC+08:00)
 *   parse    `2026-12-05 18:00` (or `2026-12-05T18:00`, seconds allowed) is that wall-clock time in the zone
 *
 * Only `Intl.DateTimeFormat` is used: it carries the zone database of the running Node (full ICU since Node 13).
 *
 * Daylight saving: a wall time that occurs twice (clocks fall back) means its first occurrence, the earlier instant;
 * a wall time that never occurs (clocks spring forward over it) is refused with a reason rather than moved,
 * because a due time nobody's clock ever shows is a mistake to ask about, not to guess.
 */

import { ValidationError } from '../core/errors.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The zone the process runs in (TZ, else the system's), the default of `timeZone`. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** Whether `zone` is an IANA zone this Node knows (`Asia/Shanghai`, `UTC`); offsets like `+08:00` are not zones. */
export function isTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone === '' || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A wall-clock time without a zone: `YYYY-MM-DD HH:mm`, a `T` instead of the space, optional `:ss`. */
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * One zone's formatter and parser. Holds its `Intl.DateTimeFormat` (building one costs more than using it), so
 * a service keeps one instance rather than the module keeping a cache.
 */
export class ZonedTime {
  readonly zone: string;
  readonly #parts: Intl.DateTimeFormat;

  /** `zone` undefined: the system's (config `timeZone` unset). */
  constructor(zone: string = systemTimeZone()) {
    if (!isTimeZone(zone)) throw new ValidationError(`unknown time zone "${zone.slice(0, 64)}"`, 'timeZone');
    this.zone = zone;
    this.#parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** `2026-12-05 18:00 (UTC+08:00)`: the wall time in the zone and the zone's offset at that instant. */
  format(ms: number): string {
    const w = this.#wall(ms);
    return `${w.y}-${two(w.mo)}-${two(w.d)} ${two(w.h)}:${two(w.mi)} (${offsetLabel(this.offsetMs(ms))})`;
  }

  /** `18:00:05 (UTC+08:00)`: the time of day only, for a feed of recent events. */
  clock(ms: number): string {
    const w = this.#wall(ms);
    return `${two(w.h)}:${two(w.mi)}:${two(w.s)} (${offsetLabel(this.offsetMs(ms))})`;
  }

  /** `format` of an ISO string as the API returns it; text that is not a time is returned as it is. */
  formatIso(iso: string): string {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? this.format(ms) : iso;
  }

  /** How far the zone's clocks are ahead of UTC at `ms` (negative west of Greenwich). */
  offsetMs(ms: number): number {
    const t = Math.floor(ms / 1_000) * 1_000;
    const w = this.#wall(t);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - t;
  }

  /**
   * A zone-less wall time read in this zone; undefined when `text` is not of that form (the caller tries its
   * other forms). Refuses a date that does not exist and a time the zone's clocks skip.
   */
  parseLocal(text: string): number | undefined {
    const m = LOCAL.exec(text.trim());
    if (!m) return undefined;
    const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const naive = Date.UTC(y, mo - 1, d, h, mi, s);
    const back = new Date(naive);
    if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
      throw new ValidationError(`${text.trim()} is not a real date and time`, 'due');
    }
    // The offsets in force a day either side cover any one transition; keep the candidates the zone really
    // shows as this wall time, earliest first.
    const offsets = new Set([
      this.offsetMs(naive - DAY_MS),
      this.offsetMs(naive),
      this.offsetMs(naive + DAY_MS),
    ]);
    const hits = [...offsets]
      .map((o) => naive - o)
      .filter((t) => this.offsetMs(t) === naive - t)
      .sort((a, b) => a - b);
    if (hits[0] === undefined) {
      throw new ValidationError(
        `${text.trim()} does not exist in ${this.zone} (the clocks skip it when daylight saving starts)`,
        'due',
        { reason: 'time_skipped' },
      );
    }
    return hits[0];
  }

  #wall(ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
    const p: Record<string, number> = {};
    for (const part of this.#parts.formatToParts(ms)) {
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    }
    return {
      y: p['year'] ?? 1970,
      mo: p['month'] ?? 1,
      d: p['day'] ?? 1,
      // Some ICU versions write midnight as 24 even with h23.
      h: (p['hour'] ?? 0) % 24,
      mi: p['minute'] ?? 0,
      s: p['second'] ?? 0,
    };
  }
}

/**
 * A due time as people and programs give it: a wall time in the hub's zone (`2026-12-05 18:00`), or an ISO time
 * with its own offset or `Z` (`2026-12-05T18:00:00+08:00`). Anything else is refused.
 */
export function parseDue(text: string, zone: ZonedTime): number {
  if (typeof text !== 'string') throw new ValidationError('not a time', 'due');
  const local = zone.parseLocal(text);
  if (local !== undefined) return local;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) {
    throw new ValidationError(`not an ISO time or "YYYY-MM-DD HH:mm" (read in ${zone.zone})`, 'due');
  }
  return t;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `UTC+08:00`, `UTC-04:00`, `UTC+05:45`, `UTC+00:00`. */
function offsetLabel(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const min = Math.round(Math.abs(ms) / 60_000);
  return `UTC${sign}${two(Math.floor(min / 60))}:${two(min % 60)}`;
}
