/**
 * The hub's service surface: what the HTTP API, the CLI and the dashboard call. The hub (src/hub/hub.ts)
 * implements it over the store, the dispatcher and the DingTalk clients; the server and the CLI depend only on
 * this file, so either side can be tested with the other replaced.
 *
 * Names, not ids: callers say `group: 'ops'`, `to: ['Alice']`; the hub resolves them through the config and the
 * people directory. Every answer is plain JSON (ISO timestamps) so it can be served as it is.
 */

import type { HookRoutesService } from './gateways/overview.js';
import type { TaskState } from './tasks/state.js';

export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'parked' | 'dead' | 'cancelled';

/** Where a message goes: exactly one of a group alias or people by name. */
export interface Destination {
  /** Group alias from the config (`groups.<alias>`). */
  group?: string | undefined;
  /** People by directory name (or userId), for a 1:1 app-robot message or a work notification. */
  to?: readonly string[] | undefined;
  /** Force a channel; by default the hub picks what the destination has configured. */
  via?: 'robot' | 'app' | 'notice' | undefined;
}

export interface SendMessageInput extends Destination {
  /** Plain text or markdown (with `title`). */
  text: string;
  format?: 'text' | 'markdown' | undefined;
  title?: string | undefined;
  /** Template variables: `{{name}}` in `text`/`title` are replaced. */
  vars?: Record<string, unknown> | undefined;
  /** People to @mention by name; resolved to userId/mobile and written into the text so the mention renders. */
  mention?: readonly string[] | undefined;
  mentionAll?: boolean | undefined;
  /**
   * Same key from the same caller within 24 h: the same request returns the first result and sends nothing new;
   * a different request is refused (IdempotencyConflictError, HTTP 409).
   */
  idempotencyKey?: string | undefined;
  /**
   * Deliver after this conversation's earlier ordered messages and before its later ones (one at a time; a parked
   * message holds the later ones back). Default: the conversation's setting (`groups.<alias>.ordered`,
   * `ordering.groups` / `ordering.people`). The parts of a split message stay in order either way.
   */
  ordered?: boolean | undefined;
}

export interface Delivery {
  id: string;
  status: DeliveryStatus;
  channel: 'robot' | 'app' | 'notice';
  /** Group alias or person name. */
  target: string;
  /** Part n of m when the message was split over DingTalk's size cap. */
  part?: { index: number; count: number } | undefined;
  attempts: number;
  /** Redacted reason of the last failure. */
  lastError?: string | undefined;
  /** DingTalk's id for the sent message (processQueryKey, task_id), when it gave one. */
  remoteId?: string | undefined;
  createdAt: string;
  updatedAt: string;
  /**
   * What DingTalk reported for the people of a sent work notice or app-robot 1:1 message (docs/hub.md "Send
   * results"): how many are still pending, delivered, read, or dropped. Absent when nothing was asked yet.
   */
  recipients?: RecipientCounts | undefined;
}

export interface RecipientCounts {
  pending: number;
  delivered: number;
  read: number;
  dropped: number;
}

/** One person's outcome of a sent delivery. */
export interface DeliveryRecipient {
  userId: string;
  outcome: 'pending' | 'delivered' | 'read' | 'dropped';
  /** Of a drop: DingTalk's code (`143106`, `143105`, ...) or `invalid_user` / `failed`. */
  reasonCode?: string | undefined;
  /** Of a drop: what the code means (docs/dingtalk.md §5.2). */
  reason?: string | undefined;
  updatedAt: string;
  /** The delivery that carried the fallback for this drop (`notices.droppedFallback`). */
  fallbackDeliveryId?: string | undefined;
}

/** A delivery with its recipients and where its send-result questions stand. */
export interface DeliveryDetail extends Delivery {
  messageId: string;
  recipients?: RecipientCounts | undefined;
  people: DeliveryRecipient[];
  /** The send-result schedule: absent for deliveries DingTalk offers no result for (custom robots, Todos). */
  check?:
    | {
        kind: 'notice' | 'oto' | 'group';
        asked: number;
        /** When the next question is due; absent once done. */
        nextAt?: string | undefined;
        doneAt?: string | undefined;
        lastError?: string | undefined;
      }
    | undefined;
}

/** What an operator may decide for a parked delivery (outcome unknown): see docs/hub.md "Parked deliveries". */
export type ResolveAction = 'mark-sent' | 'redrive' | 'drop';

