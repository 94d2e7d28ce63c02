/**
 * Demo mode: with no DingTalk credentials configured, the hub runs against the built-in emulator and its
 * effective config comes from the emulator's org: its one app, its custom robots, its groups (aliases from
 * their English names: `研发群 Engineering` → `engineering`) and its people (keyed by userId, named as in the
 * org). The caller's own settings (server, database, dispatcher, tasks, files) are kept.
 */

import type { OrgDef } from '../emulator/types.js';
import { type HubConfig, parseConfig } from '../hub/config.js';

/** The zone of the emulator's org, for a demo config without its own `timeZone`. */
export const DEMO_TIME_ZONE = 'Asia/Shanghai';

/** A config alias from a group name: its last ASCII word, lower-cased; else a stable fallback. */
export function groupAlias(name: string, index: number, taken: Set<string>): string {
  const words = name.match(/[A-Za-z][A-Za-z0-9]*/g) ?? [];
  let alias = (words.at(-1) ?? `group${index + 1}`).toLowerCase().slice(0, 60);
  while (taken.has(alias)) alias = `${alias}${index + 1}`;
  taken.add(alias);
  return alias;
}

/** HTTP events in demo mode: the emulator app's own subscription (token, aes_key), unless the caller set one. */
function inboundFromOrg(base: HubConfig['inbound'], app: OrgDef['apps'][number] | undefined): unknown {
  if (base === undefined || base.mode === 'stream' || base.http.events !== undefined || !app?.callback)
    return base;
  return {
    ...base,
    http: { ...base.http, events: { token: app.callback.token, aesKey: app.callback.aesKey } },
  };
}

/**
 * The emulator accepts any card template (it draws the variables it is given, src/emulator/client/app-script.ts), so
 * the demo announces tasks as cards with a template id of its own; over HTTP the card callback gets a demo
 * apiSecret, registered with the emulator when the hub's URL is known (launch-hub.ts). The caller's values win.
 */
export const DEMO_CARD_TEMPLATE = 'dingkit.task.demo';
export const DEMO_CARD_API_SECRET = 'demo-card-api-secret-0123456789';

function cardsFromOrg(base: HubConfig['tasks']): unknown {
  const cards = base.cards;
  return {
    ...base,
    cards: {
      ...cards,
      templateId: cards.templateId ?? DEMO_CARD_TEMPLATE,
      http: { ...cards.http, apiSecret: cards.http.apiSecret ?? DEMO_CARD_API_SECRET },
    },
  };
}

export function configFromOrg(org: OrgDef, base: HubConfig, emulatorUrl: string): HubConfig {
  const app = org.apps[0];
  const apps: Record<string, unknown> = {};
  if (app) {
    apps['hub'] = {
      appKey: app.appKey,
      appSecret: app.appSecret,
      agentId: app.agentId,
      robotCode: app.robotCode,
      // The org's corpId: what a page asks a 免登 code for (docs/dingtalk.md §13.2).
      corpId: org.corpId,
    };
  }
  const robots: Record<string, unknown> = {};
  const robotByGroup = new Map<string, string>();
  for (const r of org.customRobots) {
    const name = r.name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'robot';
    robots[name] = {
      webhook: r.token,
      ...(r.security.secret ? { secret: r.security.secret } : {}),
      ...(r.security.keywords ? { keywords: r.security.keywords } : {}),
    };
    robotByGroup.set(r.group, name);
  }
  const groups: Record<string, unknown> = {};
  const taken = new Set<string>();
  org.groups.forEach((g, i) => {
    const hasApp = app !== undefined && g.robotCodes.includes(app.robotCode);
    const robot = robotByGroup.get(g.openConversationId);
    if (!hasApp && !robot) return;
    groups[groupAlias(g.name, i, taken)] = {
      openConversationId: g.openConversationId,
      chatId: g.chatid,
      ...(hasApp ? { app: 'hub' } : {}),
      ...(robot ? { robot } : {}),
    };
  });
  const people: Record<string, unknown> = {};
  for (const u of org.users) {
    // A login the caller's config gives this person (by userId) is kept: GitHub routes map logins to people.
    const github = base.people[u.userId]?.github;
    people[u.userId] = {
      name: u.name,
      mobile: u.mobile,
      userId: u.userId,
      unionId: u.unionId,
      ...(github !== undefined ? { github } : {}),
    };
  }
  return parseConfig(
    {
      ...structuredClone(base),
      apps,
      robots,
      groups,
      people,
      ...(app ? { defaultApp: 'hub' } : {}),
      dingtalk: { oapiBase: emulatorUrl, apiBase: emulatorUrl, loginBase: emulatorUrl },
      // Keep the mode the caller chose ('auto' or 'on'): it is what made this an emulator run.
      emulator: base.emulator,
      // The emulated org is in China (its notices' dates are UTC+8 too): its times are shown in China's zone unless
      // the caller chose a zone.
      timeZone: base.timeZone ?? DEMO_TIME_ZONE,
      inbound: inboundFromOrg(base.inbound, app),
      tasks: cardsFromOrg(base.tasks),
    },
    {},
  );
}
