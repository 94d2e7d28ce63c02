/**
 * The durable-accept worker: enqueues messages in a loop and prints each message id once `enqueue` has resolved, which is
 * the moment the hub answers 2xx. Go line (JSON): [database url, schema or -, mode: after-commit | before-commit]
 * `before-commit` is the mutation twin: it prints the id before the transaction commits.
 */

import { randomUUID } from 'node:crypto';
import { webhookMessage } from '../../src/api/robot/webhook-messages.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import { openStore } from '../../src/store/open-store.js';
import { awaitGo } from './standby.js';

// Started as a warm standby (standby.ts): modules loaded, then the test's go line says where and how.
const [url, schema, mode] = await awaitGo<[string, string, string]>();
const store = await openStore({ url, ...(schema !== '-' ? { schema } : {}) });
const box = new Outbox(store);
process.stdout.write('ready\n');
for (;;) {
  const key = randomUUID();
  const input = {
    kind: 'message',
    request: { key },
    idempotencyKey: key,
    jobs: [
      {
        channel: 'robot' as const,
        target: 'ops',
        payload: { t: 'webhook' as const, robot: 'ops', body: webhookMessage.text(key) },
      },
    ],
  };
  if (mode === 'before-commit') {
    // Answer first, write later: what "accepted but not durable" looks like.
    process.stdout.write(`accepted ${key}\n`);
    await new Promise((r) => setTimeout(r, 2));
    await box.enqueue(input);
  } else {
    await box.enqueue(input);
    process.stdout.write(`accepted ${key}\n`);
  }
}
