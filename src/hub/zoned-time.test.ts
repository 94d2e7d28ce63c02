import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../test/support/expect-throws.js';
import { ValidationError } from '../core/errors.js';
import { isTimeZone, parseDue, systemTimeZone, ZonedTime } from './zoned-time.js';

const shanghai = new ZonedTime('Asia/Shanghai');
const newYork = new ZonedTime('America/New_York');

describe('formatting a time in a zone', () => {
  it('writes the wall time and marks the zone by its offset', () => {
    expect(shanghai.format(Date.parse('2026-12-05T10:00:00Z'))).toBe('2026-12-05 18:00 (UTC+08:00)');
    expect(new ZonedTime('UTC').format(Date.parse('2026-12-05T10:00:00Z'))).toBe(
      '2026-12-05 10:00 (UTC+00:00)',
    );
    expect(new ZonedTime('Asia/Kathmandu').format(Date.parse('2026-12-05T10:00:00Z'))).toBe(
      '2026-12-05 15:45 (UTC+05:45)',
    );
    // Midnight is 00, not 24.
    expect(shanghai.format(Date.parse('2026-12-04T16:00:00Z'))).toBe('2026-12-05 00:00 (UTC+08:00)');
  });

  it('follows daylight saving: the same zone shows two offsets either side of a switch', () => {
    // 2026-03-08 07:00Z is 02:00 EST, when New York springs forward to 03:00 EDT.
    expect(newYork.format(Date.parse('2026-03-08T06:59:00Z'))).toBe('2026-03-08 01:59 (UTC-05:00)');
    expect(newYork.format(Date.parse('2026-03-08T07:00:00Z'))).toBe('2026-03-08 03:00 (UTC-04:00)');
    // 2026-11-01 06:00Z is 02:00 EDT, when it falls back to 01:00 EST.
    expect(newYork.format(Date.parse('2026-11-01T05:30:00Z'))).toBe('2026-11-01 01:30 (UTC-04:00)');
    expect(newYork.format(Date.parse('2026-11-01T06:30:00Z'))).toBe('2026-11-01 01:30 (UTC-05:00)');
  });

  it('shows a time of day with the zone marked', () => {
    expect(shanghai.clock(Date.parse('2026-12-05T10:00:05Z'))).toBe('18:00:05 (UTC+08:00)');
    expect(newYork.clock(Date.parse('2026-07-01T13:00:00Z'))).toBe('09:00:00 (UTC-04:00)');
  });

  it('formats an ISO string and leaves anything else alone', () => {
    expect(shanghai.formatIso('2026-12-05T10:00:00.000Z')).toBe('2026-12-05 18:00 (UTC+08:00)');
    expect(shanghai.formatIso('-')).toBe('-');
  });
});

describe('reading a wall time in a zone', () => {
  it('reads YYYY-MM-DD HH:mm in the zone, with a T or seconds too', () => {
    expect(shanghai.parseLocal('2026-12-05 18:00')).toBe(Date.parse('2026-12-05T18:00:00+08:00'));
    expect(shanghai.parseLocal(' 2026-12-05T18:00:30 ')).toBe(Date.parse('2026-12-05T18:00:30+08:00'));
    expect(newYork.parseLocal('2026-07-01 09:00')).toBe(Date.parse('2026-07-01T09:00:00-04:00'));
    expect(newYork.parseLocal('2026-01-15 09:00')).toBe(Date.parse('2026-01-15T09:00:00-05:00'));
  });

  it('leaves other forms to the caller', () => {
    expect(shanghai.parseLocal('2026-12-05T18:00:00+08:00')).toBeUndefined();
    expect(shanghai.parseLocal('tomorrow')).toBeUndefined();
  });

  it('refuses a date or time that does not exist', () => {
    expect(() => shanghai.parseLocal('2026-02-30 10:00')).toThrow(/not a real date/);
    expect(() => shanghai.parseLocal('2026-12-05 24:00')).toThrow(/not a real date/);
    expect(() => shanghai.parseLocal('2026-12-05 18:60')).toThrow(/not a real date/);
  });

  it('around spring forward: the hour before and after are read, the skipped hour is refused with a reason', () => {
    expect(newYork.parseLocal('2026-03-08 01:30')).toBe(Date.parse('2026-03-08T01:30:00-05:00'));
    expect(newYork.parseLocal('2026-03-08 03:30')).toBe(Date.parse('2026-03-08T03:30:00-04:00'));
    expect(() => newYork.parseLocal('2026-03-08 02:30')).toThrow(/does not exist in America\/New_York/);
    expect(expectThrows(() => newYork.parseLocal('2026-03-08 02:00'), ValidationError).reason).toBe(
      'time_skipped',
    );
  });

  it('around fall back: a wall time shown twice means the first (earlier) one', () => {
    expect(newYork.parseLocal('2026-11-01 01:30')).toBe(Date.parse('2026-11-01T01:30:00-04:00'));
    expect(newYork.parseLocal('2026-11-01 02:30')).toBe(Date.parse('2026-11-01T02:30:00-05:00'));
    expect(newYork.parseLocal('2026-11-01 00:30')).toBe(Date.parse('2026-11-01T00:30:00-04:00'));
  });

  it('round-trips: what format shows, parseLocal reads back to the same minute', () => {
    for (const iso of [
      '2026-03-08T06:30:00Z',
      '2026-03-08T07:30:00Z',
      '2026-11-01T06:30:00Z',
      '2026-06-30T23:59:00Z',
    ]) {
      const ms = Date.parse(iso);
      const shown = newYork.format(ms).slice(0, 16);
      const back = newYork.parseLocal(shown)!;
      // Exact, except the second pass through a fall-back hour, which reads as its first occurrence.
      expect([ms, ms - 3_600_000]).toContain(back);
    }
  });
});

describe('due input', () => {
  it('takes a zone-less wall time in the hub zone and an ISO time with its own offset', () => {
    expect(parseDue('2026-12-05 18:00', shanghai)).toBe(Date.parse('2026-12-05T10:00:00Z'));
    expect(parseDue('2026-12-05 18:00', newYork)).toBe(Date.parse('2026-12-05T23:00:00Z'));
    expect(parseDue('2026-12-05T18:00:00Z', shanghai)).toBe(Date.parse('2026-12-05T18:00:00Z'));
    expect(parseDue('2026-12-05T18:00:00+08:00', newYork)).toBe(Date.parse('2026-12-05T10:00:00Z'));
  });

  it('refuses what is no time, naming both forms and the zone', () => {
    expect(() => parseDue('next friday', shanghai)).toThrow(
      /ISO time or "YYYY-MM-DD HH:mm" \(read in Asia\/Shanghai\)/,
    );
  });
});

describe('zone names', () => {
  it('knows IANA zones and refuses offsets and inventions', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone(systemTimeZone())).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('+08:00')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(() => new ZonedTime('Asia/Shangai')).toThrow(/unknown time zone "Asia\/Shangai"/);
  });
});
