/**
 * The hub's DingTalk port over the dingkit core client: one `DingTalkCore` per configured app (its own token
 * cache and limiter) plus one credential-less core for custom-robot webhooks. Every call goes through the core's
 * single request path, so errors arrive typed with their `outcome` (src/core/errors.ts) and secrets are redacted
 * where the error is built.
 *
 * Retries are off here on purpose: the dispatcher owns the retry schedule and the `unknown`-outcome policy
 * (delivery-policy.ts); a second retry loop underneath would multiply attempts and hide ambiguous sends.
 */

import { createHmac } from 'node:crypto';
import { DingTalkCore, type DingTalkOptions } from '../core/client-core.js';
import { ConfigError, DingTalkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HubConfig } from './config.js';
import type { DingTalkPort, NoticeMsg, ResolvedUser, TodoCreate, WebhookBody } from './dingtalk-port.js';

export interface AdapterOptions {
  config: HubConfig;
  /** Overrides of the two hosts (the built-in emulator's origin). */
  oapiBase?: string | undefined;
  apiBase?: string | undefined;
  logger?: Logger | undefined;
  now?: () => number;
  /** Per-call timeout. @default 10_000 */
  timeoutMs?: number;
}

/** Signs a webhook URL (reference §2.3): HMAC-SHA256 over `timestamp\nsecret`, keyed by the secret. */
export function signWebhook(url: string, secret: string, timestamp: number): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
  return `${url}&timestamp=${timestamp}&sign=${encodeURIComponent(sign)}`;
}

/** The full webhook URL of a robot whose config holds either the URL or only its access token. */
export function webhookUrl(webhook: string, oapiBase: string): string {
  if (/^https?:\/\//.test(webhook)) {
    // A full production URL is re-pointed at the configured host (the emulator in tests); the token stays.
    const u = new URL(webhook);
    const token = u.searchParams.get('access_token') ?? '';
    return `${oapiBase}/robot/send?access_token=${encodeURIComponent(token)}`;
  }
  return `${oapiBase}/robot/send?access_token=${encodeURIComponent(webhook)}`;
}

