/**
 * A hub-like worker process for the kill -9 test: opens the store, runs one dispatcher whose sender posts each
 * job to the test's recorder over loopback (the recorder is the oracle of what "reached DingTalk").
 * Go line (JSON): [database url, schema or -, recorder url, name]
 */

import { NetworkError } from '../../src/core/errors.js';
import { Dispatcher } from '../../src/hub/delivery/dispatcher.js';
import { openStore } from '../../src/store/open-store.js';
import { awaitGo } from './standby.js';

// Started as a warm standby (standby.ts): modules loaded, then the test's go line says where and who.
const [url, schema, recorder, name] = await awaitGo<[string, string, string, string]>();
const store = await openStore({ url, ...(schema !== '-' ? { schema } : {}), sqliteSynchronous: 'NORMAL' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dispatcher = new Dispatcher({
  store,
  owner: name,
  workers: 8,
  leaseMs: 1_500,
  pollMs: 20,
  sender: {
    async send(_job, attempt) {
      await sleep(Math.random() * 15);
      let res: Response;
      try {
        res = await fetch(recorder, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: attempt.deliveryId, attempt: attempt.number, worker: name }),
        });
      } catch (e) {
        throw new NetworkError(`recorder unreachable: ${(e as Error).message}`);
      }
      if (!res.ok) throw new NetworkError(`recorder answered ${res.status}`);
      // Time between "DingTalk accepted" and our commit: the ambiguous window a kill can land in.
      await sleep(Math.random() * 10);
      return { remoteId: `r-${attempt.deliveryId}` };
    },
  },
  onError: (e) => process.stderr.write(`[${name}] ${(e as Error).message}\n`),
});
dispatcher.start();
process.on('SIGTERM', () => {
  void dispatcher
    .stop({ deadlineMs: 5_000 })
    .then(() => store.close())
    .then(() => process.exit(0));
});
process.stdout.write('ready\n');
