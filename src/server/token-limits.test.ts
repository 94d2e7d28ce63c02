import { describe, expect, it } from 'vitest';
import type { Person } from '../hub/service.js';
import { ApiError } from './api-error.js';
import { checkLimitsShape, describeLimits, enforceLimits, limitsFromJson } from './token-limits.js';

const people: Person[] = [
  { name: 'Alice Chen', userId: 'alice' },
  { name: 'Bob Li', userId: 'bob' },
];
const dir = async () => people;

async function refusal(p: Promise<void>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).status).toBe(403);
  expect((e as ApiError).code).toBe('token_limit');
  return (e as ApiError).message;
}

describe('token limits', () => {
  it('no limits: anything goes; noAtAll alone only refuses mentionAll', async () => {
    await enforceLimits(undefined, { groups: ['x'], people: ['y'], mentionAll: true }, dir);
    await enforceLimits({ noAtAll: true }, { groups: ['x'], people: ['bob'] }, dir);
    expect(await refusal(enforceLimits({ noAtAll: true }, { groups: ['x'], mentionAll: true }, dir))).toMatch(
      /mentionAll/,
    );
  });

  it('listed groups and people only; a groups-only token may message no one', async () => {
    const l = { groups: ['ops'], people: ['alice'] };
    await enforceLimits(l, { groups: ['ops'] }, dir);
    await enforceLimits(l, { people: ['alice', '@Alice', 'Alice Chen', 'ALICE CHEN'] }, dir);
    expect(await refusal(enforceLimits(l, { groups: ['Ops'] }, dir))).toMatch(/group "Ops"/);
    expect(await refusal(enforceLimits(l, { people: ['alice', 'Bob Li'] }, dir))).toMatch(/person "Bob Li"/);
    expect(await refusal(enforceLimits(l, { people: ['nobody'] }, dir))).toMatch(/person "nobody"/);
    expect(await refusal(enforceLimits({ groups: ['ops'] }, { people: ['alice'] }, dir))).toMatch(/alice/);
    expect(await refusal(enforceLimits({ people: ['alice'] }, { groups: ['ops'] }, dir))).toMatch(/ops/);
  });

  it('a name the directory gives to two people is allowed only when both are', async () => {
    const twins: Person[] = [
      { name: 'Sam', userId: 'sam1' },
      { name: 'Sam', userId: 'sam2' },
    ];
    await refusal(enforceLimits({ people: ['sam1'] }, { people: ['Sam'] }, async () => twins));
    await enforceLimits({ people: ['sam1', 'sam2'] }, { people: ['Sam'] }, async () => twins);
  });

  it('stored JSON: read back as written; damaged JSON allows nothing', () => {
    expect(limitsFromJson(null)).toBeUndefined();
    expect(limitsFromJson('{"groups":["ops"],"noAtAll":true}')).toEqual({ groups: ['ops'], noAtAll: true });
    const closed = { groups: [], people: [], noAtAll: true };
    expect(limitsFromJson('{')).toEqual(closed);
    expect(limitsFromJson('{"groups":"ops"}')).toEqual(closed);
    expect(limitsFromJson('[]')).toEqual(closed);
    expect(describeLimits({ groups: ['ops'], people: ['a', 'b'], noAtAll: true })).toBe(
      'groups=ops people=a,b no-at-all',
    );
    expect(describeLimits(undefined)).toBe('-');
  });

  it('refuses limits that could not be enforced as written', () => {
    expect(() => checkLimitsShape({ groups: [] })).toThrow(/groups/);
    expect(() => checkLimitsShape({ people: [' alice'] })).toThrow(/people/);
    expect(() => checkLimitsShape({ people: ['a\nb'] })).toThrow(/people/);
    expect(() => checkLimitsShape({ groups: ['ops'], people: ['alice'] })).not.toThrow();
  });
});
