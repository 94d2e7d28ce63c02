import { describe, expect, it } from 'vitest';
import { demoOrg } from '../emulator/demo-org.js';
import { parseConfig } from '../hub/config.js';
import { configFromOrg, groupAlias } from './emulator-config.js';

describe('demo-mode config from the emulator org', () => {
  it('names groups by their English word and keeps them unique', () => {
    const taken = new Set<string>();
    expect(groupAlias('研发群 Engineering', 0, taken)).toBe('engineering');
    expect(groupAlias('Another Engineering', 1, taken)).toBe('engineering2');
    expect(groupAlias('纯中文群', 2, taken)).toBe('group3');
  });

  it('maps the app, robots, groups and people, keeping the caller’s own settings', () => {
    const base = parseConfig({ dispatcher: { workers: 3 }, server: { port: 9999 } }, {});
    const cfg = configFromOrg(demoOrg().org, base, 'http://127.0.0.1:1234');
    expect(cfg.defaultApp).toBe('hub');
    expect(cfg.apps['hub']).toMatchObject({ appKey: 'dingdemoappkey000001', agentId: 3001001 });
    expect(cfg.groups['ops']).toMatchObject({ app: 'hub', robot: 'alerts' });
    expect(cfg.groups['product']).toEqual({
      openConversationId: 'cidDemoProduct000003==',
      chatId: 'chatdemo00000000000000000000000003',
      robot: 'news',
    });
    expect(cfg.robots['news']?.keywords).toEqual(['通知', 'notice']);
    expect(cfg.people['zhangsan']).toMatchObject({ name: '张三', unionId: 'unionZhangSan0001' });
    expect(cfg.dingtalk).toEqual({
      oapiBase: 'http://127.0.0.1:1234',
      apiBase: 'http://127.0.0.1:1234',
      loginBase: 'http://127.0.0.1:1234',
    });
    expect(cfg.dispatcher.workers).toBe(3);
    expect(cfg.server.port).toBe(9999);
  });

  it('shows times in China’s zone, unless the caller chose one', () => {
    const org = demoOrg().org;
    expect(configFromOrg(org, parseConfig({}, {}), 'http://127.0.0.1:1').timeZone).toBe('Asia/Shanghai');
    const chosen = parseConfig({ timeZone: 'Europe/Berlin', locale: 'zh-CN' }, {});
    const cfg = configFromOrg(org, chosen, 'http://127.0.0.1:1');
    expect([cfg.timeZone, cfg.locale]).toEqual(['Europe/Berlin', 'zh-CN']);
  });
});
