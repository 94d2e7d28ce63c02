/**
 * Acting as people: a user posts into a group (with @bot this becomes a bot CALLBACK frame on
 * the app's Stream connection, with a working sessionWebhook, docs/dingtalk.md §9a), clicks a card button (card CALLBACK, §10),
 * marks a Todo done (an event, type configurable: unverified), fires events, and pushes encrypted HTTP event
 * callbacks that must be answered with the encrypted `success` within 2.5 s (§9b).
 */

import { TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK } from '../stream/types.js';
import { ActingError } from './acting-error.js';
import type {
  CallbackPushResult,
  ClickCardInput,
  FireEventInput,
  PostDirectInput,
  PostMessageInput,
  PostMessageResult,
  PushCallbackInput,
} from './acting-types.js';
import { makeAttachment } from './attachments.js';
import {
  type CallbackFaults,
  deliver,
  pushBotMessage,
  pushCardCallback,
  pushEncryptedEvent,
} from './http-push.js';
import { parseRobotMessage } from './robot-message.js';
import { type EmulatorState, fingerprint } from './state.js';
import type { StreamGateway } from './stream/gateway.js';
import type { AppDef, CallbackPushRecord, MessageRecord, NoticeRecord, TodoRecord } from './types.js';

// The emulator's names for the callback topics the library defines (docs/dingtalk.md §S6).
export { TOPIC_BOT_MESSAGE as TOPIC_BOT, TOPIC_CARD_CALLBACK as TOPIC_CARD } from '../stream/types.js';

export { ActingError } from './acting-error.js';

export type {
  CallbackPushResult,
  ClickCardInput,
  FireEventInput,
  PostDirectInput,
  PostMessageInput,
  PostMessageResult,
  PushCallbackInput,
} from './acting-types.js';

export interface ActingDeps {
  state: EmulatorState;
  gateway: StreamGateway;
  origin: () => string;
  todoDoneEventType: string;
}

