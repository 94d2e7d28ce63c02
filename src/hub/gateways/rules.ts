/**
 * Routing: which conversations hear of an item. Pure, so every rule is unit-tested.
 *
 * An item's labels are matched (annotations are descriptions, not identity, as in Alertmanager's own routing). Rules
 * are tried in order; the first match wins unless it says `continue`; no match sends the item to the route's own
 * targets (or nowhere). An item reaches each conversation once, however many rules name it. A rule's `mentionAll`
 * travels with the conversation, so `@all` is allowed only where a matching rule said so.
 */

import type { HookRoute, HookRule, HookTargets } from './config.js';
import type { HookItem } from './items.js';

/** One conversation: a group alias or a person by name, and the channel if forced. */
export interface Conversation {
  group?: string | undefined;
  person?: string | undefined;
  via?: 'robot' | 'app' | 'notice' | undefined;
}

export interface Routed {
  conversation: Conversation;
  /** Stable text key of the conversation (the store's `hook_items.target`). */
  key: string;
  mentionAll: boolean;
}

export function conversationKey(c: Conversation): string {
  const who = c.group !== undefined ? `group:${c.group}` : `person:${c.person}`;
  return c.via === undefined ? who : `${who}|${c.via}`;
}

export function parseConversationKey(key: string): Conversation {
  const [who = '', via] = key.split('|');
  const c: Conversation = who.startsWith('group:') ? { group: who.slice(6) } : { person: who.slice(7) };
  if (via === 'robot' || via === 'app' || via === 'notice') c.via = via;
  return c;
}

/** Compiled once per route: an invalid pattern was refused by the config schema. */
const compiled = new WeakMap<HookRule, Array<[string, RegExp]>>();

function patterns(rule: HookRule): Array<[string, RegExp]> {
  let p = compiled.get(rule);
  if (!p) {
    p = Object.entries(rule.matchRe).map(([k, v]) => [k, new RegExp(`^(?:${v})$`, 'u')]);
    compiled.set(rule, p);
  }
  return p;
}

export function ruleMatches(rule: HookRule, labels: Record<string, string>): boolean {
  const own = (k: string) => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  for (const [k, v] of Object.entries(rule.match)) if (own(k) !== v) return false;
  // A missing label matches as the empty string, as in Alertmanager (so `.*` also matches its absence).
  for (const [k, re] of patterns(rule)) if (!re.test((own(k) ?? '').slice(0, 1_024))) return false;
  return true;
}

function expand(t: HookTargets, mentionAll: boolean): Routed[] {
  const out: Routed[] = [];
  for (const g of t.groups) out.push(routed({ group: g, via: t.via }, mentionAll));
  for (const p of t.people) out.push(routed({ person: p, via: t.via }, mentionAll));
  return out;
}

function routed(c: Conversation, mentionAll: boolean): Routed {
  const conversation: Conversation = c.via === undefined ? { ...c, via: undefined } : c;
  return { conversation, key: conversationKey(conversation), mentionAll };
}

/** The conversations an item goes to (each once; `mentionAll` if any matching rule naming it allows it). */
export function routeItem(route: Pick<HookRoute, 'rules' | 'targets'>, item: HookItem): Routed[] {
  const hits: Routed[] = [];
  let matched = false;
  for (const rule of route.rules) {
    if (!ruleMatches(rule, item.labels)) continue;
    matched = true;
    hits.push(...expand(rule.targets, rule.mentionAll));
    if (!rule.continue) break;
  }
  if (!matched && route.targets) hits.push(...expand(route.targets, false));
  const byKey = new Map<string, Routed>();
  for (const h of hits) {
    const seen = byKey.get(h.key);
    byKey.set(h.key, seen ? { ...seen, mentionAll: seen.mentionAll || h.mentionAll } : h);
  }
  return [...byKey.values()];
}
