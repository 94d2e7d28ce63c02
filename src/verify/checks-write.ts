/**
 * Checks that send or create something: only with writes allowed (confirmed, or `--yes`), and only to the named
 * test group (`--group`) or the operator (`--me`). Everything created is recorded the moment it exists, with the
 * way to remove it; the suite removes it at the end even when a later check fails (suite.ts). What DingTalk
 * cannot remove (a custom-robot message, an uploaded media file) is recorded with the reason and reported as a
 * leftover. Sends go through the library, so its budgets apply (the robot's 20 per minute, the app's QPS, §0.2).
 */

import { appMessage } from '../api/robot/app-templates.js';
import { isPlatformError } from '../core/errors.js';
import { watchTodoDone } from './todo-event.js';
import type { VerifyCheck, VerifyEnv } from './types.js';

const TEXT = (env: VerifyEnv, what: string) =>
  `dingkit verify ${env.runId}: ${what}. 测试消息，请忽略 / test message, please ignore.`;

const groupName = (env: VerifyEnv) => `group ${env.group?.alias}`;
const meName = (env: VerifyEnv) => `the operator ${env.me?.label}`;

function needGroupApp(env: VerifyEnv): string | undefined {
  if (!env.group) return 'no --group';
  if (!env.appKey) return 'no app in the config';
  if (!env.group.app) return `group ${env.group.alias} has no app robot (groups.${env.group.alias}.app)`;
  if (!env.group.openConversationId) return `group ${env.group.alias} has no openConversationId`;
  return undefined;
}

function needMe(env: VerifyEnv, agent = false): string | undefined {
  if (!env.me) return 'no --me';
  if (!env.appKey) return 'no app in the config';
  if (agent && env.agentId === undefined) return 'the app has no agentId';
  return undefined;
}

/** The operator's ids, learnt by the users-lookup check; a check cannot run without them. */
function myIds(env: VerifyEnv): { userId: string; unionId: string } {
  const { userId, unionId } = env.me ?? {};
  if (!userId || !unionId)
    throw new Error("the operator's userId / unionId are unknown (users-lookup did not run)");
  return { userId, unionId };
}

const customRobot: VerifyCheck = {
  id: 'custom-robot-message',
  family: 'custom robot',
  title: 'a text message through the group custom robot',
  plan: (env) =>
    !env.group
      ? { skip: 'no --group' }
      : !env.group.robot
        ? { skip: `group ${env.group.alias} has no custom robot (groups.${env.group.alias}.robot)` }
        : { sends: `one text message to ${groupName(env)} through custom robot ${env.group.robot.name}` },
  async run(env, rec) {
    const r = env.group!.robot!;
    const robot = env.dt.webhook({
      webhook: r.webhook,
      secret: r.secret,
      keywords: r.keywords,
      name: r.name,
      budget: r.budget,
    });
    let text = TEXT(env, 'custom robot');
    // A keyword-secured robot posts only messages containing one of its keywords (§2.2).
    if (r.keywords?.length && !r.keywords.some((k) => text.includes(k))) text += ` ${r.keywords[0]}`;
    await robot.text(text);
    rec.created({
      what: 'custom-robot text message',
      to: groupName(env),
      keep: 'DingTalk has no recall for custom-robot messages (§2)',
    });
    return `posted to ${groupName(env)}`;
  },
};

const appRobotGroup: VerifyCheck = {
  id: 'app-robot-message',
  family: 'app robot',
  title: 'a text message through the app robot, then recalled',
  plan: (env) => {
    const skip = needGroupApp(env);
    return skip
      ? { skip }
      : { sends: `one app-robot text message to ${groupName(env)}, recalled at the end` };
  },
  async run(env, rec) {
    const openConversationId = env.group!.openConversationId!;
    const { processQueryKey } = await env.dt.robot.sendToGroup({
      openConversationId,
      message: appMessage.text(TEXT(env, 'app robot')),
    });
    rec.created({
      what: 'app-robot text message',
      to: groupName(env),
      undo: () => recallGroup(env, openConversationId, processQueryKey),
    });
    return `sent to ${groupName(env)}`;
  },
};

