/**
 * A hub config for `dingkit verify` against an emulator's demo org: the app, the Ops group (app robot and the signed
 * `alerts` custom robot), a card template, and 张三 as the operator (by mobile, so the lookup check does the work).
 */

import type { Emulator } from '../../src/emulator/emulator.js';
import { type HubConfig, parseConfig } from '../../src/hub/config.js';

export const OPS = 'cidDemoOps000000002==';
export const ME_MOBILE = '13800000001';
export const ME_USER_ID = 'zhangsan';

export function verifyConfigJson(emu: Emulator): Record<string, unknown> {
  const app = emu.state.org.apps[0]!;
  const alerts = emu.state.org.customRobots.find((r) => r.name === 'alerts')!;
  return {
    apps: { main: { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId } },
    robots: { alerts: { webhook: alerts.token, secret: alerts.security.secret } },
    groups: { ops: { openConversationId: OPS, app: 'main', robot: 'alerts' } },
    people: { me: { name: '张三', mobile: ME_MOBILE } },
    dingtalk: { oapiBase: emu.url, apiBase: emu.url },
    tasks: { cards: { templateId: 'dingkit.verify.test' } },
    database: { url: './data/verify.db' },
    server: { port: 59997 },
  };
}

export function verifyConfig(emu: Emulator): HubConfig {
  return parseConfig(verifyConfigJson(emu), {});
}

/** Secrets of the demo org that must never appear in a report. */
export function demoSecrets(emu: Emulator): string[] {
  const app = emu.state.org.apps[0]!;
  const alerts = emu.state.org.customRobots.find((r) => r.name === 'alerts')!;
  return [app.appSecret, alerts.token, alerts.security.secret!];
}
