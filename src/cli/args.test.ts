import { describe, expect, it } from 'vitest';
import { list, taskId } from './context.js';
import { splitGlobals } from './run.js';
import { parseDue } from './task.js';

describe('CLI argument helpers', () => {
  it('pulls global flags from anywhere, with = or a separate value', () => {
    const r = splitGlobals([
      'send',
      '--json',
      '--group',
      'ops',
      '--url=http://h:1',
      'hi',
      '--token',
      't0k',
      '--',
      '--json',
    ]);
    expect(r.flags).toMatchObject({ json: true, url: 'http://h:1', token: 't0k' });
    expect(r.rest).toEqual(['send', '--group', 'ops', 'hi', '--', '--json']);
    expect(() => splitGlobals(['--url'])).toThrow(/--url needs a value/);
  });

  it('parses due times: delays from now, ISO times with a zone, wall times for the hub', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseDue('30m', now)).toBe('2026-11-25T10:30:00.000Z');
    expect(parseDue('2d', now)).toBe('2026-11-27T10:00:00.000Z');
    expect(parseDue('2026-12-01T18:00:00+08:00', now)).toBe('2026-12-01T10:00:00.000Z');
    // A wall time is passed on as written, for the hub to read in its own zone.
    expect(parseDue(' 2026-12-01 18:00 ', now)).toBe('2026-12-01 18:00');
    expect(parseDue('2026-12-01T18:00', now)).toBe('2026-12-01T18:00');
    for (const bad of ['tomorrow', '2026-12-01', '2026-12-01 18', '-5m', '2026-13-45T10:00:00Z']) {
      expect(() => parseDue(bad, now), bad).toThrow();
    }
  });

  it('reads task ids and name lists', () => {
    expect(taskId('#42')).toBe(42);
    for (const bad of ['0', 'abc', '1.5', '', undefined]) expect(() => taskId(bad)).toThrow();
    expect(list(' Alice, ,Bob ')).toEqual(['Alice', 'Bob']);
    expect(list(',')).toBeUndefined();
  });
});
