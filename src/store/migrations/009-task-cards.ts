/**
 * 009_task_cards.
 *
 * The interactive card that announces a task in a group served by an app robot (src/hub/tasks/cards.ts,
 * docs/dingtalk.md §10): one row per task that has one. `out_track_id` is the card instance's id at DingTalk,
 * derived from the task so a retried create is no second card (§10: the same outTrackId changes nothing), and the
 * key a click comes back with; it is unique, so a click finds its task by it and by nothing the clicker wrote.
 * `group_alias` and `open_conversation_id` say where the card lives (a click from that space shows the clicker is in
 * the group); `app` sends its updates. Kept while the task exists (deleted with it).
 */

import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { idType as idTypeOf } from './columns.js';

export function taskCards(dialect: StoreDialect): Migration {
  const idType = idTypeOf(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('task_cards')
        .addColumn('task_id', idType, (c) => c.primaryKey().references('tasks.id').onDelete('cascade'))
        .addColumn('out_track_id', 'text', (c) => c.notNull().unique())
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('group_alias', 'text', (c) => c.notNull())
        .addColumn('open_conversation_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('task_cards').execute();
    },
  };
}