/** One failed attempt of a delivery, as the dispatcher recorded it. */
export interface DeliveryAttempt {
  /** 1-based; a redrive starts the count again. */
  attempt: number;
  at: string;
  /** What the delivery policy did with the failure. */
  action: 'retry' | 'park' | 'dead';
  /** The error's stable code (`TIMEOUT`, `NETWORK`, `PLATFORM`, `LEASE_EXPIRED`...). */
  code?: string | undefined;
  /** Whether DingTalk may have acted: `not_sent`, `unknown` or `rejected`. */
  outcome?: string | undefined;
  /** Redacted reason. */
  reason: string;
}

/** An operator's recorded decision on a parked delivery. */
export interface DeliveryDecision {
  action: ResolveAction;
  /** `api:<token name>`, `cli`, ... */
  by: string;
  at: string;
  note?: string | undefined;
  /** The status the delivery had when the decision was taken. */
  previousStatus: DeliveryStatus;
}

/**
 * A delivery with what an operator needs to judge it: what was sent, every failed attempt, the decisions, and what
 * DingTalk said became of it for each recipient (`DeliveryDetail`).
 */
export interface DeliveryEvidence extends DeliveryDetail {
  /** What produced it: `message`, `task`, `file`, `escalated`... */
  kind: string;
  /** Which sender it goes through: `robot:<name>` (custom robot) or `app:<name>` (app robot, work notice, Todo). */
  via: string;
  /** The payload as stored, secret-named fields redacted. */
  payload: unknown;
  /** When it was parked last (the time of the attempt that parked it), if it ever was. */
  parkedAt?: string | undefined;
  /** Failed attempts, oldest first (at most the last 100). */
  failures: DeliveryAttempt[];
  /** Decisions, oldest first. */
  decisions: DeliveryDecision[];
}

export interface ResolveResult {
  delivery: Delivery;
  decision: DeliveryDecision;
  /** True when this caller had already taken this decision: nothing changed this time. */
  duplicate: boolean;
}

export interface SendResult {
  /** The request's id; a repeated idempotency key returns the first one with `duplicate: true`. */
  messageId: string;
  duplicate: boolean;
  deliveries: Delivery[];
}

export interface TaskInput {
  title: string;
  description?: string | undefined;
  /** People by directory name. */
  assignees: readonly string[];
  /** Group alias where the task is announced and discussed. */
  group?: string | undefined;
  /** ISO time. Reminders go out before it, escalation after it. */
  due?: string | undefined;
  /**
   * Accept a `due` more than a minute in the past (an import of old work); otherwise it is refused with a
   * ValidationError whose `reason` is `due_in_past`.
   * @default false
   */
  allowPastDue?: boolean | undefined;
  priority?: 'low' | 'normal' | 'high' | 'urgent' | undefined;
  idempotencyKey?: string | undefined;
}

/**
 * An edit of an open or in-progress task. Absent fields stay as they are; `null` removes an optional one.
 * Applying the same patch twice changes nothing the second time (no history entry, nothing sent).
 */
export interface TaskPatch {
  title?: string | undefined;
  /** `null` (or `''`) removes the description. */
  description?: string | null | undefined;
  /** ISO time; `null` removes the due time and with it the pending reminder and escalation. */
  due?: string | null | undefined;
  /** As in TaskInput: accept a `due` in the past. @default false */
  allowPastDue?: boolean | undefined;
  /** Group alias from the config; `null` takes the task out of its group. */
  group?: string | null | undefined;
  /** People by directory name to add; each gets a Todo and an @mention in the announcement. */
  addAssignees?: readonly string[] | undefined;
  /** People by directory name to remove; their Todos are deleted. A task keeps at least one assignee. */
  removeAssignees?: readonly string[] | undefined;
}

export interface TaskEvent {
  at: string;
  /** `created`, `edited`, `start`, `done`, `cancel`, `reopen`, `reminded`, `escalated`, `todo_synced`, ... */
  kind: string;
  /** Person name, `api:<token name>`, `cli`, or `dingtalk` for synced changes. */
  by: string;
  note?: string | undefined;
}

export interface Task {
  id: number;
  title: string;
  description?: string | undefined;
  state: TaskState;
  assignees: Array<{ name: string; todoId?: string | undefined }>;
  group?: string | undefined;
  due?: string | undefined;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  createdAt: string;
  updatedAt: string;
  history: TaskEvent[];
}

export interface TaskFilter {
  state?: TaskState | undefined;
  assignee?: string | undefined;
  group?: string | undefined;
  overdue?: boolean | undefined;
  limit?: number | undefined;
}

