/**
 * Token single-flight: 10,000 concurrent app calls on a cold client against the stub server; prints how many
 * token fetches reached the server (goal: 1). Usage: single-flight.ts <base URL>
 */

import { DingTalk } from '../../src/client.js';

const base = process.argv[2] ?? '';
const dt = new DingTalk({
  appKey: 'dingbenchapp',
  appSecret: 'bench-secret',
  oapiBase: base,
  apiBase: base,
  rateLimit: false,
  env: {},
});
const calls = 10_000;
const t0 = performance.now();
const results = await Promise.allSettled(
  Array.from({ length: calls }, () =>
    dt.robot.sendToGroup({
      openConversationId: 'cidBENCH==',
      message: { msgKey: 'sampleText', msgParam: { content: 'single-flight' } },
    }),
  ),
);
const ms = performance.now() - t0;
process.stdout.write(
  `${JSON.stringify({
    calls,
    tokenFetches: dt.tokens?.fetchCount ?? -1,
    failed: results.filter((r) => r.status === 'rejected').length,
    ms: Math.round(ms),
  })}\n`,
);
await dt.close();
