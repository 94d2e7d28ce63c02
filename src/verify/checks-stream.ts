/**
 * A Stream connection opened and closed (§S2): open call, ticket, WebSocket. Read-only: it subscribes only to a
 * topic nothing is sent on.
 */

import { needApp, verifyStreamClient } from './check-support.js';
import type { VerifyCheck } from './types.js';

export const stream: VerifyCheck = {
  id: 'stream',
  family: 'stream',
  title: 'Stream connection opened and closed',
  skip: needApp,
  async run(env) {
    // Subscribed to a topic nothing is sent on: the connection cannot take a push meant for a running hub
    // (DingTalk hands each push to one of an app's connections, §S6).
    const client = verifyStreamClient(env, [{ type: 'CALLBACK', topic: '/dingkit/verify/none' }]);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not connected within ${env.timeoutMs} ms`)),
            env.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await client.stop();
    }
    return 'opened (open call, ticket, WebSocket) and closed';
  },
};
