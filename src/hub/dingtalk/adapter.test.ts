import { describe, expect, it } from 'vitest';
import { appMessage, encodeTemplate, type TemplateMessage } from '../../api/robot/app-templates.js';
import { webhookMessage } from '../../api/robot/webhook-messages.js';
import { parseWebhookUrl } from '../../api/robot/webhook-url.js';
import { ValidationError } from '../../core/errors.js';
import { parseConfig } from '../config.js';
import { parseJobPayload } from '../delivery/jobs.js';
import { createSender } from '../delivery/sender.js';
import { createDingTalkAdapter } from './adapter.js';
import type { DingTalkPort } from './port.js';

const TOKEN = 'feedface'.repeat(8);

describe('the adapter reads robot webhooks with the library parser', () => {
  it.each([
    'https://oapi.dingtalk.com/robot/send',
    `ftp://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`,
  ])(
    'refuses %j before any I/O with the same ValidationError as the library, without the token',
    async (webhook) => {
      // parseConfig refuses such a webhook when a config file loads (config.test.ts); a config built in code can
      // still carry one, and the adapter must refuse it on its own.
      const config = parseConfig({ robots: { ops: { webhook: TOKEN } } }, {});
      config.robots['ops']!.webhook = webhook;
      // Port 9 on loopback: a request that got out would fail as a network error, not a ValidationError.
      const dt = createDingTalkAdapter({ config, oapiBase: 'http://127.0.0.1:9', timeoutMs: 500 });
      let expected: unknown;
      try {
        parseWebhookUrl(webhook, 'webhook.send');
      } catch (e) {
        expected = e;
      }
      try {
        const sent = dt.webhookSend('ops', webhookMessage.text('hi'));
        await expect(sent).rejects.toBeInstanceOf(ValidationError);
        await expect(sent).rejects.toMatchObject({
          field: 'webhook',
          outcome: 'not_sent',
          message: (expected as Error).message,
        });
        await sent.catch((e: Error) => expect(e.message).not.toContain(TOKEN));
      } finally {
        await dt.close();
      }
    },
  );
});

describe('outbox rows stored before the port took the library types', () => {
  it('a flat {msgKey, msgParam} row reaches DingTalk as the same template a builder makes today', async () => {
    // Written by the hub before this change: the stored JSON shape is unchanged, so the dispatcher's one read
    // (parseJobPayload, inside readJob) takes it as it is.
    const old =
      '{"t":"group","app":"hub","openConversationId":"cid1","msgKey":"sampleText","msgParam":{"content":"hi"}}';
    const seen: TemplateMessage[] = [];
    const port: Pick<DingTalkPort, 'robotGroupSend'> = {
      robotGroupSend: async (_app, _cid, message) => {
        seen.push(message);
        return 'pqk';
      },
    };
    const send = createSender({ dingtalk: port as DingTalkPort, onTodoCreated: async () => {} });
    expect(
      await send.send(
        { channel: 'app', target: 'ops', payload: parseJobPayload(old) },
        { deliveryId: 1, messageId: 'm-1', number: 1 },
      ),
    ).toEqual({ remoteId: 'pqk' });
    expect(seen).toHaveLength(1);
    expect(encodeTemplate(seen[0]!, 'robot.groupSend')).toEqual(
      encodeTemplate(appMessage.text('hi'), 'robot.groupSend'),
    );
  });
});

describe('managerOf: the manager DingTalk gives (docs/dingtalk.md §7), remembered a while', () => {
  it('answers manager_userid, caches answers (none included) but not failures, and forgets after the TTL', async () => {
    const { demoOrg, startEmulator } = await import('../../emulator/index.js');
    let t = 1_764_000_000_000;
    const emu = await startEmulator({ port: 0, fixture: demoOrg() });
    const app = demoOrg().org.apps[0]!;
    const config = parseConfig(
      { apps: { hub: { appKey: app.appKey, appSecret: app.appSecret, agentId: app.agentId } } },
      {},
    );
    const dt = createDingTalkAdapter({
      config,
      oapiBase: emu.url,
      apiBase: emu.url,
      now: () => t,
    });
    const lookups = () => emu.requests().filter((r) => r.route === 'POST /topapi/v2/user/get').length;
    try {
      expect(await dt.managerOf('hub', 'lisi')).toBe('zhangsan');
      expect(await dt.managerOf('hub', 'lisi')).toBe('zhangsan');
      expect(await dt.managerOf('hub', 'bob')).toBeUndefined();
      expect(await dt.managerOf('hub', 'bob')).toBeUndefined();
      expect(lookups()).toBe(2);
      // A failure is not remembered: the next call asks again.
      emu.setFaults({ rules: [{ route: 'POST /topapi/v2/user/get', error5xx: 1 }] });
      await expect(dt.managerOf('hub', 'wangwu')).rejects.toThrow();
      emu.setFaults({ rules: [] });
      expect(await dt.managerOf('hub', 'wangwu')).toBe('zhangsan');
      expect(lookups()).toBe(4);
      // Past the TTL the org chart is read again.
      t += 600_001;
      expect(await dt.managerOf('hub', 'lisi')).toBe('zhangsan');
      expect(lookups()).toBe(5);
    } finally {
      await dt.close();
      await emu.close();
    }
  });
});
