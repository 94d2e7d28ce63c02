/**
 * The in-code migration list. Names sort in the order they apply (`001_initial`, `002_...`): Kysely's Migrator
 * runs them by name and records each in `kysely_migration`, so opening a store twice changes nothing.
 * Other parts of the hub add their tables as new entries here, never by editing an applied one.
 */

import type { Migration } from 'kysely';
import type { StoreDialect } from '../dialect.js';
import { initial } from './001-initial.js';
import { orderHeadIndex } from './002-order-head-index.js';
import { openHits } from './003-open-hits.js';
import { tokenLimitsIdempotencyScope } from './004-token-limits-idempotency-scope.js';
import { appSessions } from './005-app-sessions.js';
import { appSessionOperator } from './006-app-session-operator.js';
import { sendResults } from './007-send-results.js';
import { deliveryEvidence } from './008-delivery-evidence.js';
import { taskCards } from './009-task-cards.js';
import { gateways } from './010-gateways.js';
import { githubIssues } from './011-github-issues.js';
import { alertCards } from './012-alert-cards.js';
import { hookItemRequests } from './013-hook-item-requests.js';

export function migrationsFor(dialect: StoreDialect): Record<string, Migration> {
  return {
    '001_initial': initial(dialect),
    '002_order_head_index': orderHeadIndex,
    '003_open_hits': openHits(dialect),
    '004_token_limits_idempotency_scope': tokenLimitsIdempotencyScope(dialect),
    '005_app_sessions': appSessions,
    '006_app_session_operator': appSessionOperator,
    '007_send_results': sendResults(dialect),
    '008_delivery_evidence': deliveryEvidence(dialect),
    '009_task_cards': taskCards(dialect),
    '010_gateways': gateways(dialect),
    '011_github_issues': githubIssues(dialect),
    '012_alert_cards': alertCards,
    '013_hook_item_requests': hookItemRequests,
  };
}
