/**
 * Who an item names: label and annotation values under the route's `mentions.from` names (`owner: 张三`,
 * `oncall: Alice Chen, Bob Li`). A name the hub's directory knows becomes a real @mention (through the message
 * plan: docs/dingtalk.md §2.5 for custom robots; app robots cannot @, §3.1, so there the name is written); a name it
 * does not know is written as plain text, never matched to somebody "close". `all` asks for @all, which only a
 * rule with `mentionAll` grants; elsewhere it stays text.
 */

import type { MentionTarget } from '../messages/plan.js';
import type { PeopleDirectory } from '../people.js';
import type { HookItem } from './items.js';

export const ALL_NAMES: ReadonlySet<string> = new Set(['all', '@all', 'everyone', '所有人', '@所有人']);
/** DingTalk's cap on people per message (§2.5). */
const MAX_PEOPLE = 50;

export interface Mentions {
  people: MentionTarget[];
  /** Names the directory does not know, shown as text. */
  unknown: string[];
  all: boolean;
  /** `@all` was asked for where no rule allows it (shown as text). */
  allRefused: boolean;
}

export function namesOf(item: HookItem, from: readonly string[]): string[] {
  const out: string[] = [];
  for (const key of from) {
    for (const src of [item.labels, item.annotations]) {
      const v = Object.hasOwn(src, key) ? src[key] : undefined;
      if (typeof v !== 'string') continue;
      for (const n of v.split(/[,;，；、]/)) {
        const name = n.trim();
        if (name !== '' && name.length <= 128) out.push(name);
      }
    }
  }
  return out;
}

export async function resolveMentions(
  people: PeopleDirectory,
  items: ReadonlyArray<{ item: HookItem; mentionAll: boolean }>,
  from: readonly string[],
  /** The route's `mentions.always`: named on every message with a firing item or event; `all` is allowed here. */
  always: readonly string[] = [],
): Promise<Mentions> {
  const found = new Map<string, MentionTarget>();
  const unknown = new Set<string>();
  let all = false;
  let allRefused = false;
  const asked: Array<{ name: string; mentionAll: boolean }> = [];
  for (const { item, mentionAll } of items) {
    if (item.kind === 'resolved') continue;
    // The kind's own (directory keys: GitHub logins mapped at intake), then the names its labels give.
    for (const name of [...(item.mentions ?? []), ...namesOf(item, from)]) asked.push({ name, mentionAll });
  }
  // The operator's own list (config), not the sender's: it may @all without a rule saying so.
  if (items.some(({ item }) => item.kind !== 'resolved')) {
    for (const name of always) asked.push({ name, mentionAll: true });
  }
  for (const { name, mentionAll } of asked) {
    if (ALL_NAMES.has(name.toLowerCase())) {
      if (mentionAll) all = true;
      else allRefused = true;
      continue;
    }
    const key = people.keyOf(name);
    if (key === undefined) {
      unknown.add(name.replace(/^@/, ''));
      continue;
    }
    if (found.has(key) || found.size >= MAX_PEOPLE) continue;
    try {
      const p = await people.resolve(key, { userId: true });
      found.set(key, { name: p.name, userId: p.userId, mobile: p.mobile });
    } catch {
      // Known but unreachable (no userId, the users API refused): named as text, as the unknown are.
      unknown.add(name.replace(/^@/, ''));
    }
  }
  return { people: [...found.values()], unknown: [...unknown], all, allRefused: allRefused && !all };
}

/** The mention line of a message: `@Name` for the people (the plan turns it into the handle), text for the rest. */
export function mentionLine(m: Mentions): string {
  const parts = m.people.map((p) => `@${p.name}`);
  for (const u of m.unknown.slice(0, 20)) parts.push(u);
  if (m.allRefused) parts.push('(all)');
  return parts.join(' ');
}