export interface FileShareInput extends Destination {
  /**
   * The bytes to share: in memory, a stream (spooled to an owner-only temporary file with the size cap enforced
   * while reading), or a file on this machine (`{ path }`, read as a stream and never deleted by the hub; the HTTP
   * API streams each upload to such a file first).
   */
  content: Buffer | NodeJS.ReadableStream | { path: string };
  fileName: string;
  size?: number | undefined;
  /** Shown with the file where the channel supports it. */
  comment?: string | undefined;
  /** Public URL: with only a custom robot configured, a link card is sent instead of a file. */
  publicUrl?: string | undefined;
}

export interface FileShare {
  id: string;
  fileName: string;
  size: number;
  mediaId?: string | undefined;
  target: string;
  channel: 'app' | 'notice' | 'robot-link';
  status: DeliveryStatus;
  createdAt: string;
}

export interface Person {
  name: string;
  mobile?: string | undefined;
  userId?: string | undefined;
  unionId?: string | undefined;
}

export interface HealthReport {
  ok: boolean;
  version: string;
  store: 'sqlite' | 'postgres';
  /** Set when the store cannot take a write (full, read-only, unreachable): why, in plain words. */
  storeError?: string | undefined;
  emulator?: { url: string } | undefined;
  stream: 'connected' | 'connecting' | 'off';
  /**
   * Each receiver `inbound.mode` runs (src/hub/inbound/receiver.ts): Stream `connected` / `connecting` / `off`,
   * HTTP `ready` / `off` with the callback paths DingTalk must be configured with. Empty when nothing is received.
   */
  receivers?:
    | Array<{
        name: 'stream' | 'http';
        state: 'connected' | 'connecting' | 'ready' | 'off';
        routes?: string[] | undefined;
      }>
    | undefined;
  queue: { queued: number; parked: number; dead: number };
  /** The IANA zone the hub shows times in (config `timeZone`, else the system's): the dashboard shows them so too. */
  timeZone?: string | undefined;
}

/** Who is acting, for task history and audit. */
export interface Actor {
  by: string;
  /**
   * Set when acting for a person (a chat command, the people's pages, an API route with a "by person" argument):
   * the task-access rule (tasks/access.ts) then decides. Absent, the caller is an operator (an API token, the
   * CLI) whose scopes govern it.
   */
  person?: PersonActor | undefined;
  /**
   * Whose idempotency keys these are: `token:<name>` for an API token, `person:<userId>` for a person's own page.
   * A key is only ever compared with the same scope's keys (src/store/idempotency.ts).
   * @default `by`
   */
  idempotencyScope?: string | undefined;
}

/** The scope an actor's idempotency keys live in. */
export function keyScopeOf(actor: Actor): string {
  return actor.idempotencyScope ?? actor.by;
}

export interface PersonActor {
  /** Directory key (`people.<key>`), found from DingTalk's verified ids, never from a name someone typed. */
  key: string;
  /** The group alias the request came from (a command written in that group: its members only can write there). */
  group?: string | undefined;
}

/** A person signed in to the people's web app: a directory entry found from DingTalk's verified ids. */
export interface AppPerson {
  /** Directory key (`people.<key>`). */
  key: string;
  name: string;
  userId?: string | undefined;
  /**
   * May open the operator views from the app: one of `tasks.access.admins`, or (with `peopleApp.dingtalkAdmins`)
   * an administrator of the org by DingTalk's word at sign-in.
   */
  operator: boolean;
  /** DingTalk said at sign-in that the person administers the org (`sys_level` 1 or 2, docs/dingtalk.md §13.2). */
  dingtalkAdmin?: boolean | undefined;
}

