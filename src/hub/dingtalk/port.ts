/**
 * What the hub needs from DingTalk, as one narrow port. The hub's services and its sender speak only this
 * interface; `dingtalk/adapter.ts` implements it over the dingkit client. Keeping it narrow means the hub's
 * behaviour can be read in one screen, and the library can change underneath without touching the services.
 *
 * Apps and robots are named as in the config (`apps.<name>`, `robots.<name>`): credentials are looked up at call
 * time and never travel through the store.
 */

import type { NoticeMessage } from '../../api/notice/notice-messages.js';
import type { TemplateMessage } from '../../api/robot/app-templates.js';
import type { WebhookMessage } from '../../api/robot/webhook-messages.js';

/**
 * The messages are the library's own types, built with its builders (`webhookMessage`, `appMessage`,
 * `noticeMessage`): a custom-robot webhook body (docs/dingtalk.md §2.4), an app-robot template (§3.2) and a
 * work-notification `msg` (§5.3).
 */
export type { NoticeMessage, TemplateMessage, WebhookMessage };

export interface TodoCreate {
  /** Owner of the todo (unionId, docs/dingtalk.md §8.1). */
  unionId: string;
  subject: string;
  description?: string | undefined;
  /** Epoch ms. */
  dueTime?: number | undefined;
  executorIds: string[];
  /** Our unique business id: DingTalk refuses a second todo with it ("task exist", §8.2). */
  sourceId: string;
  detailUrl: { appUrl: string; pcUrl: string };
  /** 10 low, 20 normal, 30 high, 40 urgent (§8.2). */
  priority?: number | undefined;
}

/**
 * Fields of an existing todo to change (§8.1 update: `subject`, `description`, `dueTime`). The update API has no
 * way to clear a due time, so a task whose due time is removed keeps the old one on its Todo.
 */
export interface TodoChange {
  subject?: string | undefined;
  /** `''` empties the description. */
  description?: string | undefined;
  /** Epoch ms. */
  dueTime?: number | undefined;
}

/**
 * A task card to create and deliver into a group through the app robot (docs/dingtalk.md §10). `outTrackId` names the
 * instance: delivering it again changes nothing, so a retried create is no second card.
 */
export interface CardCreate {
  outTrackId: string;
  templateId: string;
  openConversationId: string;
  /** `cardParamMap` (strings only). */
  cardData: Record<string, string>;
  /** Where clicks come back: Stream (§S8) or the registered HTTP URL (§10). */
  callbackType: 'STREAM' | 'HTTP';
  callbackRouteKey?: string | undefined;
}

/**
 * New values of a delivered card (§10 update): `cardData` replaces the shared values whole (every update carries the
 * full card, so a late one cannot leave a mix), `privateData` sets the named keys of one person's view.
 */
export interface CardUpdate {
  outTrackId: string;
  cardData?: Record<string, string> | undefined;
  /** userId → values only that person sees. */
  privateData?: Record<string, Record<string, string>> | undefined;
}

export interface ResolvedUser {
  userId: string;
  unionId?: string | undefined;
  name?: string | undefined;
  mobile?: string | undefined;
}

/** A work notice's send result (docs/dingtalk.md §5.1 `getsendresult`), per recipient list. */
export interface NoticeSendResult {
  invalidUserIds: string[];
  failedUserIds: string[];
  readUserIds: string[];
  unreadUserIds: string[];
  /** Recipients DingTalk skipped silently (§5.2), with its code when it gave one. */
  forbidden: Array<{ userId: string; code: number | undefined; reason: string }>;
}

/** Read status of an app-robot send (§3.1): per person for a 1:1 send, the readers of a group send. */
export interface RobotReadStatus {
  /** `SUCCESS`, `PROCESSING`, `RECALLED` as DingTalk wrote it (passed through, never compared strictly, §3.1). */
  sendStatus: string | undefined;
  /** 1:1: each recipient's state; group: the readers (all `read`). */
  people: Array<{ userId: string; read: boolean }>;
}

