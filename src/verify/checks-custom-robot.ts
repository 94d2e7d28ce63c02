/**
 * Custom-robot checks: a webhook call with a made-up token (read-only: no robot has it, so nothing can be posted
 * whatever DingTalk checks first, §2.6), and, with writes, one text message to the test group through its robot.
 * DingTalk has no recall for custom-robot messages, so that one is always reported as left behind.
 */

import { isPlatformError } from '../core/errors.js';
import { groupName, madeUp, refusal, TEXT } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const robotUnknownToken: VerifyCheck = {
  id: 'robot-unknown-token',
  family: 'custom robot',
  title: 'webhook call with a made-up access_token',
  facts: ['robot.unknownTokenErrcode'],
  async run(env, rec) {
    // No robot has this token, so nothing can be posted whatever DingTalk checks first (§2.6).
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.robotUnknownToken',
        // Counted like a webhook send: the robot budget's 20 per 61 s (§2.6).
        rateKey: 'webhook:dingkit-verify-probe',
        host: 'oapi',
        method: 'POST',
        path: '/robot/send',
        query: { access_token: madeUp(env, 'robot-token') },
        body: { msgtype: 'text', text: { content: 'dingkit verify' } },
        auth: 'none',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk accepted a made-up robot token' };
    if (!isPlatformError(r) || r.errcode === undefined) {
      rec.unobserved('robot.unknownTokenErrcode', `answered HTTP ${r.status} without an errcode`);
      return { failed: `answered HTTP ${r.status} without an errcode` };
    }
    rec.observe('robot.unknownTokenErrcode', r.errcode, `answered errcode ${r.errcode}`);
    return `refused with errcode ${r.errcode}`;
  },
};

export const customRobot: VerifyCheck = {
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
