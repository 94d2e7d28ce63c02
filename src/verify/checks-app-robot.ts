/**
 * App-robot checks (§3.1): a made-up downloadCode (read-only); with writes, one group message, recalled at the end,
 * and the batchSend cap probed with copies of the operator's own userId, so nobody else can be reached.
 */

import { appMessage } from '../api/robot/app-templates.js';
import { appRateKey } from '../api/shared/response.js';
import { isPlatformError } from '../core/errors.js';
import {
  groupName,
  madeUp,
  meName,
  myIds,
  needApp,
  needGroupApp,
  needMe,
  recallGroup,
  recallUsers,
  refusal,
  TEXT,
  v1Answer,
} from './check-support.js';
import type { VerifyCheck } from './types.js';

export const downloadCode: VerifyCheck = {
  id: 'robot-download-code',
  family: 'app robot',
  title: 'messageFiles/download with a made-up downloadCode',
  facts: ['robot.unknownDownloadCode'],
  skip: needApp,
  async run(env, rec) {
    const r = await refusal(() => env.dt.robot.downloadUrl({ downloadCode: madeUp(env, 'download') }));
    if (r === 'accepted') return { failed: 'DingTalk gave a download URL for a made-up code' };
    const value = isPlatformError(r) ? v1Answer(r) : `${r.status} (no DingTalk error body)`;
    rec.observe('robot.unknownDownloadCode', value, `answered ${value}`);
    return `answered ${value}`;
  },
};

export const appRobotGroup: VerifyCheck = {
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

/** The documented candidates for the batchSend cap (§12: 20 in the parameter table, 100 in the error text). */
const OTO_CAPS = [20, 100];

export const otoCap: VerifyCheck = {
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
          rateKey: appRateKey(env.dt.context, 'verify.otoCap'),
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
