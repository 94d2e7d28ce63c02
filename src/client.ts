/**
 * The `DingTalk` client: the core request path (`DingTalkCore`: transport, tokens, retry, limits, logging) plus
 * one typed module per DingTalk domain (house style: src/api/<domain>).
 *
 * @example
 * const dt = new DingTalk({ appKey, appSecret, agentId, robotCode });
 * await dt.robot.sendToGroup({ openConversationId, message: appMessage.text('hello') });
 * await dt.webhook({ webhook: ROBOT_URL, secret: ROBOT_SECRET }).text('deploy done');
 */

import { Notice, type NoticeOptions } from './api/notice/notice.js';
import { AppRobot, type AppRobotOptions } from './api/robot/app-robot.js';
import { CustomRobot, type CustomRobotOptions } from './api/robot/custom-robot.js';
import { DingTalkCore, type DingTalkOptions } from './core/client-core.js';

export interface DingTalkClientOptions extends DingTalkOptions {
  /** App-robot limits (1:1 batch size, msgParam cap). */
  robot?: AppRobotOptions;
  /** Work-notification limits (recipients per send, msg cap). */
  notice?: NoticeOptions;
}

export class DingTalk extends DingTalkCore {
  /** App robot: group and 1:1 sends, recall, read status (reference §3). */
  readonly robot: AppRobot;
  /** Work notifications (reference §5). */
  readonly notice: Notice;

  constructor(options: DingTalkClientOptions = {}) {
    super(options);
    const ctx = this.context;
    this.robot = new AppRobot(ctx, options.robot);
    this.notice = new Notice(ctx, options.notice);
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
}
