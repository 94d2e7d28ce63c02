/** The dispatcher conformance fixture: per-test stores on one backend, enqueue helpers, auto-stopped dispatchers. */

import type { KyselyPlugin } from 'kysely';
import { NetworkError } from '../../src/core/errors.js';
import { Dispatcher, type DispatcherOptions } from '../../src/hub/delivery/dispatcher.js';
import type { Job, JobPayload } from '../../src/hub/delivery/jobs.js';
import { Outbox } from '../../src/hub/delivery/outbox.js';
import type { Store } from '../../src/store/open-store.js';
import { type Backend, freshStores } from './backends.js';

/**
 * A job to `target`: an app robot group message (not idempotent: an unknown outcome parks), or with `idempotent` a
 * custom robot webhook (DingTalk dedupes it, so an unknown outcome is retried). `n` numbers it (`numberOf`).
 */
export const spec = (
  target: string,
  extra: Partial<Job> & { idempotent?: boolean | undefined; n?: number | undefined } = {},
): Job => {
  const { idempotent, n, ...rest } = extra;
  const content = n === undefined ? `to ${target}` : String(n);
  return idempotent
    ? {
        channel: 'robot',
        target,
        payload: { t: 'webhook', robot: target, body: { msgtype: 'text', text: { content } } },
        ...rest,
      }
    : {
        channel: 'app',
        target,
        payload: {
          t: 'group',
          app: 'hub',
          openConversationId: target,
          msgKey: 'sampleText',
          msgParam: { content },
        },
        ...rest,
      };
};

/** The `n` a job of `spec(target, { n })` was given. */
export const numberOf = (p: JobPayload): number =>
  Number(p.t === 'group' && 'content' in p.msgParam ? p.msgParam.content : Number.NaN);

/** Every 7th job fails twice (not_sent) before it goes through; the others fail at random 20 % of the time. */
export const failSome = (job: { payload: JobPayload; attempt: number }): Error | undefined => {
  const n = numberOf(job.payload);
  if (n % 7 === 0 && job.attempt <= 2) return new NetworkError('reset');
  return Math.random() < 0.2 ? new NetworkError('reset') : undefined;
};

/** Call inside a describe: registers the cleanup and returns the helpers. */
export function dispatchFixture(backend: Backend) {
  const running: Dispatcher[] = [];
  const stores = freshStores(backend, async () => {
    for (const d of running.splice(0)) await d.stop({ deadlineMs: 1_000 });
  });
  return {
    running,
    stores,
    async enqueueMany(s: Store, specs: Job[], now?: () => number): Promise<number[]> {
      const box = new Outbox(s, now ? { now } : {});
      const ids: number[] = [];
      for (const d of specs) {
        const r = await box.enqueue({ kind: 'message', request: {}, jobs: [d] });
        ids.push(r.deliveries[0]!.id);
      }
      return ids;
    },
    dispatcher(o: DispatcherOptions): Dispatcher {
      const d = new Dispatcher({ pollMs: 10, ...o });
      running.push(d);
      return d;
    },
    row: (s: Store, id: number) =>
      s.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
  };
}

/** A store whose `db` fails the next `n` UPDATE statements, as a dropped connection would. */
export function flaky(s: Store): { store: Store; failUpdates: (n: number) => void } {
  let fail = 0;
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      if (fail > 0 && args.node.kind === 'UpdateQueryNode') {
        fail--;
        throw new Error('Connection terminated unexpectedly');
      }
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { store: { ...s, db: s.db.withPlugin(plugin) }, failUpdates: (n) => (fail = n) };
}
