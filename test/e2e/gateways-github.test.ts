/**
 * GitHub into DingTalk through a real hub on the emulator (SQLite and PostgreSQL), with payloads written from
 * GitHub's webhook docs (test/fixtures/github/): a review request @mentions the mapped reviewer for real; an issue
 * assigned becomes a task with a Todo per mapped person, once however often it is delivered; closed marks it
 * done, reopened reopens it; a failed run posts its link and a green one resolves it; pushes are summarised
 * only where the route says so.
 */

import { describe, expect, it } from 'vitest';
import { ghFixture, githubConfig, githubPoster, LISI_UNION, ZHANGSAN_UNION } from './github-support.js';
import { backends, ENG, OPS, startTestHub, waitFor } from './hub-helpers.js';

const ISSUE_TITLE = 'octo-org/hello-world#1296 Uploads fail after an hour';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`GitHub hooks (${backend.name})`, () => {
    it('review_requested → the group, the mapped reviewer @mentioned; an unmapped one written as text', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const post = githubPoster(f.hub);
        const body = ghFixture('pull_request.review_requested');
        const r = await post('/hooks/github', { event: 'pull_request', body });
        expect(r.status).toBe(202);
        const m = await waitFor(() => f.hub.emulator!.messages(OPS).find((x) => x.text.includes('#1347')));
        expect(m.text).toContain('Review requested');
        expect(m.text).toContain('Retry the upload when the token expires');
        expect(m.text).toContain('https://github.com/octo-org/hello-world/pull/1347');
        // zs-octo is 张三's login: a real mention through the ops group's custom robot (docs/dingtalk.md §2.5).
        expect(m.atUserIds).toEqual(['zhangsan']);

        const ghost = { ...body, number: 1348, requested_reviewer: { login: 'octocat' } };
        expect((await post('/hooks/github', { event: 'pull_request', body: ghost })).status).toBe(202);
        const g = await waitFor(() => f.hub.emulator!.messages(OPS).find((x) => x.text.includes('#1348')));
        expect(g.text).toContain('Reviewers not in the directory: octocat');
        expect(g.atUserIds ?? []).toEqual([]);

        const ping = await post('/hooks/github', { event: 'ping', body: ghFixture('ping') });
        expect(ping.status).toBe(200);
        expect(await ping.json()).toMatchObject({ accepted: true, ignored: true });
        expect(f.hub.metrics.render()).toContain(
          'dingkit_hook_requests_total{result="ignored",route="github"} 1',
        );
      } finally {
        await f.cleanup();
      }
    });

    it('issues: assigned → one task with a Todo per mapped person (redelivered and reassigned: still one); closed → done; reopened → open; unassigned → removed, the last one kept', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const post = githubPoster(f.hub);
        const emu = f.hub.emulator!;
        const body = ghFixture('issues.assigned');
        const delivery = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
        expect((await post('/hooks/github', { event: 'issues', body, delivery })).status).toBe(202);
        // GitHub's "Redeliver" sends the same delivery id: answered as a duplicate, nothing applied twice.
        const again = await post('/hooks/github', { event: 'issues', body, delivery });
        expect(again.status).toBe(200);
        expect(await again.json()).toMatchObject({ duplicate: true });
        // A second `assigned` of the same person under a new delivery id: the same task, no second Todo.
        expect((await post('/hooks/github', { event: 'issues', body })).status).toBe(202);
        // 李四 is assigned too (login written in another case than the config's): added to the same task.
        const lisi = { ...body, assignee: { login: 'ls-octo' } };
        expect((await post('/hooks/github', { event: 'issues', body: lisi })).status).toBe(202);

        const todos = await waitFor(() => {
          const t = emu.todos().filter((x) => x.subject === ISSUE_TITLE);
          return t.length === 2 ? t : undefined;
        });
        expect(todos.map((t) => t.executorIds[0]).sort()).toEqual([LISI_UNION, ZHANGSAN_UNION].sort());
        const links = await f.hub.store.db.selectFrom('github_issue_tasks').selectAll().execute();
        expect(links).toHaveLength(1);
        const taskId = Number(links[0]!.task_id);
        const task = await waitFor(async () => {
          const t = await f.hub.getTask(taskId);
          return t?.assignees.length === 2 ? t : undefined;
        });
        expect(task).toMatchObject({ title: ISSUE_TITLE, group: 'ops', state: 'open' });
        expect(task.description).toBe('https://github.com/octo-org/hello-world/issues/1296');
        expect(await f.hub.listTasks({})).toHaveLength(1);
        // The announcement in the task's group @mentions 张三.
        await waitFor(() => emu.messages(OPS).find((m) => m.text.includes('Uploads fail after an hour')));

        expect(
          (await post('/hooks/github', { event: 'issues', body: { ...body, action: 'closed' } })).status,
        ).toBe(202);
        await waitFor(async () => (await f.hub.getTask(taskId))?.state === 'done');
        await waitFor(() => emu.todos().filter((x) => x.subject === ISSUE_TITLE && x.done).length === 2);

        expect(
          (await post('/hooks/github', { event: 'issues', body: { ...body, action: 'reopened' } })).status,
        ).toBe(202);
        await waitFor(async () => (await f.hub.getTask(taskId))?.state === 'open');
        expect(await f.hub.listTasks({})).toHaveLength(1);

        // Unassigned: 李四 leaves the task and their Todo is deleted; 张三, the last assignee, stays (a task keeps one).
        const unassign = (login: string) => ({ ...body, action: 'unassigned', assignee: { login } });
        expect((await post('/hooks/github', { event: 'issues', body: unassign('ls-octo') })).status).toBe(
          202,
        );
        await waitFor(async () => (await f.hub.getTask(taskId))?.assignees.length === 1);
        await waitFor(
          () => !emu.todos().some((x) => x.subject === ISSUE_TITLE && x.executorIds[0] === LISI_UNION),
        );
        expect((await post('/hooks/github', { event: 'issues', body: unassign('zs-octo') })).status).toBe(
          202,
        );
        const kept = await waitFor(async () => {
          const rows = await f.hub.store.db.selectFrom('hook_items').select(['state', 'note']).execute();
          return rows.find((r) => r.note?.includes('the last assignee stays'));
        });
        expect(kept.state).toBe('coalesced');
        expect((await f.hub.getTask(taskId))?.assignees).toHaveLength(1);

        // An issue assigned to someone no person has: accepted, no task, the login noted on the item.
        const ghost = { ...body, issue: { ...body.issue, number: 7 }, assignee: { login: 'octocat' } };
        expect((await post('/hooks/github', { event: 'issues', body: ghost })).status).toBe(202);
        const note = await waitFor(async () => {
          const rows = await f.hub.store.db.selectFrom('hook_items').select(['state', 'note']).execute();
          return rows.find((r) => r.note?.includes('octocat'));
        });
        expect(note.state).toBe('coalesced');
        expect(await f.hub.listTasks({})).toHaveLength(1);
      } finally {
        await f.cleanup();
      }
    });

    it('workflow_run failure → a message with the run’s link; a later success resolves it; a success alone says nothing', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const post = githubPoster(f.hub);
        const emu = f.hub.emulator!;
        const body = ghFixture('workflow_run.failure');
        const green = (b: typeof body) => ({
          ...b,
          workflow_run: { ...b.workflow_run, conclusion: 'success' },
        });
        // Green on a branch that never failed: nothing to resolve, nothing sent.
        const other = { ...body, workflow_run: { ...body.workflow_run, head_branch: 'calm' } };
        expect((await post('/hooks/github', { event: 'workflow_run', body: green(other) })).status).toBe(202);

        expect((await post('/hooks/github', { event: 'workflow_run', body })).status).toBe(202);
        const m = await waitFor(() => emu.messages(OPS).find((x) => x.text.includes('FIRING')));
        expect(m.text).toContain('https://github.com/octo-org/hello-world/actions/runs/30433642');
        expect(m.text).toContain('CI failed on octo-org/hello-world main');
        expect(m.atUserIds).toEqual(['zhangsan']);

        expect((await post('/hooks/github', { event: 'workflow_run', body: green(body) })).status).toBe(202);
        await waitFor(() => emu.messages(OPS).find((x) => x.text.includes('RESOLVED')));
        await waitFor(async () => (await f.hub.gateways!.hooks.counts())['pending'] === undefined);
        expect(emu.messages(OPS).filter((x) => x.text.includes('CI failed'))).toHaveLength(2);
        expect(emu.messages(OPS).some((x) => x.text.includes('calm'))).toBe(false);
      } finally {
        await f.cleanup();
      }
    });

    it('push: a summary to the rule’s group where enabled; accepted and not sent where not', async () => {
      const f = await startTestHub(backend, { config: githubConfig() });
      try {
        const post = githubPoster(f.hub);
        const emu = f.hub.emulator!;
        const quiet = await post('/hooks/github-quiet', { event: 'push', body: ghFixture('push') });
        expect(quiet.status).toBe(200);
        expect(await quiet.json()).toMatchObject({ accepted: true, ignored: true });

        expect((await post('/hooks/github', { event: 'push', body: ghFixture('push') })).status).toBe(202);
        const m = await waitFor(() => emu.messages(ENG).find((x) => x.text.includes('Push to')));
        expect(m.text).toContain('octo-org/hello-world main: 2 commits');
        expect(m.text).toContain(
          'https://github.com/octo-org/hello-world/compare/9049f1265b7d...acb5820ced94',
        );
        expect(m.text).toContain('zs-octo');
        // Exactly one summary: the quiet route's push sent nothing anywhere.
        await waitFor(async () => (await f.hub.gateways!.hooks.counts())['pending'] === undefined);
        const pushes = [...emu.messages(ENG), ...emu.messages(OPS)].filter((x) => x.text.includes('Push to'));
        expect(pushes).toHaveLength(1);
        expect(f.hub.metrics.render()).toContain(
          'dingkit_hook_requests_total{result="ignored",route="github-quiet"} 1',
        );
      } finally {
        await f.cleanup();
      }
    });
  });
}
