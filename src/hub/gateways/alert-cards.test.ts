import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.js';
import { alertCardCreateJob, alertCardId, alertCardPlace, alertCardUpdateJob } from './alert-cards.js';

const base = {
  apps: { hub: { appKey: 'appkey-0123456789', appSecret: 'appsecret-0123456789abcdef', robotCode: 'rc' } },
  robots: { alerts: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=t0123456789' } },
  groups: {
    eng: { app: 'hub', openConversationId: 'cidEng' },
    ops: { app: 'hub', openConversationId: 'cidOps', robot: 'alerts' },
    noCid: { app: 'hub', chatId: 'chat1' },
    ordered: { app: 'hub', openConversationId: 'cidOrd', ordered: true },
  },
};
const cfg = (extra: Record<string, unknown> = {}) => parseConfig({ ...base, ...extra }, {});
const withTemplate = (extra: Record<string, unknown> = {}) =>
  cfg({ tasks: { cards: { templateId: 'task.tpl' } }, ...extra });

describe('where alert cards go', () => {
  it('a group its app robot serves, with a template: the task cards’ unless the gateway names its own', () => {
    expect(alertCardPlace(withTemplate(), { group: 'eng' })).toEqual({
      app: 'hub',
      alias: 'eng',
      openConversationId: 'cidEng',
      templateId: 'task.tpl',
    });
    expect(alertCardPlace(withTemplate(), { group: 'eng', via: 'app' })?.templateId).toBe('task.tpl');
    const own = withTemplate({ gateways: { cards: { templateId: 'alert.tpl' } } });
    expect(alertCardPlace(own, { group: 'eng' })?.templateId).toBe('alert.tpl');
    expect(
      alertCardPlace(cfg({ gateways: { cards: { templateId: 'alert.tpl' } } }), { group: 'eng' }),
    ).toBeTruthy();
  });

  it('no card: no template, cards off, a custom robot, no openConversationId, a forced channel, a person', () => {
    expect(alertCardPlace(cfg(), { group: 'eng' })).toBeUndefined();
    expect(
      alertCardPlace(withTemplate({ gateways: { cards: { enabled: false } } }), { group: 'eng' }),
    ).toBeUndefined();
    expect(alertCardPlace(withTemplate(), { group: 'ops' })).toBeUndefined();
    expect(alertCardPlace(withTemplate(), { group: 'noCid' })).toBeUndefined();
    expect(alertCardPlace(withTemplate(), { group: 'eng', via: 'robot' })).toBeUndefined();
    expect(alertCardPlace(withTemplate(), { group: 'eng', via: 'notice' })).toBeUndefined();
    expect(alertCardPlace(withTemplate(), { person: 'lisi' })).toBeUndefined();
  });

  it('create and update share one order key (the group’s in an ordered group); the payload holds no secret', () => {
    const c = withTemplate();
    const id = alertCardId('am', 7);
    expect(id).toBe('dingkit-alert-am-7');
    const create = alertCardCreateJob(c, alertCardPlace(c, { group: 'eng' })!, id, { title: 'x' });
    const update = alertCardUpdateJob(c, 'eng', { id, app: 'hub' }, { title: 'x' });
    expect(create.orderKey).toBe(`card:${id}`);
    expect(update.orderKey).toBe(create.orderKey);
    expect(JSON.stringify([create, update])).not.toContain('appsecret');
    const ord = alertCardCreateJob(c, alertCardPlace(c, { group: 'ordered' })!, id, {});
    expect(ord.orderKey).toBe('group:ordered');
    expect(alertCardUpdateJob(c, 'ordered', { id, app: 'hub' }, {}).orderKey).toBe('group:ordered');
  });
});
