/**
 * GitHub issues keep the hub's guarantee across a kill (SQLite and PostgreSQL). An `assigned` item is committed
 * before the 202 and applied afterwards; a kill can fall between the task's commit and the transaction that marks
 * the item done and links the issue. That state is built here exactly (item back to pending, link gone, as the
 * kill leaves them) and the applier runs again: the task's idempotency key finds the first task, so nothing is
 * doubled. Twin: with the key removed (the protection off), the same replay makes a second task.
 *
 * And "never lost": a hub whose flusher is stopped (a dead process) still commits the 202'd item; another hub
 * on the same store applies it.
 */

import { describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { ghFixture, githubConfig, githubPoster } from './github-support.js';
import { backends, startTestHub, waitFor } from './hub-helpers.js';

const TITLE = 'octo-org/hello-world#1296 Uploads fail after an hour';

async function killedAfterTask(f: Awaited<ReturnType<typeof startTestHub>>, keepKey: boolean) {
  const post = githubPoster(f.hub);
  expect((await post('/hooks/github', { event: 'issues', body: ghFixture('issues.assigned') })).status).toBe(
    202,
  );
  const db = f.hub.store.db;
  await waitFor(async () => (await db.selectFrom('github_issue_tasks').selectAll().execute()).length === 1);
  // What a kill after the task's commit and before the item's leaves behind.
  await f.hub.gateways!.stop();
  await db.deleteFrom('github_issue_tasks').execute();
  await db.updateTable('hook_items').set({ state: 'pending', done_at: null, note: null }).execute();
  if (!keepKey) await db.updateTable('tasks').set({ idempotency_key: null }).execute();
  // The restarted process's flusher.
  const again = await launchHub({ config: githubConfig(), store: await f.reopen(), inboxPollMs: 50 });
  try {
    await waitFor(async () => (await again.gateways!.hooks.counts())['pending'] === undefined);
    return {
      tasks: (await db.selectFrom('tasks').select(['id', 'title']).execute()).filter(
        (t) => t.title === TITLE,
      ),
      links: await db.selectFrom('github_issue_tasks').selectAll().execute(),
      items: await db.selectFrom('hook_items').select(['state', 'note']).execute(),
    };
  } finally {
    await again.stop();
  }
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`GitHub issue tasks across a kill (${backend.name})`, () => {
    it('applied again after a kill between the task and the item: still one task, linked, the item done', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const r = await killedAfterTask(f, true);
        expect(r.tasks).toHaveLength(1);
        expect(r.links).toHaveLength(1);
        expect(Number(r.links[0]!.task_id)).toBe(Number(r.tasks[0]!.id));
        expect(r.items).toEqual([{ state: 'sent', note: `task #${r.tasks[0]!.id}` }]);
      } finally {
        await f.cleanup();
      }
    });

    it('twin: without the task’s idempotency key the same replay doubles the task', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const r = await killedAfterTask(f, false);
        expect(r.tasks).toHaveLength(2);
      } finally {
        await f.cleanup();
      }
    });

    it('a 202 from a process that dies before applying is applied by the next one', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        await f.hub.gateways!.stop();
        const post = githubPoster(f.hub);
        expect(
          (await post('/hooks/github', { event: 'issues', body: ghFixture('issues.assigned') })).status,
        ).toBe(202);
        const db = f.hub.store.db;
        expect(await db.selectFrom('tasks').selectAll().execute()).toHaveLength(0);
        const next = await launchHub({ config: githubConfig(), store: await f.reopen(), inboxPollMs: 50 });
        try {
          await waitFor(
            async () => (await db.selectFrom('github_issue_tasks').selectAll().execute()).length === 1,
          );
          // Both processes' dispatchers share the store's outbox: the Todo reaches whichever emulator's took the job.
          await waitFor(() =>
            [next, f.hub].some((h) => h.emulator!.todos().some((t) => t.subject === TITLE)),
          );
          expect(await db.selectFrom('tasks').selectAll().execute()).toHaveLength(1);
        } finally {
          await next.stop();
        }
      } finally {
        await f.cleanup();
      }
    });
  });
}
