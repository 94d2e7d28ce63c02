/**
 * The clients compared by bench/sdk, each reduced to "send one message". Every peer does the same work per call:
 * build the message, sign (webhook), send, parse the answer and check DingTalk's errcode (a 200 is not success).
 */

import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { Agent, request } from 'undici';
import { DingTalk } from '../../src/client.js';

export type Workload = 'webhook' | 'group';
export type Send = () => Promise<void>;

export interface PeerTarget {
  base: string;
  robotToken: string;
  robotSecret: string;
  appKey: string;
  appSecret: string;
  openConversationId: string;
}

const require = createRequire(import.meta.url);

function sign(secret: string, ts: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'));
}

const text = { msgtype: 'text', text: { content: 'bench: deploy finished' } };

function checkLegacy(j: { errcode?: number }): void {
  if (j.errcode !== 0) throw new Error(`errcode ${j.errcode}`);
}

export const peers: Record<string, (t: PeerTarget, w: Workload) => Promise<Send | undefined>> = {
  async dingkit(t, w) {
    // Limits off: the benchmark measures the client, and 20 webhook sends a minute would measure the limiter.
    const dt = new DingTalk({
      appKey: t.appKey,
      appSecret: t.appSecret,
      oapiBase: t.base,
      apiBase: t.base,
      rateLimit: false,
      env: {},
    });
    if (w === 'webhook') {
      const robot = dt.webhook({ accessToken: t.robotToken, secret: t.robotSecret });
      return async () => {
        await robot.text('bench: deploy finished');
      };
    }
    return async () => {
      await dt.robot.sendToGroup({
        openConversationId: t.openConversationId,
        message: { msgKey: 'sampleText', msgParam: { content: 'bench: deploy finished' } },
      });
    };
  },

  async 'raw-undici'(t, w) {
    const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
    if (w === 'webhook') {
      return async () => {
        const ts = Date.now();
        const url = `${t.base}/robot/send?access_token=${t.robotToken}&timestamp=${ts}&sign=${sign(t.robotSecret, ts)}`;
        const res = await request(url, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(text),
        });
        checkLegacy((await res.body.json()) as { errcode?: number });
      };
    }
    const tok = (await (
      await request(`${t.base}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appKey: t.appKey, appSecret: t.appSecret }),
      })
    ).body.json()) as { accessToken: string };
    return async () => {
      const res = await request(`${t.base}/v1.0/robot/groupMessages/send`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': tok.accessToken },
        body: JSON.stringify({
          robotCode: t.appKey,
          openConversationId: t.openConversationId,
          msgKey: 'sampleText',
          msgParam: JSON.stringify({ content: 'bench: deploy finished' }),
        }),
      });
      const j = (await res.body.json()) as { processQueryKey?: string };
      if (res.statusCode !== 200 || !j.processQueryKey) throw new Error(`status ${res.statusCode}`);
    };
  },

  async 'raw-fetch'(t, w) {
    if (w === 'webhook') {
      return async () => {
        const ts = Date.now();
        const url = `${t.base}/robot/send?access_token=${t.robotToken}&timestamp=${ts}&sign=${sign(t.robotSecret, ts)}`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(text),
        });
        checkLegacy((await res.json()) as { errcode?: number });
      };
    }
    const tok = (await (
      await fetch(`${t.base}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appKey: t.appKey, appSecret: t.appSecret }),
      })
    ).json()) as { accessToken: string };
    return async () => {
      const res = await fetch(`${t.base}/v1.0/robot/groupMessages/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': tok.accessToken },
        body: JSON.stringify({
          robotCode: t.appKey,
          openConversationId: t.openConversationId,
          msgKey: 'sampleText',
          msgParam: JSON.stringify({ content: 'bench: deploy finished' }),
        }),
      });
      const j = (await res.json()) as { processQueryKey?: string };
      if (res.status !== 200 || !j.processQueryKey) throw new Error(`status ${res.status}`);
    };
  },

  async 'dingtalk-robot-sender'(t, w) {
    if (w !== 'webhook') return undefined;
    const ChatBot = require('dingtalk-robot-sender') as new (o: {
      webhook: string;
      secret: string;
    }) => {
      text(s: string): Promise<{ data: { errcode?: number } }>;
    };
    const bot = new ChatBot({
      webhook: `${t.base}/robot/send?access_token=${t.robotToken}`,
      secret: t.robotSecret,
    });
    return async () => {
      const res = await bot.text('bench: deploy finished');
      checkLegacy(res.data);
    };
  },

  async '@alicloud/dingtalk'(t, w) {
    if (w !== 'group') return undefined;
    const OpenApi = require('@alicloud/openapi-client');
    const Util = require('@alicloud/tea-util');
    const Robot = require('@alicloud/dingtalk/robot_1_0');
    const OAuth = require('@alicloud/dingtalk/oauth2_1_0');
    const config = new OpenApi.Config({ protocol: 'http', endpoint: new URL(t.base).host });
    // The official SDK has no token handling: the application fetches and caches it itself.
    const oauth = new OAuth.default(config);
    const tok = await oauth.getAccessToken(
      new OAuth.GetAccessTokenRequest({ appKey: t.appKey, appSecret: t.appSecret }),
    );
    const client = new Robot.default(config);
    const headers = new Robot.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: tok.body.accessToken });
    const runtime = new Util.RuntimeOptions({});
    return async () => {
      const res = await client.orgGroupSendWithOptions(
        new Robot.OrgGroupSendRequest({
          robotCode: t.appKey,
          openConversationId: t.openConversationId,
          msgKey: 'sampleText',
          msgParam: JSON.stringify({ content: 'bench: deploy finished' }),
        }),
        headers,
        runtime,
      );
      if (!res.body.processQueryKey) throw new Error('no processQueryKey');
    };
  },
};
