/**
 * A work notice to the operator (§5.1), with writes; recalled at the end.
 */

import { meName, myIds, needMe, TEXT } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const notice: VerifyCheck = {
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
