/**
 * Per-token limits: where a `send` token may send. `dingkit token create ci --scopes send
 * --groups ops --people alice --no-at-all` makes a token that can post to the `ops` group and message Alice, and
 * never @all. The sending routes (messages, task create / edit / moves, file shares) check the limits before the
 * hub is called, so a refused request writes and sends nothing; the refusal is a 403 `token_limit` that says
 * which group, person or option is outside the token's limits.
 *
 * | limits set                 | groups it may send to | people it may send to | `mentionAll` |
 * | -------------------------- | --------------------- | --------------------- | ------------ |
 * | none                       | any                   | any                   | yes          |
 * | `groups` and/or `people`   | those listed          | those listed          | yes          |
 * | `noAtAll`                  | (as above)            | (as above)            | no           |
 *
 * A limited token's lists are closed: `--groups ops` alone allows no person at all (a CI token that posts to a
 * group has no business messaging people). A task's assignees count as people it sends to (each gets a Todo and
 * an @mention), and an existing task may only be edited or moved when its group and assignees are all within the
 * limits (a move is announced in the group). A person in a request is allowed when it is written as in the limits
 * (case-insensitive, `@` ignored), or when every directory entry it names (by name or userId) is listed there.
 * What cannot be resolved is refused: limits fail closed.
 */

import { ValidationError } from '../core/errors.js';
import type { Person } from '../hub/service.js';
import { ApiError } from './api-error.js';

export interface TokenLimits {
  /** Group aliases the token may send to. */
  groups?: string[] | undefined;
  /** People (directory names or userIds) the token may send to. */
  people?: string[] | undefined;
  /** Refuse `mentionAll`. */
  noAtAll?: boolean | undefined;
}

/** What a request sends to. */
export interface SendTargets {
  groups?: readonly string[] | undefined;
  people?: readonly string[] | undefined;
  mentionAll?: boolean | undefined;
}

const ENTRY = /^[^\u0000-\u001f\u007f,]{1,128}$/;

/** Refuses limits that could not be enforced as written (CLI and API input). */
export function checkLimitsShape(l: TokenLimits): void {
  for (const field of ['groups', 'people'] as const) {
    const list = l[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0 || list.length > 100)
      throw new ValidationError('give 1 to 100 names', field);
    for (const x of list)
      if (typeof x !== 'string' || !ENTRY.test(x) || x.trim() !== x || x.trim() === '')
        throw new ValidationError(`"${String(x).slice(0, 40)}" is not a name`, field);
  }
}

/** Reads the stored JSON; a damaged value allows nothing (fail closed). */
export function limitsFromJson(text: string | null): TokenLimits | undefined {
  if (text === null) return undefined;
  const closed: TokenLimits = { groups: [], people: [], noAtAll: true };
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return closed;
    const o = v as Record<string, unknown>;
    const list = (x: unknown) =>
      x === undefined ? undefined : Array.isArray(x) && x.every((s) => typeof s === 'string') ? x : null;
    const groups = list(o['groups']);
    const people = list(o['people']);
    if (groups === null || people === null) return closed;
    if (o['noAtAll'] !== undefined && typeof o['noAtAll'] !== 'boolean') return closed;
    return {
      ...(groups ? { groups } : {}),
      ...(people ? { people } : {}),
      ...(o['noAtAll'] === true ? { noAtAll: true } : {}),
    };
  } catch {
    return closed;
  }
}

/** One line for `token list`: `groups=ops people=alice no-at-all`, or `-`. */
export function describeLimits(l: TokenLimits | undefined): string {
  if (!l) return '-';
  const parts: string[] = [];
  if (l.groups) parts.push(`groups=${l.groups.join(',')}`);
  if (l.people) parts.push(`people=${l.people.join(',')}`);
  if (l.noAtAll) parts.push('no-at-all');
  return parts.length === 0 ? '-' : parts.join(' ');
}

const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();

function refuse(what: string): never {
  throw new ApiError(403, 'token_limit', `this token may not send ${what} (its limits: dingkit token list)`);
}

/**
 * Throws a 403 `token_limit` when `t` goes beyond `limits`. `people` is the hub's directory, asked only when a
 * person must be matched by another spelling than the limits'.
 */
export async function enforceLimits(
  limits: TokenLimits | undefined,
  t: SendTargets,
  people: () => Promise<Person[]>,
): Promise<void> {
  if (!limits) return;
  if (limits.noAtAll && t.mentionAll) refuse('with mentionAll (@all)');
  const closed = limits.groups !== undefined || limits.people !== undefined;
  if (!closed) return;
  const groups = new Set(limits.groups ?? []);
  for (const g of t.groups ?? []) if (!groups.has(g)) refuse(`to group "${g.slice(0, 64)}"`);
  const allowed = new Set((limits.people ?? []).map(norm));
  let directory: Person[] | undefined;
  for (const p of t.people ?? []) {
    if (allowed.has(norm(p))) continue;
    directory ??= await people();
    const wanted = norm(p);
    const named = directory.filter(
      (x) => norm(x.name) === wanted || (x.userId !== undefined && norm(x.userId) === wanted),
    );
    const ok =
      named.length > 0 &&
      named.every(
        (x) => allowed.has(norm(x.name)) || (x.userId !== undefined && allowed.has(norm(x.userId))),
      );
    if (!ok) refuse(`to person "${p.slice(0, 64)}"`);
  }
}
