/**
 * Escalation that reaches someone: an overdue task is told in its group (the assignees, with real @s in a custom-robot
 * group) and, 1:1, to someone who can act on it: the person who created it and the leads of its group
 * (`tasks.escalateTo`); never again to an assignee, each person once. A reminder goes to the assignees only.
 */

import { describe, expect, it } from 'vitest';
import { backends, OPS, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const overdue = (f: Awaited<ReturnType<typeof startTestHub>>, userId: string, id: number) =>
  f.hub.emulator!.messages(`oto:${userId}`).filter((m) => m.text.startsWith(`Overdue: task #${id}`));

for (const backend of backends) {
  describe.skipIf(backend.skip)(
    `escalation reaches the creator and the group's leads (${backend.name})`,
    () => {
      it('overdue: the group hears it, and the creator and the lead get it 1:1; the assignee not twice', async () => {
        const f = await startTestHub(backend, {
          // Reminder off, escalation 100 ms after a due time 1 s away: a margin a busy machine keeps.
          config: testConfig({
            tasks: {
              pollMs: 20,
              remindBeforeMs: 0,
              escalateAfterMs: 100,
              access: { leads: { ops: ['wangwu', 'bob'] } },
            },
          }),
        });
        try {
          const due = new Date(Date.now() + 1_000).toISOString();
          // Alice created it in the people's app (a person, so she is its creator); Bob is assigned and also a lead.
          const t = await f.hub.assignTask(
            { title: 'Renew the certificate', assignees: ['bob'], group: 'ops', due },
            { by: 'app:Alice Chen', person: { key: 'alice' } },
          );
          const inGroup = await waitFor(() =>
            f.hub.emulator!.messages(OPS).find((m) => m.text.startsWith(`Overdue: task #${t.id}`)),
          );
          expect(inGroup.atUserIds).toEqual(['bob']);
          await waitFor(() => overdue(f, 'alice', t.id)[0]);
          await waitFor(() => overdue(f, 'wangwu', t.id)[0]);
          expect(overdue(f, 'alice', t.id)).toHaveLength(1);
          expect(overdue(f, 'wangwu', t.id)).toHaveLength(1);
          // Bob is the assignee: the group's real @ told him; no 1:1 copy.
          expect(overdue(f, 'bob', t.id)).toEqual([]);
          expect((await f.hub.getTask(t.id))!.history.map((e) => e.kind)).toEqual(['created', 'escalated']);
        } finally {
          await f.cleanup();
        }
      });

      it('escalateTo [] keeps it to the group', async () => {
        const f = await startTestHub(backend, {
          config: testConfig({
            tasks: {
              pollMs: 20,
              remindBeforeMs: 0,
              escalateAfterMs: 100,
              escalateTo: [],
              access: { leads: { ops: ['wangwu'] } },
            },
          }),
        });
        try {
          const due = new Date(Date.now() + 1_000).toISOString();
          const t = await f.hub.assignTask(
            { title: 'Rotate the keys', assignees: ['bob'], group: 'ops', due },
            { by: 'app:Alice Chen', person: { key: 'alice' } },
          );
          await waitFor(() =>
            f.hub.emulator!.messages(OPS).find((m) => m.text.startsWith(`Overdue: task #${t.id}`)),
          );
          // Everything the escalation enqueued has gone out: a 1:1 copy would be at the emulator by now.
          await waitFor(async () => {
            const left = await f.store.db
              .selectFrom('deliveries')
              .select('id')
              .where('status', 'in', ['queued', 'sending'])
              .execute();
            return left.length === 0;
          });
          expect([...overdue(f, 'alice', t.id), ...overdue(f, 'wangwu', t.id)]).toEqual([]);
        } finally {
          await f.cleanup();
        }
      });
    },
  );
}
