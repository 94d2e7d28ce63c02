/**
 * 006_app_session_operator.
 *
 * Whether a people's-app session may open the operator views because DingTalk said the person is one of the org's
 * administrators when they signed in (`sys_level` 1 or 2 from the 免登 exchange, docs/dingtalk.md §13.2, with
 * `peopleApp.dingtalkAdmins` on). Admins named in the config (`tasks.access.admins`) need no column: the config is
 * read at each request, so removing one there takes effect at once.
 */

import type { Kysely, Migration } from 'kysely';

export const appSessionOperator: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('app_sessions')
      .addColumn('dingtalk_admin', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('app_sessions').dropColumn('dingtalk_admin').execute();
  },
};