export function createDingTalkAdapter(o: AdapterOptions): DingTalkPort {
  const cfg = o.config;
  const now = o.now ?? Date.now;
  const base: DingTalkOptions = {
    retry: false,
    // The dispatcher's store-backed limiter owns robot budgets across processes.
    rateLimit: false,
    timeoutMs: o.timeoutMs ?? 10_000,
    now,
    ...(o.logger ? { logger: o.logger } : {}),
    ...((o.oapiBase ?? cfg.dingtalk.oapiBase) ? { oapiBase: o.oapiBase ?? cfg.dingtalk.oapiBase } : {}),
    ...((o.apiBase ?? cfg.dingtalk.apiBase) ? { apiBase: o.apiBase ?? cfg.dingtalk.apiBase } : {}),
  };
  const apps = new Map<string, DingTalkCore>();
  const secrets = Object.values(cfg.robots).flatMap((r) => [r.secret, r.webhook]);
  const hooks = new DingTalkCore(base);
  for (const s of secrets) if (s) hooks.redactor.add(s);

  const app = (name: string): { core: DingTalkCore; agentId: string | number | undefined } => {
    const def = cfg.apps[name];
    if (!def) throw new ConfigError(`no app named "${name}"`);
    let core = apps.get(name);
    if (!core) {
      core = new DingTalkCore({
        ...base,
        appKey: def.appKey,
        appSecret: def.appSecret,
        agentId: def.agentId,
        robotCode: def.robotCode ?? def.appKey,
        corpId: def.corpId,
      });
      apps.set(name, core);
    }
    return { core, agentId: def.agentId };
  };
  const robotCode = (name: string): string => {
    const def = cfg.apps[name];
    return def?.robotCode ?? def?.appKey ?? '';
  };

  return {
    async webhookSend(robot: string, body: WebhookBody, idempotencyKey?: string): Promise<void> {
      const def = cfg.robots[robot];
      if (!def) throw new ConfigError(`no robot named "${robot}"`);
      let url = webhookUrl(def.webhook, hooks.oapiBase);
      if (def.secret) url = signWebhook(url, def.secret, now());
      // `msgUuid` lets DingTalk drop a retried duplicate (reference §2.1, newer field).
      const payload = idempotencyKey ? { ...body, msgUuid: idempotencyKey } : body;
      await hooks.request({
        operation: 'robot.webhookSend',
        host: 'url',
        method: 'POST',
        path: url,
        body: payload,
        auth: 'none',
        idempotent: idempotencyKey !== undefined,
      });
    },

    async robotGroupSend(name, openConversationId, msgKey, msgParam): Promise<string> {
      const res = await app(name).core.request<{ processQueryKey?: string }>({
        operation: 'robot.groupSend',
        host: 'api',
        method: 'POST',
        path: '/v1.0/robot/groupMessages/send',
        body: { robotCode: robotCode(name), openConversationId, msgKey, msgParam: JSON.stringify(msgParam) },
        auth: 'app',
        idempotent: false,
      });
      return res.data.processQueryKey ?? '';
    },

    async robotOtoSend(name, userIds, msgKey, msgParam): Promise<string> {
      const res = await app(name).core.request<{ processQueryKey?: string; invalidStaffIdList?: string[] }>({
        operation: 'robot.otoSend',
        host: 'api',
        method: 'POST',
        path: '/v1.0/robot/oToMessages/batchSend',
        body: { robotCode: robotCode(name), userIds, msgKey, msgParam: JSON.stringify(msgParam) },
        auth: 'app',
        idempotent: false,
      });
      const invalid = res.data.invalidStaffIdList ?? [];
      if (invalid.length > 0 && invalid.length === userIds.length) {
        throw new DingTalkError(
          'INVALID_RECIPIENTS',
          `robot.otoSend: no valid recipient (${invalid.length})`,
          {
            outcome: 'rejected',
            operation: 'robot.otoSend',
          },
        );
      }
      return res.data.processQueryKey ?? '';
    },

    async noticeSend(name, userIds, msg: NoticeMsg): Promise<string> {
      const { core, agentId } = app(name);
      if (agentId === undefined)
        throw new ConfigError(`apps.${name}.agentId is needed for work notifications`);
      const res = await core.request<{ task_id?: number | string }>({
        operation: 'notice.send',
        host: 'oapi',
        method: 'POST',
        path: '/topapi/message/corpconversation/asyncsend_v2',
        body: { agent_id: Number(agentId), userid_list: userIds.join(','), msg },
        auth: 'app',
        idempotent: false,
      });
      return res.data.task_id === undefined ? '' : String(res.data.task_id);
    },

    async mediaUpload(name, type, fileName, content, contentType): Promise<string> {
      const res = await app(name).core.request<{ media_id?: string }>({
        operation: 'media.upload',
        host: 'oapi',
        method: 'POST',
        path: '/media/upload',
        // `type` in the query too: the doc's tip for clients whose multipart text fields get lost (§6.1).
        query: { type },
        multipart: {
          fields: { type },
          files: [{ field: 'media', filename: fileName, contentType, data: content }],
        },
        auth: 'app',
        // A repeated upload only creates an unused media id: harmless to retry.
        idempotent: true,
        timeoutMs: 60_000,
      });
      if (!res.data.media_id) {
        throw new DingTalkError('BAD_RESPONSE', 'media.upload: no media_id in the answer', {
          outcome: 'unknown',
          operation: 'media.upload',
        });
      }
      return res.data.media_id;
    },

    async userIdByMobile(name, mobile): Promise<string> {
      const res = await app(name).core.request<{ result?: { userid?: string } }>({
        operation: 'users.byMobile',
        host: 'oapi',
        method: 'POST',
        path: '/topapi/v2/user/getbymobile',
        body: { mobile },
        auth: 'app',
        idempotent: true,
      });
      const id = res.data.result?.userid;
      if (!id)
        throw new DingTalkError('NOT_FOUND', 'users.byMobile: no user', { operation: 'users.byMobile' });
      return id;
    },

    async userGet(name, userId): Promise<ResolvedUser> {
      const res = await app(name).core.request<{
        result?: { userid?: string; unionid?: string; name?: string; mobile?: string };
      }>({
        operation: 'users.get',
        host: 'oapi',
        method: 'POST',
        path: '/topapi/v2/user/get',
        body: { userid: userId },
        auth: 'app',
        idempotent: true,
      });
      const r = res.data.result ?? {};
      return { userId: r.userid ?? userId, unionId: r.unionid, name: r.name, mobile: r.mobile };
    },

    async userIdByUnionId(name, unionId): Promise<string> {
      const res = await app(name).core.request<{ result?: { userid?: string } }>({
        operation: 'users.byUnionId',
        host: 'oapi',
        method: 'POST',
        path: '/topapi/user/getbyunionid',
        body: { unionid: unionId },
        auth: 'app',
        idempotent: true,
      });
      const id = res.data.result?.userid;
      if (!id)
        throw new DingTalkError('NOT_FOUND', 'users.byUnionId: no user', { operation: 'users.byUnionId' });
      return id;
    },

    async todoCreate(name, t: TodoCreate): Promise<string> {
      const res = await app(name).core.request<{ id?: string }>({
        operation: 'todo.create',
        host: 'api',
        method: 'POST',
        path: `/v1.0/todo/users/${encodeURIComponent(t.unionId)}/tasks`,
        query: { operatorId: t.unionId },
        body: {
          subject: t.subject,
          ...(t.description ? { description: t.description } : {}),
          ...(t.dueTime !== undefined ? { dueTime: t.dueTime } : {}),
          executorIds: t.executorIds,
          sourceId: t.sourceId,
          detailUrl: t.detailUrl,
          ...(t.priority !== undefined ? { priority: t.priority } : {}),
        },
        auth: 'app',
        // sourceId is unique per todo (§8.2): a repeat is refused, never duplicated.
        idempotent: true,
      });
      if (!res.data.id) {
        throw new DingTalkError('BAD_RESPONSE', 'todo.create: no id in the answer', {
          outcome: 'unknown',
          operation: 'todo.create',
        });
      }
      return res.data.id;
    },

    async todoSetDone(name, unionId, todoId, done): Promise<void> {
      await app(name).core.request({
        operation: 'todo.update',
        host: 'api',
        method: 'PUT',
        path: `/v1.0/todo/users/${encodeURIComponent(unionId)}/tasks/${encodeURIComponent(todoId)}`,
        query: { operatorId: unionId },
        body: { done },
        auth: 'app',
        idempotent: true,
      });
    },

    async close(): Promise<void> {
      await Promise.all([hooks.close(), ...[...apps.values()].map((c) => c.close())]);
    },
  };
}
