/**
 * 005_app_sessions.
 *
 * Sessions of the people's web app (src/server/people/): one row per signed-in browser, shared by every hub process
 * on the store and kept across restarts. Only the SHA-256 of the session id is stored (`id_hash`): a copy of the
 * table does not let anyone act as the people in it. `person` is the directory key (`people.<key>`), `via` how the
 * person signed in (`dingtalk`: a 免登 code, `oauth`: DingTalk's browser login), `expires_at` the hard end.
 */

import type { Kysely, Migration } from 'kysely';

export const appSessions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('app_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('person', 'text', (c) => c.notNull())
      .addColumn('via', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('app_sessions_expires_idx').on('app_sessions').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('app_sessions').execute();
  },
};
