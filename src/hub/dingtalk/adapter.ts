/**
 * The hub's DingTalk port over the dingkit library: one `DingTalk` client per configured app (its token in the
 * store shared by the hub's processes, or in its own memory), one `CustomRobot` per configured custom robot. Every call goes through the library's validation and the
 * core's single request path, so errors arrive typed with their `outcome` (src/core/errors.ts) and secrets are
 * redacted where the error is built.
 *
 * Retries and local rate limits are off here on purpose: the dispatcher owns the retry schedule, the
 * `unknown`-outcome policy (delivery/policy.ts) and the store-backed robot budgets shared by every hub process; a
 * second layer underneath would multiply attempts and let each process spend the whole budget.
 */

import { stat } from 'node:fs/promises';
import type { CustomRobot } from '../../api/robot/custom-robot.js';
import { parseWebhookUrl } from '../../api/robot/webhook-url.js';
import { DingTalk, type DingTalkClientOptions } from '../../client.js';
import { ConfigError, DingTalkError, isPlatformError, RateLimitedError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { TokenStore } from '../../core/token-manager.js';
import type { HubConfig } from '../config.js';
import type {
  CardCreate,
  CardUpdate,
  DingTalkPort,
  NoticeSendResult,
  ResolvedUser,
  RobotReadStatus,
  TodoChange,
  TodoCreate,
} from './port.js';

/** Pages of a group's readers read per check (200 each, docs/dingtalk.md §3.1). */
const GROUP_READ_PAGES = 5;

export interface AdapterOptions {
  config: HubConfig;
  /** Overrides of the two hosts (the built-in emulator's origin). */
  oapiBase?: string | undefined;
  apiBase?: string | undefined;
  logger?: Logger | undefined;
  now?: () => number;
  /** Per-call timeout (a media upload gets more, see {@link mediaTimeoutMs}). @default 10_000 */
  timeoutMs?: number;
  /**
   * Where every app client keeps its access token: the hub passes the store-backed one (shared by all its
   * processes, src/store/token-store.ts) unless `tokens.store` is `memory`. Absent: each client's own memory.
   */
  tokenStore?: TokenStore | undefined;
  /** Called after each token fetch from DingTalk, with the app's name in the config (the hub's fetch counter). */
  onTokenFetch?: ((app: string) => void) | undefined;
}

/**
 * The slowest rate a media upload is given time for: 512 KiB/s, so a file of 20 MB (the cap, docs/dingtalk.md §6.1)
 * gets 40 s on top of the per-call timeout.
 */
export const MEDIA_FLOOR_BYTES_PER_S = 512 * 1024;

/**
 * Timeout of one media upload of `size` bytes: the per-call timeout plus the time the bytes take at
 * {@link MEDIA_FLOOR_BYTES_PER_S}. The flat per-call timeout (the dispatcher's send timeout, 10 s) is sized for
 * small JSON calls; under the upload flood, 20 MB uploads to the emulator ran past it and their shares failed
 * with a 502 although nothing was wrong but the load. The media upload is made while the API request waits
 * (`shareFile`), under no delivery lease, so the lease bound on send timeouts does not apply to it.
 */
export function mediaTimeoutMs(base: number, size: number): number {
  return base + Math.ceil((size / MEDIA_FLOOR_BYTES_PER_S) * 1000);
}

export function createDingTalkAdapter(o: AdapterOptions): DingTalkPort {
  const cfg = o.config;
  const now = o.now ?? Date.now;
  const oapiBase = o.oapiBase ?? cfg.dingtalk.oapiBase;
  const apiBase = o.apiBase ?? cfg.dingtalk.apiBase;
  const loginBase = cfg.dingtalk.loginBase;
  const base: DingTalkClientOptions = {
    retry: false,
    rateLimit: false,
    timeoutMs: o.timeoutMs ?? 10_000,
    now,
    ...(o.logger ? { logger: o.logger } : {}),
    ...(oapiBase ? { oapiBase } : {}),
    ...(apiBase ? { apiBase } : {}),
    ...(loginBase ? { loginBase } : {}),
  };
  const clients = new Map<string, DingTalk>();
  const hooks = new DingTalk(base);
  const robots = new Map<string, CustomRobot>();

  const client = (name: string): DingTalk => {
    const def = cfg.apps[name];
    if (!def) throw new ConfigError(`no app named "${name}"`);
    let c = clients.get(name);
    if (!c) {
      c = new DingTalk({
        ...base,
        appKey: def.appKey,
        appSecret: def.appSecret,
        agentId: def.agentId,
        robotCode: def.robotCode ?? def.appKey,
        corpId: def.corpId,
        token: {
          ...(o.tokenStore ? { store: o.tokenStore } : {}),
          ...(o.onTokenFetch ? { onFetch: () => o.onTokenFetch?.(name) } : {}),
        },
      });
      clients.set(name, c);
    }
    return c;
  };
  const robot = (name: string): CustomRobot => {
    const def = cfg.robots[name];
    if (!def) throw new ConfigError(`no robot named "${name}"`);
    let r = robots.get(name);
    if (!r) {
      r = hooks.webhook({
        // Only the token is kept: the robot is reached on this adapter's oapiBase (the emulator's, when it runs).
        accessToken: parseWebhookUrl(def.webhook, 'webhook.send').accessToken,
        name,
        ...(def.secret ? { secret: def.secret } : {}),
        ...(def.keywords ? { keywords: def.keywords } : {}),
      });
      robots.set(name, r);
    }
    return r;
  };

  return {
    async webhookSend(name, body, idempotencyKey): Promise<void> {
      // `msgUuid` lets DingTalk drop a retried duplicate (docs/dingtalk.md §2.1).
      await robot(name).send(body, idempotencyKey ? { msgUuid: idempotencyKey } : {});
    },

    async robotGroupSend(name, openConversationId, message): Promise<string> {
      return (await client(name).robot.sendToGroup({ openConversationId, message })).processQueryKey;
    },

    async robotOtoSend(name, userIds, message): Promise<string> {
      const r = await client(name).robot.sendToUsers({ userIds, message });
      // DingTalk answers success and names people it will not deliver to (§3.1): the hub sends one person per job,
      // so a recipient flow-controlled is a message not sent, deferred like a throttle instead of marked sent.
      const flowControlled = new Set(r.flowControlledStaffIdList);
      const valid = userIds.filter((u) => !r.invalidStaffIdList.includes(u));
      if (valid.length > 0 && valid.every((u) => flowControlled.has(u))) {
        throw new RateLimitedError(
          'app',
          cfg.dispatcher.flowControlRetryMs ?? 60_000,
          `robot.usersSend: DingTalk flow-controlled the recipient${valid.length === 1 ? '' : 's'} (${valid.length})`,
          { status: 200, platformCode: 'flowControlled' },
          { operation: 'robot.usersSend', outcome: 'not_sent' },
        );
      }
      if (r.invalidStaffIdList.length > 0 && r.invalidStaffIdList.length === userIds.length) {
        throw new DingTalkError(
          'INVALID_RECIPIENTS',
          `robot.usersSend: no valid recipient (${userIds.length})`,
          {
            outcome: 'rejected',
            operation: 'robot.usersSend',
          },
        );
      }
      return r.processQueryKey;
    },

    async noticeSend(name, userIds, message): Promise<string> {
      const c = client(name);
      if (cfg.apps[name]?.agentId === undefined) {
        throw new ConfigError(`apps.${name}.agentId is needed for work notifications`);
      }
      return (await c.notice.send({ userIds, message })).taskId;
    },

    async noticeResult(name, taskId): Promise<NoticeSendResult> {
      const r = await client(name).notice.result(taskId);
      return {
        invalidUserIds: r.invalidUserIds,
        failedUserIds: r.failedUserIds,
        readUserIds: r.readUserIds,
        unreadUserIds: r.unreadUserIds,
        forbidden: r.warnings.map((w) => ({ userId: w.userId, code: w.code, reason: w.reason })),
      };
    },

    async robotOtoReadStatus(name, processQueryKey): Promise<RobotReadStatus> {
      const r = await client(name).robot.usersReadStatus({ processQueryKey });
      return {
        sendStatus: r.sendStatus,
        people: r.messageReadInfoList.map((p) => ({ userId: p.userId, read: p.readStatus === 'READ' })),
      };
    },

    async robotGroupReadStatus(name, openConversationId, processQueryKey): Promise<RobotReadStatus> {
      const c = client(name);
      const readers = new Set<string>();
      let sendStatus: string | undefined;
      let nextToken: string | undefined;
      // A bounded walk of the pages (200 readers each, §3.1): a group larger than this is counted in part.
      for (let page = 0; page < GROUP_READ_PAGES; page++) {
        const r = await c.robot.groupReadStatus({
          processQueryKey,
          openConversationId,
          maxResults: 200,
          ...(nextToken !== undefined ? { nextToken } : {}),
        });
        sendStatus = r.sendStatus;
        for (const u of r.readUserIds) readers.add(u);
        if (!r.hasMore || r.nextToken === undefined) break;
        nextToken = r.nextToken;
      }
      return { sendStatus, people: [...readers].map((userId) => ({ userId, read: true })) };
    },

    async mediaUpload(name, type, fileName, content, contentType): Promise<string> {
      const size = typeof content === 'string' ? (await stat(content)).size : content.length;
      const timeoutMs = mediaTimeoutMs(base.timeoutMs ?? 10_000, size);
      return (await client(name).media.upload({ type, source: content, fileName, contentType, timeoutMs }))
        .mediaId;
    },

    userIdByMobile: (name, mobile) => client(name).users.userIdByMobile(mobile),

    async userGet(name, userId): Promise<ResolvedUser> {
      const u = await client(name).users.get(userId);
      return { userId: u.userId, unionId: u.unionId, name: u.name, mobile: u.mobile };
    },

    async managerOf(name, userId): Promise<string | undefined> {
      // `users.get` keeps each answer 10 minutes in the app client's bounded cache (failures are not kept,
      // src/api/users/users.ts): an escalation asks for every assignee of every overdue task, the org chart rarely
      // changes.
      const m = (await client(name).users.get(userId)).managerUserId;
      return m && m !== userId ? m : undefined;
    },

    async userIdByUnionId(name, unionId): Promise<string> {
      return (await client(name).users.byUnionId(unionId)).userId;
    },

    async userByAuthCode(name, code) {
      const u = await client(name).auth.userByCode(code);
      return { userId: u.userId, unionId: u.unionId, sysLevel: u.sysLevel };
    },

    loginUrl(name, redirectUri, state) {
      return client(name).auth.loginUrl({ redirectUri, state });
    },

    async unionIdByLoginCode(name, code) {
      const c = client(name);
      // The user token is used once, here, and dropped: the hub keeps its own session, not DingTalk's.
      const token = await c.auth.userAccessToken(code);
      return (await c.auth.me(token.accessToken)).unionId;
    },

    async todoCreate(name, t: TodoCreate): Promise<string> {
      const task = await client(name).todo.create(t.unionId, {
        subject: t.subject,
        ...(t.description ? { description: t.description } : {}),
        ...(t.dueTime !== undefined ? { dueTime: t.dueTime } : {}),
        executorIds: t.executorIds,
        sourceId: t.sourceId,
        detailUrl: t.detailUrl,
        ...(t.priority !== undefined ? { priority: t.priority } : {}),
        operatorId: t.unionId,
      } as Parameters<DingTalk['todo']['create']>[1]);
      return task.id;
    },

    async todoSetDone(name, unionId, todoId, done): Promise<void> {
      await client(name).todo.update(unionId, todoId, { done, operatorId: unionId });
    },

    async todoUpdate(name, unionId, todoId, change: TodoChange): Promise<void> {
      await client(name).todo.update(unionId, todoId, {
        ...(change.subject !== undefined ? { subject: change.subject } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.dueTime !== undefined ? { dueTime: change.dueTime } : {}),
        operatorId: unionId,
      });
    },

    async todoDelete(name, unionId, todoId): Promise<void> {
      try {
        await client(name).todo.delete(unionId, todoId, { operatorId: unionId });
      } catch (e) {
        // A replay after an ambiguous first attempt, or a todo its owner already deleted: the goal is reached
        // (docs/dingtalk.md §8.4: `todo.taskDelete.paramError` "task not exist").
        if (isPlatformError(e) && /task not exist/i.test(e.message)) return;
        throw e;
      }
    },

    async cardCreate(name, c: CardCreate): Promise<string | undefined> {
      const r = await client(name).card.createAndDeliver({
        cardTemplateId: c.templateId,
        outTrackId: c.outTrackId,
        cardData: c.cardData,
        // Not forwardable: a click then comes from the group it was delivered to, which only members see (cards.ts).
        to: { group: c.openConversationId, supportForward: false },
        callbackType: c.callbackType,
        ...(c.callbackRouteKey !== undefined ? { callbackRouteKey: c.callbackRouteKey } : {}),
      });
      // A repeated outTrackId answers success with no results (§10: it changes nothing); a refused space says why.
      const failed = r.deliverResults.find((d) => !d.success);
      if (!r.success || failed) {
        throw new DingTalkError(
          'CARD_NOT_DELIVERED',
          `card.createAndDeliver: not delivered (${failed?.errorMsg ?? 'success false'})`,
          { outcome: 'rejected', operation: 'card.createAndDeliver' },
        );
      }
      return r.deliverResults[0]?.carrierId;
    },

    async cardUpdate(name, u: CardUpdate): Promise<void> {
      await client(name).card.update({
        outTrackId: u.outTrackId,
        ...(u.cardData !== undefined ? { cardData: u.cardData } : {}),
        ...(u.privateData !== undefined ? { privateData: u.privateData, updatePrivateDataByKey: true } : {}),
      });
    },

    async todoIsDone(name, unionId, todoId): Promise<boolean> {
      return (await client(name).todo.get(unionId, todoId)).done;
    },

    async close(): Promise<void> {
      await Promise.all([
        hooks.close(),
        ...[...robots.values()].map((r) => r.close()),
        ...[...clients.values()].map((c) => c.close()),
      ]);
    },
  };
}
