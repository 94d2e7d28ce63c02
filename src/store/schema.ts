/**
 * The hub's tables, typed for Kysely. One schema for SQLite and PostgreSQL: times are epoch milliseconds in
 * `bigint` columns (PostgreSQL's int8 is parsed back to a JS number by the pool, see open-store.ts), JSON is kept
 * as text, booleans as 0/1, so every repository runs the same queries on both.
 *
 * No secret is ever written here: jobs name a robot or an app (`rate_key`, payload
 * `robot: 'ops'`) and the sender looks the credentials up in the config at send time. The one exception by design
 * is the shared app-token cache in `kv` (short-lived access tokens, see token-store.ts and docs/store.md).
 */

import type { Generated, Insertable, Selectable } from 'kysely';

/** Epoch milliseconds. */
export type Millis = number;

export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'parked' | 'dead' | 'cancelled';
export type DeliveryChannel = 'robot' | 'app' | 'notice';

/**
 * One request accepted by the hub (a message, a task announcement, a file share...). On SQLite this table (and
 * `tasks`) also has an always-null `legacy_idempotency_key`, left by migration 004 (it explains why); no code
 * reads or writes it.
 */
export interface MessagesTable {
  id: string;
  /** What produced it: `message`, `task`, `file`, `reply`... */
  kind: string;
  /**
   * Caller's key; unique per `idempotency_scope` while set. Cleared when a request older than the window reuses
   * it (outbox.ts).
   */
  idempotency_key: string | null;
  /** Whose key it is: `token:<name>`, `person:<userId>`, `cli`... (migration 004). */
  idempotency_scope: string | null;
  /** Hex SHA-256 of the canonical request the key was first used with; null for rows from before 004. */
  request_hash: string | null;
  /** The request as accepted, without secrets (JSON). */
  request_json: string;
  /** The answer given to the first caller (JSON), replayed to later callers with the same key. */
  response_json: string | null;
  created_by: string | null;
  created_at: Millis;
}

/** One unit of outbound work: one part of one message to one target over one channel. */
export interface DeliveriesTable {
  id: Generated<number>;
  message_id: string;
  kind: string;
  channel: DeliveryChannel;
  /** Group alias or person name (what operators see). */
  target: string;
  /** Limiter key (`webhook:<robot>`, `app:<name>:<api>`), or null when the channel has no budget of ours. */
  rate_key: string | null;
  /** What the sender needs (JSON), naming robots/apps, never carrying their secrets. */
  payload: string;
  status: DeliveryStatus;
  /** Send attempts started (a deferral for a throttle does not count). */
  attempts: number;
  /** The DingTalk endpoint dedupes by a key of ours, so an unknown outcome may be retried safely (0/1). */
  idempotent: number;
  /** Earliest time the job may be claimed. */
  run_at: Millis;
  lease_owner: string | null;
  lease_until: Millis | null;
  /** Set when the current attempt began talking to DingTalk; an expired lease with it set is ambiguous. */
  started_at: Millis | null;
  /** Per-conversation ordering: no job is claimed while an earlier one with the same key is unfinished. */
  order_key: string | null;
  part_index: number;
  part_count: number;
  remote_id: string | null;
  /** Redacted reason of the last failure. */
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
  finished_at: Millis | null;
}

/** Sliding-window log: one row per send allowed for a key. */
export interface LimiterHitsTable {
  id: Generated<number>;
  key: string;
  at: Millis;
  /**
   * The claimed delivery whose send this hit pays for, while that send may still be in flight (an open hit: live
   * whatever its age); null once its result is recorded, and for hits of the core limiter (limiter.ts).
   */
  delivery_id: number | null;
}

/** One row per limiter key: the row PostgreSQL locks to serialise a key's window check, and its penalty. */
export interface LimiterKeysTable {
  key: string;
  penalty_until: Millis | null;
}

export type InboxStatus = 'pending' | 'processing' | 'handled' | 'failed';

/** Inbound events and robot messages, keyed by DingTalk's own id so a re-push is recognised. */
export interface InboxTable {
  id: string;
  source: string;
  topic: string;
  payload: string;
  status: InboxStatus;
  attempts: number;
  run_at: Millis;
  lease_owner: string | null;
  lease_until: Millis | null;
  error: string | null;
  received_at: Millis;
  handled_at: Millis | null;
}

