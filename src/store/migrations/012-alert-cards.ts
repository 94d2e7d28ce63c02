/**
 * 012_alert_cards.
 *
 * The interactive card that announces a firing alert in a group its app robot serves (src/hub/gateways/alert-cards.ts,
 * docs/gateways.md "Firing and resolved", docs/dingtalk.md §10), recorded on the alert's row in `hook_alerts` (one
 * row per route, conversation and fingerprint): `card_id` is the card instance's `outTrackId` (derived from the
 * firing item, so a retried create is the same card), `card_app` the app that created it and so sends its updates.
 * Both null: the alert was announced by a markdown message (a custom robot's group, a digest), and resolves by reply.
 * A new incident of the same alert (fired again after its resolve went out) gets a new card and replaces both.
 */

import type { Kysely, Migration } from 'kysely';

export const alertCards: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('hook_alerts').addColumn('card_id', 'text').execute();
    await db.schema.alterTable('hook_alerts').addColumn('card_app', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('hook_alerts').dropColumn('card_app').execute();
    await db.schema.alterTable('hook_alerts').dropColumn('card_id').execute();
  },
};
