/**
 * Escalation to the assignees' managers (`tasks.escalateTo: ['manager']`, DingTalk's `manager_userid`,
 * docs/dingtalk.md §7) and by work notification (`tasks.escalateVia: 'notice'`), over the emulator's demo org
 * (李四 and 王五 report to 张三; Bob Li has no manager), on SQLite and PostgreSQL. A manager lookup that fails drops
 * the managers only: the group and the creator are still told, once.
 */

import { describe, expect, it } from 'vitest';
import { launchHub } from '../../src/cli/launch-hub.js';
import { ConfigError } from '../../src/core/errors.js';
import { expectThrows } from '../support/expect-throws.js';
import { backends, ENG, type HubFixture, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const isOverdue = (id: number) => (text: string) => text.startsWith(`Overdue: task #${id}`);
const oto = (f: HubFixture, userId: string, id: number) =>
  f.hub.emulator!.messages(`oto:${userId}`).filter((m) => isOverdue(id)(m.text));
const notices = (f: HubFixture, userId: string, id: number) =>
  f.hub.emulator!.notices(userId).filter((n) => JSON.stringify(n.msg).includes(`Overdue: task #${id}`));
const inGroup = (f: HubFixture, id: number) =>
  f.hub.emulator!.messages(ENG).filter((m) => isOverdue(id)(m.text));

/** Everything enqueued has gone out (a copy that was going to be sent is at the emulator by now). */
async function drained(f: HubFixture): Promise<void> {
  await waitFor(async () => {
    const left = await f.store.db
      .selectFrom('deliveries')
      .select('id')
      .where('status', 'in', ['queued', 'sending'])
      .execute();
    return left.length === 0;
  });
}

function escalating(tasks: Record<string, unknown>) {
  // Reminder off, escalation 100 ms after a due time 1 s away: a margin a busy machine keeps.
  return testConfig({ tasks: { pollMs: 20, remindBeforeMs: 0, escalateAfterMs: 100, ...tasks } });
}

const due = () => new Date(Date.now() + 1_000).toISOString();

for (const backend of backends) {
  describe.skipIf(backend.skip)(`escalation to managers and by notice (${backend.name})`, () => {
    it("overdue: the assignees' shared manager gets one 1:1, deduplicated", async () => {
      const f = await startTestHub(backend, { config: escalating({ escalateTo: ['manager'] }) });
      try {
        const t = await f.hub.assignTask(
          { title: 'Ship the beta', assignees: ['lisi', 'wangwu'], group: 'engineering', due: due() },
          { by: 'api:ci' },
        );
        await waitFor(() => oto(f, 'zhangsan', t.id)[0]);
        await waitFor(() => inGroup(f, t.id)[0]);
        await drained(f);
        expect(oto(f, 'zhangsan', t.id)).toHaveLength(1);
        expect(inGroup(f, t.id)).toHaveLength(1);
        expect(notices(f, 'zhangsan', t.id)).toEqual([]);
        expect((await f.hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual(['created', 'escalated']);
      } finally {
        await f.cleanup();
      }
    });

    it('escalateVia notice: the manager and the creator get a work notification instead', async () => {
      const f = await startTestHub(backend, {
        config: escalating({ escalateTo: ['creator', 'manager'], escalateVia: 'notice' }),
      });
      try {
        const t = await f.hub.assignTask(
          { title: 'Review the budget', assignees: ['lisi'], group: 'engineering', due: due() },
          { by: 'app:Alice Chen', person: { key: 'alice' } },
        );
        await waitFor(() => notices(f, 'zhangsan', t.id)[0]);
        await waitFor(() => notices(f, 'alice', t.id)[0]);
        await drained(f);
        expect(notices(f, 'zhangsan', t.id)).toHaveLength(1);
        expect(notices(f, 'alice', t.id)).toHaveLength(1);
        expect([...oto(f, 'zhangsan', t.id), ...oto(f, 'alice', t.id)]).toEqual([]);
      } finally {
        await f.cleanup();
      }
    });

    it('an assignee with no manager: only the creator and the configured lead are told, besides the group', async () => {
      const f = await startTestHub(backend, {
        config: escalating({ escalateTo: ['creator', 'leads', 'manager'], escalationLeads: ['王五'] }),
      });
      try {
        const t = await f.hub.assignTask(
          { title: 'Fix the flaky test', assignees: ['bob'], group: 'engineering', due: due() },
          { by: 'app:Alice Chen', person: { key: 'alice' } },
        );
        await waitFor(() => oto(f, 'alice', t.id)[0]);
        await waitFor(() => oto(f, 'wangwu', t.id)[0]);
        await drained(f);
        expect(oto(f, 'alice', t.id)).toHaveLength(1);
        expect(oto(f, 'wangwu', t.id)).toHaveLength(1);
        // Bob has no manager in the org: nobody else hears of it 1:1.
        expect(oto(f, 'zhangsan', t.id)).toEqual([]);
        expect(inGroup(f, t.id)).toHaveLength(1);
      } finally {
        await f.cleanup();
      }
    });

    it('a configured lead nobody can find is refused at start, not skipped at every escalation', async () => {
      const fresh = await backend.fresh();
      const store = await fresh.open();
      try {
        const e = await expectThrows(
          () => launchHub({ config: escalating({ escalationLeads: ['Nobody Here'] }), store }),
          ConfigError,
        );
        expect(e.message).toMatch(/tasks\.escalationLeads: no person "Nobody Here"/);
      } finally {
        await fresh.cleanup();
      }
    });

    it('a manager lookup that fails: the group and the creator are still told, once; the manager is skipped', async () => {
      const f = await startTestHub(backend, { config: escalating({ escalateTo: ['creator', 'manager'] }) });
      try {
        const t = await f.hub.assignTask(
          { title: 'Renew the domain', assignees: ['lisi'], group: 'engineering', due: due() },
          { by: 'app:Alice Chen', person: { key: 'alice' } },
        );
        // DingTalk's user API answers 5xx from now on: the manager of 李四 cannot be learnt.
        f.hub.emulator!.setFaults({ rules: [{ route: 'POST /topapi/v2/user/get', error5xx: 1 }] });
        await waitFor(() => inGroup(f, t.id)[0]);
        await waitFor(() => oto(f, 'alice', t.id)[0]);
        await drained(f);
        expect(inGroup(f, t.id)).toHaveLength(1);
        expect(oto(f, 'alice', t.id)).toHaveLength(1);
        expect(oto(f, 'zhangsan', t.id)).toEqual([]);
        // The lookup was tried (and failed), so the skip is the fault's doing, not a missing manager.
        const failed = f.hub
          .emulator!.requests()
          .filter((r) => r.route === 'POST /topapi/v2/user/get' && r.status >= 500);
        expect(failed.length).toBeGreaterThan(0);
        expect((await f.hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual(['created', 'escalated']);
      } finally {
        f.hub.emulator!.setFaults({ rules: [] });
        await f.cleanup();
      }
    });
  });
}