export interface TasksTable {
  id: Generated<number>;
  title: string;
  description: string | null;
  /** open | in_progress | done | cancelled (src/hub/tasks/state.ts). */
  state: string;
  group_alias: string | null;
  due_at: Millis | null;
  priority: string;
  /** Caller's key, unique per `idempotency_scope` (for good: a task key has no window). */
  idempotency_key: string | null;
  idempotency_scope: string | null;
  /** Hex SHA-256 of the canonical create request; null for rows from before migration 004. */
  request_hash: string | null;
  created_by: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface TaskAssigneesTable {
  task_id: number;
  person: string;
  union_id: string | null;
  todo_id: string | null;
}

export interface TaskEventsTable {
  id: Generated<number>;
  task_id: number;
  at: Millis;
  kind: string;
  by_actor: string;
  note: string | null;
}

/** Timed work: task reminders, escalations. Claimed with a lease like deliveries. */
export interface SchedulesTable {
  id: Generated<number>;
  task_id: number | null;
  kind: string;
  due_at: Millis;
  payload: string | null;
  fired_at: Millis | null;
  lease_owner: string | null;
  lease_until: Millis | null;
  created_at: Millis;
}

export interface FileSharesTable {
  id: string;
  message_id: string | null;
  file_name: string;
  size: number;
  sha256: string | null;
  media_id: string | null;
  target: string;
  channel: string;
  status: DeliveryStatus;
  created_by: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  /** sha256 hex of the token; the token itself is shown once and never stored. */
  token_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: Millis;
  last_used_at: Millis | null;
  revoked_at: Millis | null;
  /** Null: never expires. */
  expires_at: Millis | null;
  /** 1 when minted by a demo `serve`: such a token never authenticates on a hub with real credentials. */
  demo: Generated<number>;
  /** JSON `{ groups?, people?, noAtAll? }` of a limited token (api-tokens.ts); null: no limits. */
  limits: string | null;
}

export interface PeopleTable {
  name: string;
  mobile: string | null;
  user_id: string | null;
  union_id: string | null;
  resolved_at: Millis | null;
}

export interface KvTable {
  key: string;
  value: string;
  expires_at: Millis | null;
}

export interface LocksTable {
  name: string;
  owner: string;
  until: Millis;
}

/** A signed-in browser of the people's web app (migration 005). Only the hash of the session id is kept. */
export interface AppSessionsTable {
  /** Hex SHA-256 of the opaque session id the browser holds in its cookie. */
  id_hash: string;
  /** Directory key (`people.<key>`). */
  person: string;
  /** `dingtalk` (免登 code) or `oauth` (browser login). */
  via: string;
  created_at: Millis;
  expires_at: Millis;
  /** 1 when DingTalk said at sign-in that the person administers the org (`sys_level` 1 or 2), migration 006. */
  dingtalk_admin: Generated<number>;
}

/** One failed attempt of a delivery (migration 008): the evidence an operator reads before resolving a parked one. */
export interface DeliveryAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  /** 1-based attempt number as the dispatcher counted it (a redrive starts the count again). */
  attempt: number;
  at: Millis;
  /** What the delivery policy did with the failure: `retry`, `park` or `dead`. */
  action: string;
  /** The error's stable code (`TIMEOUT`, `PLATFORM`...), when it had one. */
  code: string | null;
  /** `not_sent`, `unknown` or `rejected`, when the error said. */
  outcome: string | null;
  /** Redacted reason, as stored in `deliveries.last_error`. */
  reason: string;
}

/** An operator's decision on a parked delivery (migration 008). */
export interface DeliveryDecisionsTable {
  id: Generated<number>;
  delivery_id: number;
  /** `mark-sent`, `redrive` or `drop`. */
  action: string;
  /** The status the delivery had when the decision was taken (`parked`). */
  previous_status: string;
  /** Who decided: `api:<token name>`, `cli`, `app:<person>`. */
  by_actor: string;
  note: string | null;
  at: Millis;
}

/** A task's interactive card in its group (migration 009, src/hub/tasks/cards.ts). */
export interface TaskCardsTable {
  task_id: number;
  /** The card instance's id at DingTalk (docs/dingtalk.md §10), derived from the task; unique. */
  out_track_id: string;
  /** The config's app whose robot delivered it and sends its updates. */
  app: string;
  group_alias: string;
  open_conversation_id: string;
  created_at: Millis;
  updated_at: Millis;
}

/** A delivery accepted on a hook route (migration 010): the row's key is the dedupe. */
export interface HookRequestsTable {
  route: string;
  dedup_key: string;
  items: number;
  received_at: Millis;
}

export type HookItemState = 'pending' | 'sent' | 'coalesced' | 'failed';

