/**
 * 011_github_issues.
 *
 * `github_issue_tasks`: the dingkit task an issue of a GitHub route became (src/hub/gateways/github-tasks.ts,
 * docs/gateways.md "GitHub"), one row per route, repository and issue number. The primary key makes the link
 * idempotent per issue: a second `assigned` adds people to the linked task instead of creating another, and
 * `closed` / `reopened` find the task to move. The task itself is created with an idempotency key of the same
 * issue, so a crash between the task's commit and this row's leaves nothing doubled: the retry finds the task by
 * its key and writes the row.
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf } from './columns.js';

export function githubIssues(dialect: StoreDialect): Migration {
  const idType = idTypeOf(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('github_issue_tasks')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('task_id', idType, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('github_issue_tasks_pk', ['route', 'repo', 'number'])
        .execute();
      await db.schema
        .createIndex('github_issue_tasks_task_idx')
        .on('github_issue_tasks')
        .column('task_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('github_issue_tasks').execute();
    },
  };
}
