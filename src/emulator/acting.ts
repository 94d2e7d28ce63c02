/**
 * Acting as people (issue #3 point 5): a user posts into a group (with @bot this becomes a bot CALLBACK frame on
 * the app's Stream connection, with a working sessionWebhook, §9a), clicks a card button (card CALLBACK, §10),
 * marks a Todo done (an event, type configurable: unverified), fires events, and pushes encrypted HTTP event
 * callbacks that must be answered with the encrypted `success` within 2.5 s (§9b).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { signBotCallback } from '../callback/bot-signature.js';
import { EventCrypto } from '../callback/event-crypto.js';
import { parseRobotMessage } from './robot-message.js';
import { type EmulatorState, fingerprint } from './state.js';
import type { StreamGateway } from './stream/gateway.js';
import type { AppDef, CallbackPushRecord, MessageRecord, TodoRecord } from './types.js';

export const TOPIC_BOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

/** A control-API input error: answered 4xx with the reason. */
export class ActingError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ActingError';
    this.status = status;
  }
}

export interface PostMessageInput {
  /** userId of the sender (must be a member of the group). */
  from: string;
  text: string;
  /** @-mention the group's app robot: the message is pushed to the app as a bot CALLBACK (§7: only @ reaches bots). */
  atBot?: boolean;
  /** Which installed app robot to @; defaults to the group's first. */
  robotCode?: string;
  /** Other members @-mentioned (userIds). */
  atUserIds?: string[];
}

export interface PostMessageResult {
  message: MessageRecord;
  /** Stream messageId of the pushed bot CALLBACK, when @bot. */
  frameMessageId?: string;
  sessionWebhook?: string;
  /** The HTTP-mode push (§9a), when the app has a `botCallbackUrl`. */
  http?: CallbackPushResult;
}

export interface ClickCardInput {
  /** userId of who clicks. */
  by: string;
  actionIds?: string[];
  params?: Record<string, unknown>;
}

export interface FireEventInput {
  /** @default the first app */
  appKey?: string;
  eventType: string;
  data?: Record<string, unknown>;
  /** `stream` pushes an EVENT frame; `http` an encrypted callback to the app's URL; `both`. @default 'stream' */
  via?: 'stream' | 'http' | 'both';
  eventId?: string;
}

export interface PushCallbackInput {
  appKey?: string;
  /** Overrides the app's configured callback URL. */
  url?: string;
  eventType: string;
  data?: Record<string, unknown>;
}

export type CallbackPushResult = CallbackPushRecord;

export interface ActingDeps {
  state: EmulatorState;
  gateway: StreamGateway;
  origin: () => string;
  todoDoneEventType: string;
}

export class Acting {
  readonly #d: ActingDeps;
  readonly callbacks: CallbackPushRecord[] = [];

  constructor(deps: ActingDeps) {
    this.#d = deps;
  }