async function recallGroup(env: VerifyEnv, openConversationId: string, key: string): Promise<void> {
  const r = await env.dt.robot.recallGroup({ openConversationId, processQueryKeys: [key] });
  const why = r.failedResult[key];
  if (why !== undefined || !r.successResult.includes(key))
    throw new Error(`recall refused: ${why ?? 'not listed'}`);
}

const card: VerifyCheck = {
  id: 'card',
  family: 'card',
  title: 'an interactive card sent and updated, then recalled',
  plan: (env) => {
    const skip =
      needGroupApp(env) ?? (env.cardTemplateId ? undefined : 'no card template (tasks.cards.templateId)');
    return skip
      ? { skip }
      : { sends: `one interactive card to ${groupName(env)}, updated once, recalled at the end` };
  },
  async run(env, rec) {
    const outTrackId = `dingkit-verify-${env.runId}`;
    const openConversationId = env.group!.openConversationId!;
    const res = await env.dt.card.createAndDeliver({
      cardTemplateId: env.cardTemplateId!,
      outTrackId,
      cardData: { title: TEXT(env, 'card'), status: 'open' },
      to: { group: openConversationId },
    });
    const carrier = res.deliverResults.find((d) => d.carrierId)?.carrierId;
    rec.created({
      what: 'interactive card',
      to: groupName(env),
      ...(carrier
        ? { undo: () => recallGroup(env, openConversationId, carrier) }
        : { keep: 'DingTalk gave no carrierId (processQueryKey) to recall the card message with' }),
    });
    if (!res.success) {
      const why = res.deliverResults
        .map((d) => d.errorMsg)
        .filter(Boolean)
        .join('; ');
      return { failed: `delivery refused: ${why || 'no reason given'}` };
    }
    await env.dt.card.update({ outTrackId, cardData: { status: 'done' }, updateCardDataByKey: true });
    return `sent to ${groupName(env)} and updated`;
  },
};

/** The documented candidates for the batchSend cap (§12: 20 in the parameter table, 100 in the error text). */
const OTO_CAPS = [20, 100];

const otoCap: VerifyCheck = {
  id: 'robot-oto-cap',
  family: 'app robot',
  title: 'oToMessages/batchSend cap, probed with copies of the operator',
  facts: ['robot.otoMaxUsers'],
  plan: (env) => {
    const skip = needMe(env);
    return skip
      ? { skip }
      : {
          sends: `1:1 app-robot messages to ${meName(env)} only: batchSend with 21 copies of their userId (refused if the cap is 20; else up to 21 messages to them), then 101 if 21 was taken; each accepted send recalled at the end`,
        };
  },
  async run(env, rec) {
    const { userId } = myIds(env);
    const expected = env.settings.limits.otoMaxUsers;
    const caps = [...new Set([...OTO_CAPS, expected])].sort((a, b) => a - b);
    let accepted = 0;
    for (const cap of caps) {
      const n = cap + 1;
      try {
        const res = await env.dt.request<{ processQueryKey?: unknown }>({
          operation: 'verify.otoCap',
          host: 'api',
          method: 'POST',
          path: '/v1.0/robot/oToMessages/batchSend',
          body: {
            robotCode: env.dt.app.robotCode,
            // Only the operator, n times: whatever DingTalk does with the copies, nobody else is reached.
            userIds: Array.from({ length: n }, () => userId),
            msgKey: 'sampleText',
            msgParam: JSON.stringify({ content: TEXT(env, `batchSend of ${n} ids`) }),
          },
          auth: 'app',
          idempotent: false,
        });
        accepted = n;
        const key = res.data.processQueryKey;
        rec.created({
          what: `app-robot 1:1 message (batchSend of ${n} copies)`,
          to: meName(env),
          ...(typeof key === 'string'
            ? { undo: () => recallUsers(env, key) }
            : { keep: 'the answer had no processQueryKey to recall with' }),
        });
      } catch (e) {
        if (!isPlatformError(e)) throw e;
        const code = e.platformCode ?? e.errcode ?? e.code;
        // Only a refusal about the list itself says anything about the cap (a permission error does not).
        if (!/user|param|max|limit|exceed/i.test(`${code} ${e.message}`)) {
          rec.unobserved(
            'robot.otoMaxUsers',
            `${n} ids refused with ${code}, which may not be about the count`,
          );
          return { failed: `${n} ids refused with ${code}` };
        }
        rec.observe(
          'robot.otoMaxUsers',
          cap,
          `${accepted ? `${accepted} ids accepted, ` : ''}${n} refused (${code})`,
        );
        return `${accepted ? `${accepted} accepted, ` : ''}${n} refused: the cap is ${cap}`;
      }
    }
    rec.observe('robot.otoMaxUsers', accepted, `${accepted} ids accepted (the largest probe)`);
    return `${accepted} ids accepted: the cap is at least ${accepted}`;
  },
};