/** One alert or event for one conversation (src/hub/gateways/, migration 010). */
export interface HookItemsTable {
  id: Generated<number>;
  route: string;
  /** Conversation key (`group:ops`, `person:张三|notice`), gateways/rules.ts. */
  target: string;
  /** firing | resolved | event */
  kind: string;
  fingerprint: string | null;
  /** The item (gateways/items.ts) as JSON. */
  payload: string;
  mention_all: number;
  state: HookItemState;
  due_at: Millis;
  /** The outbox message that carried it (or, when coalesced, the one it was folded into). */
  message_id: string | null;
  note: string | null;
  received_at: Millis;
  done_at: Millis | null;
  /** The dedupe key of the delivery it came with (`hook_requests.dedup_key`, same route); null before migration 013. */
  request_key: string | null;
}

/** An alert's last known state per conversation, and the message that announced it firing. */
export interface HookAlertsTable {
  route: string;
  target: string;
  fingerprint: string;
  status: string;
  message_id: string | null;
  posted_at: Millis | null;
  flaps: number;
  updated_at: Millis;
  /** The alert card's outTrackId (migration 012); null when the alert was announced by a message. */
  card_id: string | null;
  /** The app that created the card and sends its updates. */
  card_app: string | null;
}

/** The dingkit task a GitHub issue became, per route (src/hub/gateways/github-tasks.ts, migration 011). */
export interface GithubIssueTasksTable {
  route: string;
  repo: string;
  number: number;
  task_id: number;
  created_at: Millis;
}

/** What DingTalk did with a sent message: its result is asked for on a schedule (migration 007, hub/results/). */
export interface SendChecksTable {
  delivery_id: number;
  /** `notice` (getsendresult), `oto` (1:1 readStatus), `group` (group query). */
  kind: string;
  /** The config's app name (credentials are looked up at call time). */
  app: string;
  /** DingTalk's handle: a work notice's task_id, an app-robot send's processQueryKey. */
  handle: string;
  /** openConversationId of a group send. */
  conversation: string | null;
  sent_at: Millis;
  /** When the next question is due. */
  due_at: Millis;
  /** Questions asked so far. */
  checks: number;
  lease_owner: string | null;
  lease_until: Millis | null;
  /** Set when there is nothing more to ask (every outcome final, or DingTalk's 24 h window over). */
  done_at: Millis | null;
  /** Redacted reason the last question failed. */
  last_error: string | null;
}

export type RecipientOutcome = 'pending' | 'delivered' | 'read' | 'dropped';

/** One person's outcome of one delivery (migration 007). */
export interface DeliveryRecipientsTable {
  delivery_id: number;
  user_id: string;
  outcome: RecipientOutcome;
  /** Of a drop: DingTalk's code (`143106`), or `invalid_user` / `failed` for its other lists. */
  reason_code: string | null;
  /** Of a drop: what the code means (docs/dingtalk.md §5.2). */
  reason: string | null;
  updated_at: Millis;
  /** When a fallback was enqueued for this drop (set once: never a second fallback). */
  fallback_at: Millis | null;
  fallback_delivery_id: number | null;
}

export interface Database {
  messages: MessagesTable;
  deliveries: DeliveriesTable;
  limiter_hits: LimiterHitsTable;
  limiter_keys: LimiterKeysTable;
  inbox: InboxTable;
  tasks: TasksTable;
  task_assignees: TaskAssigneesTable;
  task_events: TaskEventsTable;
  schedules: SchedulesTable;
  file_shares: FileSharesTable;
  api_tokens: ApiTokensTable;
  people: PeopleTable;
  kv: KvTable;
  locks: LocksTable;
  app_sessions: AppSessionsTable;
  delivery_attempts: DeliveryAttemptsTable;
  delivery_decisions: DeliveryDecisionsTable;
  task_cards: TaskCardsTable;
  hook_requests: HookRequestsTable;
  hook_items: HookItemsTable;
  hook_alerts: HookAlertsTable;
  github_issue_tasks: GithubIssueTasksTable;
  send_checks: SendChecksTable;
  delivery_recipients: DeliveryRecipientsTable;
}

export type MessageRow = Selectable<MessagesTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type NewDelivery = Insertable<DeliveriesTable>;
export type InboxRow = Selectable<InboxTable>;
export type TaskRow = Selectable<TasksTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type DeliveryAttemptRow = Selectable<DeliveryAttemptsTable>;
export type DeliveryDecisionRow = Selectable<DeliveryDecisionsTable>;