  async postMessage(openConversationId: string, input: PostMessageInput): Promise<PostMessageResult> {
    const { state } = this.#d;
    const group = state.groups.get(openConversationId);
    if (!group) throw new ActingError(404, `unknown group ${openConversationId}`);
    if (typeof input?.text !== 'string' || input.text === '') throw new ActingError(400, 'text is required');
    if (typeof input.from !== 'string') throw new ActingError(400, 'from (userId) is required');
    const user = state.users.get(input.from);
    if (!user || !group.members.includes(user.userId)) {
      throw new ActingError(400, `${input.from} is not a member of ${openConversationId}`);
    }
    const atUserIds = Array.isArray(input.atUserIds)
      ? input.atUserIds.filter((u) => typeof u === 'string')
      : [];
    const message = state.addMessage({
      seq: state.nextMessageSeq(),
      at: state.now(),
      conversation: openConversationId,
      source: 'user',
      from: user.userId,
      type: 'text',
      content: { text: { content: input.text } },
      text: input.text,
      atUserIds,
      atMobiles: [],
      isAtAll: false,
      readBy: [user.userId],
      fingerprint: fingerprint('user', user.userId, openConversationId, input.text, state.messages.length),
    });
    if (!input.atBot) return { message };
    const robotCode = input.robotCode ?? group.robotCodes[0];
    if (robotCode === undefined || !group.robotCodes.includes(robotCode)) {
      throw new ActingError(400, `no app robot ${robotCode ?? ''} installed in ${openConversationId}`.trim());
    }
    const app = state.appsByRobotCode.get(robotCode);
    if (!app) throw new ActingError(400, `robotCode ${robotCode} belongs to no app`);
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
      // §9a: the text often starts with a space left after the stripped @robot.
      text: { content: ` ${input.text}` },
      robotCode,
      msgtype: 'text',
    };
    const frameMessageId = this.#d.gateway.pushCallback(app.appKey, TOPIC_BOT, data);
    if (app.botCallbackUrl === undefined) return { message, frameMessageId, sessionWebhook };
    const http = await this.#botHttp(app, app.botCallbackUrl, data, openConversationId);
    return { message, frameMessageId, sessionWebhook, http };
  }

  /** §9a HTTP mode: headers `timestamp` + `sign`; a JSON answer with a msgtype other than `empty` is an inline reply. */
  async #botHttp(
    app: AppDef,
    url: string,
    data: Record<string, unknown>,
    conversation: string,
  ): Promise<CallbackPushResult> {
    const { state } = this.#d;
    const ts = String(state.now());
    const started = Date.now();
    let result: string;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          timestamp: ts,
          sign: signBotCallback(app.appSecret, ts),
        },
        body: JSON.stringify(data),
        signal: AbortSignal.timeout(state.limits.callbackTimeoutMs),
      });
      const text = await res.body.text();
      result = res.statusCode === 200 ? 'ok' : `http_${res.statusCode}`;
      if (res.statusCode === 200) this.#inlineReply(app, text, conversation);
    } catch {
      result = Date.now() - started >= state.limits.callbackTimeoutMs ? 'timeout' : 'network';
    }
    const rec: CallbackPushRecord = {
      at: state.now(),
      appKey: app.appKey,
      url: url.replace(/\?.*$/, ''),
      eventType: 'bot_message',
      ok: result === 'ok',
      result,
      ms: Date.now() - started,
    };
    this.callbacks.push(rec);
    return rec;
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
    if (card.callbackType === 'HTTP') return { http: await this.#cardHttp(app, data, card.outTrackId) };
    return { messageId: this.#d.gateway.pushCallback(app.appKey, TOPIC_CARD, data) };
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

  /**
   * One encrypted push (§9b): `POST url?msg_signature&timestamp&nonce` with `{"encrypt"}`; the answer must be
   * `{msg_signature, timeStamp, nonce, encrypt}` that verifies and decrypts to `success`, within the deadline.
   */
  async pushHttpEvent(input: PushCallbackInput): Promise<CallbackPushResult> {
    const { state } = this.#d;
    const app = this.#app(input.appKey);
    const url = input.url ?? app.callback?.url;
    if (!app.callback)
      throw new ActingError(400, `app ${app.appKey} has no callback token/aesKey configured`);
    if (url === undefined || !/^https?:\/\//.test(url))
      throw new ActingError(400, 'no http(s) callback url configured or given');
    const crypto = new EventCrypto({
      token: app.callback.token,
      aesKey: app.callback.aesKey,
      ownerKey: app.appKey,
      timestampWindowMs: false,
    });
    const timestamp = String(state.now());
    const nonce = randomBytes(8).toString('hex');
    const encrypt = crypto.encrypt(JSON.stringify({ EventType: input.eventType, ...(input.data ?? {}) }));
    const sig = crypto.sign(timestamp, nonce, encrypt);
    const target = `${url}${url.includes('?') ? '&' : '?'}msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}`;
    const started = Date.now();
    const deadline = state.limits.callbackTimeoutMs;
    let result: string;
    try {
      const res = await request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt }),
        signal: AbortSignal.timeout(deadline),
        headersTimeout: deadline,
        bodyTimeout: deadline,
      });
      const text = await res.body.text();
      result = res.statusCode === 200 ? checkReply(crypto, text) : `http_${res.statusCode}`;
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      result = /Timeout|Abort/.test(name) || Date.now() - started >= deadline ? 'timeout' : 'network';
    }
    const ms = Date.now() - started;
    if (result === 'ok' && ms > deadline) result = 'timeout';
    const rec: CallbackPushRecord = {
      at: state.now(),
      appKey: app.appKey,
      url: url.replace(/\?.*$/, ''),
      eventType: input.eventType,
      ok: result === 'ok',
      result,
      ms,
    };
    this.callbacks.push(rec);
    return rec;
  }

  async #cardHttp(
    app: AppDef,
    data: Record<string, unknown>,
    outTrackId: string,
  ): Promise<CallbackPushResult> {
    const started = Date.now();
    const cb = app.cardCallback;
    let result = 'no_url';
    if (cb) {
      const ts = String(this.#d.state.now());
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cb.apiSecret !== undefined) {
        headers['x-ddpaas-signature-timestamp'] = ts;
        headers['x-ddpaas-signature'] = createHmac('sha256', cb.apiSecret).update(ts).digest('base64');
      }
      try {
        const res = await request(cb.url, {
          method: 'POST',
          headers,
          body: JSON.stringify(data),
          signal: AbortSignal.timeout(2000),
        });
        const text = await res.body.text();
        result = res.statusCode === 200 ? 'ok' : `http_${res.statusCode}`;
        if (res.statusCode === 200) this.#applyCardAnswer(outTrackId, text);
      } catch {
        result = Date.now() - started >= 2000 ? 'timeout' : 'network';
      }
    }
    const rec = {
      at: this.#d.state.now(),
      appKey: app.appKey,
      url: cb?.url ?? '',
      eventType: 'card_callback',
      ok: result === 'ok',
      result,
      ms: Date.now() - started,
    };
    this.callbacks.push(rec);
    return rec;
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

function checkReply(crypto: EventCrypto, text: string): string {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'bad_reply';
  }
  const { msg_signature: sig, timeStamp, nonce, encrypt } = j;
  if (
    typeof sig !== 'string' ||
    typeof timeStamp !== 'string' ||
    typeof nonce !== 'string' ||
    typeof encrypt !== 'string'
  ) {
    return 'bad_reply';
  }
  if (!crypto.verify(sig, timeStamp, nonce, encrypt)) return 'bad_signature';
  try {
    return crypto.decrypt(encrypt) === 'success' ? 'ok' : 'not_success';
  } catch {
    return 'bad_reply';
  }
}