async function recallUsers(env: VerifyEnv, key: string): Promise<void> {
  const r = await env.dt.robot.recallUsers({ processQueryKeys: [key] });
  const why = r.failedResult[key];
  if (why !== undefined || !r.successResult.includes(key))
    throw new Error(`recall refused: ${why ?? 'not listed'}`);
}

const notice: VerifyCheck = {
  id: 'work-notice',
  family: 'work notice',
  title: 'a work notice to the operator, then recalled',
  plan: (env) => {
    const skip = needMe(env, true);
    return skip ? { skip } : { sends: `one work notice to ${meName(env)}, recalled at the end` };
  },
  async run(env, rec) {
    const { userId } = myIds(env);
    const { taskId } = await env.dt.notice.send({
      userIds: [userId],
      message: { msgtype: 'text', text: { content: TEXT(env, 'work notice') } },
    });
    rec.created({ what: 'work notice', to: meName(env), undo: () => env.dt.notice.recall(taskId) });
    return `sent (task ${taskId})`;
  },
};

const todo: VerifyCheck = {
  id: 'todo',
  family: 'todo',
  title: 'a Todo created for the operator, then deleted',
  facts: ['todo.doneEventType'],
  plan: (env) => {
    const skip = needMe(env);
    if (skip) return { skip };
    const wait = env.todoEventWaitMs
      ? `; while you tick it (up to ${Math.round(env.todoEventWaitMs / 1000)} s) the app's events are read on a Stream connection, all but the Todo's answered LATER`
      : '';
    return { sends: `one Todo for ${meName(env)}, deleted at the end${wait}` };
  },
  async run(env, rec) {
    const { unionId } = myIds(env);
    const link = 'https://open.dingtalk.com/';
    const subject = TEXT(env, 'Todo');
    const task = await env.dt.todo.create(unionId, {
      subject,
      executorIds: [unionId],
      sourceId: `dingkit-verify-${env.runId}`,
      detailUrl: { appUrl: link, pcUrl: link },
    });
    rec.created({ what: 'Todo', to: meName(env), undo: () => env.dt.todo.delete(unionId, task.id) });
    const back = await env.dt.todo.get(unionId, task.id);
    if (back.id !== task.id) return { failed: 'the Todo read back has another id' };
    if (!env.todoEventWaitMs) {
      rec.unobserved(
        'todo.doneEventType',
        'not asked: --todo-event SECONDS has the operator tick the Todo while the suite listens',
      );
      return 'created and read back';
    }
    return `created and read back; ${await watchTodoDone(env, rec, { taskId: task.id, unionId, subject })}`;
  },
};

/** A 1×1 transparent PNG: real image bytes, so DingTalk's type checks have nothing to refuse (§6.1). */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const media: VerifyCheck = {
  id: 'media-upload',
  family: 'media',
  title: 'a 1×1 image uploaded as media',
  // Invisible, but it creates something that cannot be removed: only in a run that names a target (a write run).
  plan: (env) =>
    !env.group && !env.me
      ? { skip: 'no --group or --me' }
      : env.appKey
        ? { sends: 'one 1×1 PNG uploaded as media (shown to no one; DingTalk has no delete for it)' }
        : { skip: 'no app in the config' },
  async run(env, rec) {
    const fileName = `dingkit-verify-${env.runId}.png`;
    const r = await env.dt.media.upload({ type: 'image', source: PIXEL, fileName });
    rec.created({
      what: `media file ${fileName}`,
      to: 'the app',
      keep: 'DingTalk has no delete for uploaded media (§6)',
    });
    return `uploaded (${r.size} bytes)`;
  },
};

export const WRITE_CHECKS: readonly VerifyCheck[] = [
  customRobot,
  appRobotGroup,
  card,
  otoCap,
  notice,
  todo,
  media,
];
