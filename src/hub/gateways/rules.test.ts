import { describe, expect, it } from 'vitest';
import { hookRouteSchema } from './config.js';
import type { HookItem } from './items.js';
import { conversationKey, parseConversationKey, routeItem } from './rules.js';

const route = hookRouteSchema.parse({
  name: 'am',
  kind: 'alertmanager',
  auth: { type: 'bearer', token: 'x'.repeat(16) },
  targets: { groups: ['fallback'] },
  rules: [
    { match: { severity: 'critical' }, targets: { groups: ['ops'] }, mentionAll: true, continue: true },
    { matchRe: { service: 'db-.*' }, targets: { groups: ['ops', 'dba'], people: ['张三'] } },
    { matchRe: { service: 'web|api' }, targets: { groups: ['engineering'], via: 'app' } },
  ],
});

const item = (labels: Record<string, string>): HookItem => ({ kind: 'firing', labels, annotations: {} });
const keys = (labels: Record<string, string>) =>
  routeItem(route, item(labels)).map((r) => [r.key, r.mentionAll]);

describe('hook rules', () => {
  it('equality, anchored regex, continue, each conversation once with @all if any matching rule allows it', () => {
    expect(keys({ severity: 'critical', service: 'db-main' })).toEqual([
      ['group:ops', true],
      ['group:dba', false],
      ['person:张三', false],
    ]);
    // Anchored: "xdb-main" is not "db-.*", so the critical rule alone (it continues, nothing else matches).
    expect(keys({ severity: 'critical', service: 'xdb-main' })).toEqual([['group:ops', true]]);
    // An alternation is anchored as a whole: "webx" matches neither branch.
    expect(keys({ service: 'webx' })).toEqual([['group:fallback', false]]);
    expect(keys({ service: 'api' })).toEqual([['group:engineering|app', false]]);
    // Not critical: the db rule alone.
    expect(keys({ service: 'db-1', severity: 'warning' })).toEqual([
      ['group:ops', false],
      ['group:dba', false],
      ['person:张三', false],
    ]);
    expect(routeItem({ ...route, targets: undefined }, item({ severity: 'info' }))).toEqual([]);
  });

  it('a match on an inherited property name finds nothing', () => {
    const r = hookRouteSchema.parse({
      ...route,
      targets: undefined,
      rules: [{ match: { constructor: 'x' }, targets: { groups: ['ops'] } }],
    });
    expect(routeItem(r, item({}))).toEqual([]);
  });

  it('conversation keys round-trip', () => {
    for (const c of [{ group: 'ops' }, { person: 'Alice Chen', via: 'notice' as const }]) {
      expect(parseConversationKey(conversationKey(c))).toEqual(c);
    }
  });

  it('a rule with an invalid regex is refused by the config', () => {
    const r = hookRouteSchema.safeParse({
      ...route,
      rules: [{ matchRe: { a: '(' }, targets: { groups: ['x'] } }],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('not a valid regular expression');
  });
});