export interface DingTalkPort {
  /** Custom robot webhook send (§2). Resolves when DingTalk answered errcode 0. */
  webhookSend(robot: string, body: WebhookMessage, idempotencyKey?: string): Promise<void>;
  /** App robot group send (§3.1). Returns the processQueryKey. */
  robotGroupSend(app: string, openConversationId: string, message: TemplateMessage): Promise<string>;
  /** App robot 1:1 batch send (§3.1). Returns the processQueryKey. */
  robotOtoSend(app: string, userIds: string[], message: TemplateMessage): Promise<string>;
  /** Work notification (§5.1). Returns the task id. */
  noticeSend(app: string, userIds: string[], msg: NoticeMessage): Promise<string>;
  /** Who received, read or was dropped from a work notice (§5.1 getsendresult; task at most 24 h old). */
  noticeResult(app: string, taskId: string): Promise<NoticeSendResult>;
  /** Read status of an app-robot 1:1 send (§3.1 readStatus; key valid 24 h). */
  robotOtoReadStatus(app: string, processQueryKey: string): Promise<RobotReadStatus>;
  /** Readers of an app-robot group send (§3.1 groupMessages/query; all pages). */
  robotGroupReadStatus(
    app: string,
    openConversationId: string,
    processQueryKey: string,
  ): Promise<RobotReadStatus>;
  /** Media upload (§6.1). Returns the media id. */
  mediaUpload(
    app: string,
    type: 'file' | 'image',
    fileName: string,
    /** The bytes, or the path of a file to stream them from (with its exact length, docs/dingtalk.md §6.1). */
    content: Buffer | string,
    contentType: string,
  ): Promise<string>;
  /** Users (§7). */
  userIdByMobile(app: string, mobile: string): Promise<string>;
  userGet(app: string, userId: string): Promise<ResolvedUser>;
  userIdByUnionId(app: string, unionId: string): Promise<string>;
  /**
   * The userId of this person's manager (`manager_userid` of the user details, docs/dingtalk.md §7), or undefined
   * when DingTalk gives none. Cached 10 minutes (answers with no manager too); a failed lookup is not.
   */
  managerOf(app: string, userId: string): Promise<string | undefined>;
  /** Todo (§8). Returns the todo id. */
  todoCreate(app: string, input: TodoCreate): Promise<string>;
  todoSetDone(app: string, unionId: string, todoId: string, done: boolean): Promise<void>;
  /** Changes a todo's subject, description or due time (§8.1 update). */
  todoUpdate(app: string, unionId: string, todoId: string, change: TodoChange): Promise<void>;
  /** Deletes a todo (§8.1 delete); a todo that no longer exists is not an error. */
  todoDelete(app: string, unionId: string, todoId: string): Promise<void>;
  /** Creates and delivers an interactive card into a group (§10). Returns the message's carrierId when told. */
  cardCreate(app: string, card: CardCreate): Promise<string | undefined>;
  /** Updates a delivered card in place (§10 update). */
  cardUpdate(app: string, update: CardUpdate): Promise<void>;
  /** Whether a todo is done (`GET .../tasks/{taskId}`, SDK-only in docs/dingtalk.md §8.1 / §12). */
  todoIsDone(app: string, unionId: string, todoId: string): Promise<boolean>;
  /**
   * Who is this person (docs/dingtalk.md §13.2): trades a 免登 code from `dd.requestAuthCode` for the person, with
   * the app token. The code is spent; a refused one is an `AuthCodeError`.
   */
  userByAuthCode(
    app: string,
    code: string,
  ): Promise<{ userId: string; unionId: string; sysLevel?: number | undefined }>;
  /** DingTalk's browser sign-in page for this app (§13.3); nothing is sent. */
  loginUrl(app: string, redirectUri: string, state: string): string;
  /** Trades the OAuth code of the sign-in page's redirect for the person's unionId (§13.3: user token, `me`). */
  unionIdByLoginCode(app: string, code: string): Promise<string>;
  /** Releases sockets. */
  close(): Promise<void>;
}
