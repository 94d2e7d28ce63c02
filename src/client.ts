/**
 * The `DingTalk` client: the core request path (`DingTalkCore`: transport, tokens, retry, limits, logging) plus
 * one typed module per DingTalk domain (house style: src/api/<domain>). Domain modules only build requests and
 * read answers; everything cross-cutting stays in the core's middleware.
 *
 * @example
 * const dt = new DingTalk({ appKey, appSecret, agentId, robotCode });
 * await dt.robot.sendToGroup({ openConversationId, message: appMessage.text('hello') });
 * await dt.webhook({ webhook: ROBOT_URL, secret: ROBOT_SECRET }).text('deploy done');
 */

import { Auth } from './api/auth/auth.js';
import { Card } from './api/card/card.js';
import { Chat, type ChatOptions } from './api/chat/chat.js';
import { Media, type MediaOptions } from './api/media/media.js';
import { Notice, type NoticeOptions } from './api/notice/notice.js';
import { AppRobot, type AppRobotOptions } from './api/robot/app-robot.js';
import type { TemplateMessage } from './api/robot/app-templates.js';
import { CustomRobot, type CustomRobotOptions } from './api/robot/custom-robot.js';
import { Todo, type TodoOptions } from './api/todo/todo.js';
import { Users, type UsersOptions } from './api/users/users.js';
import { DingTalkCore, type DingTalkOptions } from './core/client-core.js';
import { ValidationError } from './core/errors.js';
import { sessionWebhookOrigins } from './core/session-webhook.js';
import type { ReplyFallback } from './stream/reply.js';

export interface DingTalkClientOptions extends DingTalkOptions {
  /** App-robot limits (1:1 batch size, msgParam cap). */
  robot?: AppRobotOptions;
  /** Work-notification limits (recipients per send, msg cap). */
  notice?: NoticeOptions;
  /** Upload rules per media type. */
  media?: MediaOptions;
  /** Lookup cache (TTL, size). */
  users?: UsersOptions;
  /** Which list endpoint Todo uses. */
  todo?: TodoOptions;
  chat?: ChatOptions;
}

export class DingTalk extends DingTalkCore {
  /** App robot: group and 1:1 sends, recall, read status (docs/dingtalk.md §3). */
  readonly robot: AppRobot;
  /** Work notifications: send, progress, result with silent-drop warnings, recall (docs/dingtalk.md §5). */
  readonly notice: Notice;
  /** Media upload → media_id (docs/dingtalk.md §6). */
  readonly media: Media;
  /** mobile / userId / unionId lookups, cached (docs/dingtalk.md §7). */
  readonly users: Users;
  /** Todo tasks, by unionId (docs/dingtalk.md §8). */
  readonly todo: Todo;
  /** Scene groups, chatid ↔ openConversationId, legacy chat/send (docs/dingtalk.md §4). */
  readonly chat: Chat;
  /** Interactive cards: create-and-deliver, update (docs/dingtalk.md §10). */
  readonly card: Card;
  /** Who is this person: 免登 code, browser sign-in URL, user token, users/me (docs/dingtalk.md §13.2, §13.3). */
  readonly auth: Auth;

  constructor(options: DingTalkClientOptions = {}) {
    super(options);
    const ctx = this.context;
    this.robot = new AppRobot(ctx, options.robot);
    this.notice = new Notice(ctx, options.notice);
    this.media = new Media(ctx, options.media);
    this.users = new Users(ctx, options.users);
    this.todo = new Todo(ctx, options.todo);
    this.chat = new Chat(ctx, options.chat);
    this.card = new Card(ctx);
    this.auth = new Auth(ctx, { loginBase: this.loginBase, appSecret: options.appSecret });
  }

  /**
   * A custom robot (webhook) sharing this client's transport, limiter, logger and redactor. It needs no app
   * credentials; `new CustomRobot(opts)` works without a client too.
   * @example
   * const ops = dt.webhook({ accessToken: ROBOT_TOKEN, secret: ROBOT_SECRET, name: 'ops' });
   * await ops.markdown('Deploy', '**v2** is live');
   */
  webhook(options: CustomRobotOptions): CustomRobot {
    return new CustomRobot(options, this.context);
  }

  /**
   * The origins a session-webhook reply may go to with this client's configuration: DingTalk's hosts, plus
   * `oapiBase`/`apiBase` when they point elsewhere (the emulator). Pass it to the standalone `replyText`.
   * The reply fallback below needs no such list: it sends through this client's own API base, never to a URL
   * taken from the message.
   * @example
   * await replyText(msg, 'done', { replyFallback: dt.replyFallback(), sessionWebhookOrigins: dt.sessionWebhookOrigins() });
   */
  sessionWebhookOrigins(): string[] {
    return sessionWebhookOrigins([this.oapiBase, this.apiBase]);
  }

  /**
   * The Stream receiver's reply fallback (src/stream/reply.ts): once a bot message's session webhook has expired,
   * the reply goes out as an app-robot message instead — to the group (`conversationType` "2") or to the sender's
   * 1:1 chat with the robot, using the robotCode the message arrived on.
   * @example
   * const stream = new StreamClient({ clientId, clientSecret, replyFallback: dt.replyFallback() });
   */
  replyFallback(): ReplyFallback {
    return async (msg, reply) => {
      const message = { msgKey: reply.msgKey, msgParam: reply.msgParam } as TemplateMessage;
      const robotCode = msg.robotCode || undefined;
      if (msg.conversationType === '2') {
        await this.robot.sendToGroup({ openConversationId: msg.conversationId, message, robotCode });
        return;
      }
      if (!msg.senderStaffId) {
        throw new ValidationError(
          'the sender has no staff id (external user): no 1:1 fallback',
          'senderStaffId',
          {
            operation: 'robot.usersSend',
          },
        );
      }
      await this.robot.sendToUsers({ userIds: [msg.senderStaffId], message, robotCode });
    };
  }
}