export interface AppSession {
  person: AppPerson;
  via: 'dingtalk' | 'oauth';
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * What the people's web app (src/server/people/) needs from the hub besides the task calls: sign-in through
 * DingTalk (docs/dingtalk.md §13), sessions in the store, and the task-access rule (tasks/access.ts) asked for a
 * person. Session ids are opaque random values; the hub stores only their hash.
 */
export interface PeopleAppService {
  /** `<publicUrl>` without a trailing slash (config `publicUrl`, else where the hub listens). */
  publicUrl(): string;
  /** What the page needs to ask DingTalk for a 免登 code (§13.2): not secrets. */
  /**
   * What the page needs to ask for a 免登 code; `emulatorOrigin` only when the hub runs on its built-in emulator,
   * whose emulated DingTalk client hands codes to the pages in its phone frame (docs/emulator.md).
   */
  clientInfo(): {
    corpId?: string | undefined;
    clientId?: string | undefined;
    emulatorOrigin?: string | undefined;
  };
  /** SameSite of the session cookie (config `peopleApp.cookieSameSite`). */
  cookieSameSite(): 'lax' | 'none';
  /**
   * The person behind a 免登 code (§13.2). A refused code is an `AuthCodeError`; a person DingTalk knows but the
   * directory does not is a `SignInError` (`not_in_directory`).
   */
  personByAuthCode(code: string): Promise<AppPerson>;
  /** DingTalk's sign-in page, coming back to `redirectUri` with `state` (§13.3). */
  loginUrl(redirectUri: string, state: string): string;
  /** The person behind the OAuth code of the sign-in page's redirect (§13.3). Errors as `personByAuthCode`. */
  personByLoginCode(code: string): Promise<AppPerson>;
  /** A new session; returns the id to put in the cookie (shown once, never stored). */
  openSession(person: AppPerson, via: AppSession['via']): Promise<{ id: string; expiresAt: number }>;
  /** The live session of this id; undefined when unknown, expired (then removed) or the person left the directory. */
  readSession(id: string): Promise<AppSession | undefined>;
  closeSession(id: string): Promise<void>;
  /** The task-access rule (tasks/access.ts) for this person and action, as the task service applies it. */
  may(
    taskId: number,
    personKey: string,
    action: 'view' | 'edit' | 'start' | 'done' | 'cancel' | 'reopen',
  ): Promise<boolean>;
  /** Ids of the tasks this person created (newest first, at most `limit`). */
  createdTaskIds(personKey: string, limit: number): Promise<number[]>;
  /** What went out to DingTalk for a task: its announcements, Todos, reminders (newest first). */
  taskDeliveries(taskId: number): Promise<Delivery[]>;
  /** Group aliases a task may be announced in. */
  groups(): string[];
}

export interface HubService {
  sendMessage(input: SendMessageInput, actor: Actor): Promise<SendResult>;
  getMessage(messageId: string): Promise<SendResult | undefined>;

  assignTask(input: TaskInput, actor: Actor): Promise<Task>;
  getTask(id: number): Promise<Task | undefined>;
  listTasks(filter: TaskFilter): Promise<Task[]>;
  /** `start` / `done` / `cancel` / `reopen`; an invalid transition throws a ValidationError. */
  actOnTask(
    id: number,
    action: 'start' | 'done' | 'cancel' | 'reopen',
    actor: Actor,
    note?: string,
  ): Promise<Task>;

  /**
   * Edits an open or in-progress task (tasks/edit.ts). A closed task throws a ValidationError on field `state`
   * (the HTTP API's 409); an unknown id one on field `id`.
   */
  updateTask(id: number, patch: TaskPatch, actor: Actor): Promise<Task>;

  shareFile(input: FileShareInput, actor: Actor): Promise<FileShare>;
  listShares(limit?: number): Promise<FileShare[]>;

  listDeliveries(filter: {
    status?: DeliveryStatus | undefined;
    /** Only deliveries with at least one recipient DingTalk dropped (docs/hub.md "Send results"). */
    dropped?: boolean | undefined;
    limit?: number | undefined;
  }): Promise<Delivery[]>;
  /** One delivery with its recipients' outcomes; undefined for an unknown id. */
  getDelivery(id: string): Promise<DeliveryDetail | undefined>;
  /** Puts dead or parked deliveries back in the queue; returns how many moved. */
  redrive(ids: readonly string[] | 'all-dead', actor: Actor): Promise<number>;
  /** A delivery with its evidence; undefined when there is no such delivery. */
  deliveryEvidence(id: string): Promise<DeliveryEvidence | undefined>;
  /**
   * Settles a parked delivery and records the decision. Undefined when there is no such delivery. A delivery that
   * is not parked (another operator decided first, or it never was) throws a `DeliveryResolveConflictError` with
   * the decision that stands (HTTP 409); the same actor repeating the same decision gets it back, `duplicate`.
   */
  resolveDelivery(
    id: string,
    action: ResolveAction,
    actor: Actor,
    note?: string,
  ): Promise<ResolveResult | undefined>;

  listPeople(): Promise<Person[]>;
  health(): Promise<HealthReport>;

  /** The people's web app's part (absent on test doubles: then `/app` is not served). */
  readonly peopleApp?: PeopleAppService | undefined;
  /** The hook routes and their last deliveries (`dingkit hooks list`; absent on test doubles: no routes). */
  readonly hookRoutes?: HookRoutesService | undefined;
}