export class Acting {
  readonly #d: ActingDeps;
  readonly callbacks: CallbackPushRecord[] = [];
  /** Faults on the HTTP pushes (`EmulatorFaults.callbacks`), set by `setFaults`. */
  faults: CallbackFaults = {};
  readonly #log = (record: CallbackPushRecord): void => {
    this.callbacks.push(record);
  };

  constructor(deps: ActingDeps) {
    this.#d = deps;
  }

  async postMessage(openConversationId: string, input: PostMessageInput): Promise<PostMessageResult> {
    const { state } = this.#d;
    const group = state.groups.get(openConversationId);
    if (!group) throw new ActingError(404, `unknown group ${openConversationId}`);
    const hasText = typeof input?.text === 'string' && input.text !== '';
    if (!hasText && input?.picture === undefined) throw new ActingError(400, 'text (or picture) is required');
    if (typeof input.from !== 'string') throw new ActingError(400, 'from (userId) is required');
    const user = state.users.get(input.from);
    if (!user || !group.members.includes(user.userId)) {
      throw new ActingError(400, `${input.from} is not a member of ${openConversationId}`);
    }
    const body =
      input.picture !== undefined
        ? makeAttachment(state, input.robotCode ?? group.robotCodes[0] ?? '', 'picture', input.picture)
        : { msgtype: 'text', content: { text: { content: input.text } }, text: input.text as string };
    const atUserIds = Array.isArray(input.atUserIds)
      ? input.atUserIds.filter((u) => typeof u === 'string')
      : [];
    // An @bot to a robot that is not in the group is refused before anything is recorded.
    const robotCode = input.atBot ? (input.robotCode ?? group.robotCodes[0]) : undefined;
    if (input.atBot && (robotCode === undefined || !group.robotCodes.includes(robotCode))) {
      throw new ActingError(400, `no app robot ${robotCode ?? ''} installed in ${openConversationId}`.trim());
    }
    const app = robotCode === undefined ? undefined : state.appsByRobotCode.get(robotCode);
    if (input.atBot && !app) throw new ActingError(400, `robotCode ${robotCode} belongs to no app`);
    const message = state.addMessage({
      seq: state.nextMessageSeq(),
      at: state.now(),
      conversation: openConversationId,
      source: 'user',
      from: user.userId,
      ...(app ? { atBot: app.robotCode } : {}),
      type: body.msgtype,
      content: body.content,
      text: body.text,
      atUserIds,
      atMobiles: [],
      isAtAll: false,
      readBy: [user.userId],
      fingerprint: fingerprint('user', user.userId, openConversationId, body.content, state.messages.length),
    });
    if (!app || robotCode === undefined) return { message };
    const session = state.openSession(openConversationId, robotCode);
    const sessionWebhook = `${this.#d.origin()}/robot/sendBySession?session=${session.session}`;
    const createAt = state.now();
    const data = {
      conversationId: openConversationId,
      atUsers: [
        { dingtalkId: `$:LWCP_v1:$${robotCode}` },
        ...atUserIds.map((u) => ({
          dingtalkId: `$:LWCP_v1:$${u}`,
          staffId: u,
          unionId: state.users.get(u)?.unionId ?? '',
        })),
      ],
      chatbotCorpId: state.org.corpId,
      chatbotUserId: `$:LWCP_v1:$${robotCode}`,
      msgId: `msg${state.hex(24)}`,
      senderNick: user.name,
      isAdmin: group.ownerUserId === user.userId,
      senderStaffId: user.userId,
      senderUnionId: user.unionId,
      sessionWebhookExpiredTime: session.expiresAt,
      createAt,
      senderCorpId: state.org.corpId,
      conversationType: '2',
      senderId: `$:LWCP_v1:$${user.unionId}`,
      conversationTitle: group.name,
      isInAtList: true,
      sessionWebhook,
      robotCode,
      // §9a: the text often starts with a space left after the stripped @robot.
      ...(body.msgtype === 'text'
        ? { msgtype: 'text', text: { content: ` ${body.text}` } }
        : { msgtype: body.msgtype, content: body.content }),
    };
    const frameMessageId = this.#d.gateway.pushCallback(app.appKey, TOPIC_BOT_MESSAGE, data);
    if (app.botCallbackUrl === undefined) return { message, frameMessageId, sessionWebhook };
    // §9a HTTP mode: a JSON answer with a msgtype other than `empty` is an inline reply.
    // Each attempt goes to the URL configured at that moment, as a retry does after the console's URL is changed.
    const first = app.botCallbackUrl;
    const out = await deliver(
      state,
      () => pushBotMessage(state, app, app.botCallbackUrl ?? first, data),
      this.#log,
      this.faults,
    );
    if (out.answer !== undefined) this.#inlineReply(app, out.answer, openConversationId);
    return { message, frameMessageId, sessionWebhook, http: out.record };
  }

  #inlineReply(app: AppDef, text: string, conversation: string): void {
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = parseRobotMessage(reply);
    if (!parsed.ok) return;
    const { state } = this.#d;
    state.addMessage({
      seq: state.nextMessageSeq(),
      at: state.now(),
      conversation,
      source: 'inline_reply',
      robot: app.robotCode,
      type: parsed.msg.type,
      content: parsed.msg.content,
      text: parsed.msg.text,
      atUserIds: parsed.msg.atUserIds,
      atMobiles: parsed.msg.atMobiles,
      isAtAll: parsed.msg.isAtAll,
      readBy: [],
      fingerprint: fingerprint(
        'inline_reply',
        app.robotCode,
        conversation,
        parsed.msg.content,
        state.messages.length,
      ),
    });
  }

  /**
   * A person writes to the app robot in a 1:1 chat (§9a: conversationType "1"; every 1:1 message reaches the bot,
   * no @ needed). Recorded under `oto:<userId>`; the session webhook replies into that chat.
   */
  postDirect(userId: string, input: PostDirectInput): PostMessageResult {
    const { state } = this.#d;
    const user = state.users.get(userId);
    if (!user) throw new ActingError(404, `unknown user ${userId}`);
    const app =
      input?.robotCode === undefined ? state.org.apps[0] : state.appsByRobotCode.get(input.robotCode);
    if (!app) throw new ActingError(400, `unknown robotCode ${input?.robotCode ?? ''}`.trim());
    const body =
      input?.file !== undefined
        ? makeAttachment(state, app.robotCode, 'file', input.file)
        : input?.picture !== undefined
          ? makeAttachment(state, app.robotCode, 'picture', input.picture)
          : typeof input?.text === 'string' && input.text !== ''
            ? { msgtype: 'text', content: { text: { content: input.text } }, text: input.text }
            : undefined;
    if (!body) throw new ActingError(400, 'text, picture or file is required');
    const conversation = `oto:${user.userId}`;
    const message = state.addMessage({
      seq: state.nextMessageSeq(),
      at: state.now(),
      conversation,
      source: 'user',
      from: user.userId,
      type: body.msgtype,
      content: body.content,
      text: body.text,
      atUserIds: [],
      atMobiles: [],
      isAtAll: false,
      readBy: [user.userId],
      fingerprint: fingerprint('user', user.userId, conversation, body.content, state.messages.length),
    });
    const session = state.openSession(conversation, app.robotCode);
    const sessionWebhook = `${this.#d.origin()}/robot/sendBySession?session=${session.session}`;
    const frameMessageId = this.#d.gateway.pushCallback(app.appKey, TOPIC_BOT_MESSAGE, {
      conversationId: `cidoto${state.hex(16)}`,
      chatbotCorpId: state.org.corpId,
      chatbotUserId: `$:LWCP_v1:$${app.robotCode}`,
      msgId: `msg${state.hex(24)}`,
      senderNick: user.name,
      isAdmin: false,
      senderStaffId: user.userId,
      senderUnionId: user.unionId,
      sessionWebhookExpiredTime: session.expiresAt,
      createAt: state.now(),
      senderCorpId: state.org.corpId,
      conversationType: '1',
      senderId: `$:LWCP_v1:$${user.unionId}`,
      sessionWebhook,
      robotCode: app.robotCode,
      ...(body.msgtype === 'text'
        ? { msgtype: 'text', text: { content: body.text } }
        : { msgtype: body.msgtype, content: body.content }),
    });
    return { message, frameMessageId, sessionWebhook };
  }

  /** A person reads a message (drives read status, §3.1). */
  markRead(seq: number, by: string): MessageRecord {
    const { state } = this.#d;
    const m = state.messages.find((x) => x.seq === seq);
    if (!m) throw new ActingError(404, `unknown message ${seq}`);
    if (!state.users.has(by)) throw new ActingError(400, 'by must be a known userId');
    const group = state.groups.get(m.conversation);
    const allowed = group ? group.members.includes(by) : m.conversation === `oto:${by}`;
    if (!allowed) throw new ActingError(403, `${by} cannot see message ${seq}`);
    if (!m.readBy.includes(by)) m.readBy.push(by);
    return m;
  }

  /**
   * A person opens a work notice (docs/dingtalk.md §5.1): its send result lists them as read from then on. Only a
   * notice that reached them counts; one DingTalk dropped (§5.2) was never in their client.
   */
  readNotice(taskId: number, by: string): NoticeRecord {
    const { state } = this.#d;
    if (!state.users.has(by)) throw new ActingError(400, 'by must be a known userId');
    const n = state.notices.find((x) => x.taskId === taskId && x.userId === by);
    if (!n || n.forbiddenCode !== undefined) throw new ActingError(404, `${by} has no notice ${taskId}`);
    n.readAt ??= state.now();
    return n;
  }

  async clickCard(
    outTrackId: string,
    input: ClickCardInput,
  ): Promise<{ messageId?: string; http?: CallbackPushResult }> {
    const { state } = this.#d;
    const card = state.cards.get(outTrackId);
    if (!card) throw new ActingError(404, `unknown card ${outTrackId}`);
    const user = typeof input?.by === 'string' ? state.users.get(input.by) : undefined;
    if (!user) throw new ActingError(400, 'by must be a known userId');
    const app = state.apps.get(card.appKey);
    if (!app) throw new ActingError(400, 'the card belongs to no app');
    card.clicks++;
    const data = {
      outTrackId,
      corpId: state.org.corpId,
      userId: user.userId,
      userIdType: 1,
      spaceType: card.spaceType,
      spaceId: card.spaceId,
      type: 'actionCallback',
      extension: '{}',
      content: JSON.stringify({
        cardPrivateData: { actionIds: input.actionIds ?? [], params: input.params ?? {} },
      }),
    };
    if (card.callbackType === 'HTTP') {
      const cb = app.cardCallback;
      if (!cb) throw new ActingError(409, `card ${outTrackId} wants an HTTP callback but none is registered`);
      const out = await pushCardCallback(state, { ...app, cardCallback: cb }, data);
      this.callbacks.push(out.record);
      if (out.answer !== undefined) this.#applyCardAnswer(outTrackId, out.answer);
      return { http: out.record };
    }
    return { messageId: this.#d.gateway.pushCallback(app.appKey, TOPIC_CARD_CALLBACK, data) };
  }

  async markTodoDone(
    taskId: string,
    by: string,
  ): Promise<{ task: TodoRecord; messageId?: string; http?: CallbackPushResult }> {
    const { state } = this.#d;
    const task = state.todos.get(taskId);
    if (!task || task.deleted) throw new ActingError(404, `unknown todo ${taskId}`);
    if (typeof by !== 'string' || !state.usersByUnionId.has(by))
      throw new ActingError(400, 'by must be a known unionId');
    if (!task.executorIds.includes(by) && task.creatorId !== by && task.owner !== by) {
      throw new ActingError(403, `${by} is neither an executor nor the creator of ${taskId}`);
    }
    const now = state.now();
    task.done = true;
    task.finishTime = now;
    task.modifiedTime = now;
    task.modifierId = by;
    // The platform's todo-change event name and payload are not documented (unverified): a setting.
    const out = await this.fireEvent({
      ...(task.appKey !== undefined ? { appKey: task.appKey } : {}),
      eventType: this.#d.todoDoneEventType,
      data: { taskId, done: true, operatorUnionId: by, creatorId: task.creatorId, modifiedTime: now },
      via: this.#app(task.appKey).callback?.url !== undefined ? 'both' : 'stream',
    });
    return { task, ...out };
  }

  async fireEvent(input: FireEventInput): Promise<{ messageId?: string; http?: CallbackPushResult }> {
    if (typeof input?.eventType !== 'string' || input.eventType === '')
      throw new ActingError(400, 'eventType is required');
    const app = this.#app(input.appKey);
    const via = input.via ?? 'stream';
    const out: { messageId?: string; http?: CallbackPushResult } = {};
    if (via === 'stream' || via === 'both') {
      out.messageId = this.#d.gateway.pushEvent(app.appKey, {
        eventType: input.eventType,
        corpId: this.#d.state.org.corpId,
        ...(input.eventId !== undefined ? { eventId: input.eventId } : {}),
        data: input.data ?? {},
      });
    }
    if (via === 'http' || via === 'both') {
      out.http = await this.pushHttpEvent({
        appKey: app.appKey,
        eventType: input.eventType,
        data: input.data ?? {},
      });
    }
    return out;
  }

  /** One encrypted push (§9b) to the app's callback URL (or `url`); judged by the 2.5 s `success` rule. */
  async pushHttpEvent(input: PushCallbackInput): Promise<CallbackPushResult> {
    const app = this.#app(input.appKey);
    const url = input.url ?? app.callback?.url;
    const cb = app.callback;
    if (!cb) throw new ActingError(400, `app ${app.appKey} has no callback token/aesKey configured`);
    if (url === undefined || !/^https?:\/\//.test(url)) {
      throw new ActingError(400, 'no http(s) callback url configured or given');
    }
    // Undelivered events are pushed again (§9b); the schedule is unverified, so retries and delay are settings.
    const { state } = this.#d;
    const out = await deliver(
      state,
      () =>
        pushEncryptedEvent(
          state,
          { ...app, callback: cb },
          input.url ?? app.callback?.url ?? url,
          input.eventType,
          input.data ?? {},
        ),
      this.#log,
      this.faults,
    );
    return out.record;
  }

  #applyCardAnswer(outTrackId: string, text: string): void {
    const card = this.#d.state.cards.get(outTrackId);
    if (!card) return;
    try {
      const j = JSON.parse(text) as { cardData?: { cardParamMap?: Record<string, unknown> } };
      const map = j.cardData?.cardParamMap;
      if (map && typeof map === 'object') {
        for (const [k, v] of Object.entries(map)) if (typeof v === 'string') card.cardParamMap[k] = v;
        card.updates++;
      }
    } catch {
      // An empty or non-JSON answer leaves the card as it is.
    }
  }

  #app(appKey: string | undefined): AppDef {
    const app = appKey === undefined ? this.#d.state.org.apps[0] : this.#d.state.apps.get(appKey);
    if (!app) throw new ActingError(400, `unknown app ${appKey ?? ''}`.trim());
    return app;
  }
}
