/**
 * The operator looked up (§7), read-only: mobile → userId → unionId. The checks that write to the operator need
 * these ids, so it runs before them.
 */

import { needApp } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const lookupMe: VerifyCheck = {
  id: 'users-lookup',
  family: 'users',
  title: 'the operator looked up (mobile → userId → unionId)',
  skip: (env) => needApp(env) ?? (env.me ? undefined : 'no --me'),
  async run(env) {
    const me = env.me!;
    const steps: string[] = [];
    if (!me.userId && me.mobile) {
      me.userId = await env.dt.users.userIdByMobile(me.mobile);
      steps.push('mobile → userId');
    }
    if (!me.userId) return { failed: 'the operator has neither a mobile nor a userId' };
    if (!me.unionId) {
      me.unionId = await env.dt.users.unionIdOf(me.userId);
      steps.push('userId → unionId');
    }
    return `${me.label} found${steps.length ? ` (${steps.join(', ')})` : ''}`;
  },
};
