/**
 * Wire and payload types of DingTalk Stream mode. Field names and meanings follow
 * docs/dingtalk.md (§S2 open call, §S4 frames, §S5 acks, §S6 topics, §S7 bot messages, §S8 cards)
 * and docs/dingtalk.md §9a (bot message fields).
 */

export type FrameType = 'SYSTEM' | 'EVENT' | 'CALLBACK';

/** One entry of the open call's `subscriptions` (docs/dingtalk.md §S2, §S6). */
export interface Subscription {
  type: 'EVENT' | 'CALLBACK' | 'SYSTEM';
  /** `*` for events (the only topic the gateway supports for EVENT); a callback path for CALLBACK. */
  topic: string;
}

/** Topics of the callbacks DingTalk pushes (docs/dingtalk.md §S6). */
export const TOPIC_BOT_MESSAGE = '/v1.0/im/bot/messages/get';
export const TOPIC_BOT_DELEGATE = '/v1.0/im/bot/messages/delegate';
export const TOPIC_CARD_CALLBACK = '/v1.0/card/instances/callback';
export const TOPIC_CARD_DYNAMIC_DATA = '/v1.0/card/dynamicData/get';
export const TOPIC_GRAPH_API = '/v1.0/graph/api/invoke';

/** A validated frame from the gateway. Header values are strings (§S4). */
export interface StreamFrame {
  specVersion: string;
  type: FrameType;
  headers: Record<string, string>;
  topic: string;
  /** Absent only on SYSTEM frames that need no ack (`disconnect` in the notes' example, §S6). */
  messageId: string | undefined;
  /** The JSON-encoded payload as sent (data is JSON encoded a second time, §S4). */
  data: string;
}

/** What the client writes back for one frame (§S5). An ack has no `type`, only `code`. */
export interface AckFrame {
  code: number;
  headers: { contentType: 'application/json'; messageId: string };
  message: string;
  data: string;
}

/** A person mentioned in a bot message (§S7; docs/dingtalk.md §9a). */
export interface AtUser {
  dingtalkId: string;
  staffId?: string;
  unionId?: string;
}

/** One item of a rich-text message: text, or a picture with its download codes (§S7). */
export interface RichTextItem {
  text?: string;
  type?: string;
  downloadCode?: string;
  pictureDownloadCode?: string;
}

/** Content of non-text bot messages (§S7, Java `MessageContent`; docs/dingtalk.md §9a). */
export interface BotMessageContent {
  downloadCode?: string;
  pictureDownloadCode?: string;
  richText?: RichTextItem[];
  /** Audio/video duration (ms for audio per docs/dingtalk.md §9a). */
  duration?: number | string;
  /** Speech-to-text of an audio message. */
  recognition?: string;
  videoType?: string;
  fileName?: string;
  fileId?: string;
  spaceId?: string;
}

/**
 * A robot message callback (`/v1.0/im/bot/messages/get`). All fields of docs/dingtalk.md §S7 and
 * docs/dingtalk.md §9a; everything is optional on the wire, the commonly present ones are typed as present.
 */
export interface BotMessage {
  /** `text`, `picture`, `richText`, `audio`, `video`, `file`, ... */
  msgtype: string;
  /** For `text`: the content, often with a leading space left after the stripped @robot. */
  text?: { content: string };
  content?: BotMessageContent;
  msgId: string;
  conversationId: string;
  /** `"1"` one-to-one, `"2"` group. */
  conversationType: '1' | '2' | (string & {});
  conversationTitle?: string;
  senderId: string;
  /** The sender's userid in the org; empty for external users. Used for @ in replies. */
  senderStaffId?: string;
  senderUnionId?: string;
  senderNick?: string;
  senderCorpId?: string;
  senderPlatform?: string;
  isAdmin?: boolean;
  chatbotUserId?: string;
  chatbotCorpId?: string;
  robotCode?: string;
  atUsers?: AtUser[];
  isInAtList?: boolean;
  /** Unix ms. */
  createAt?: number;
  /** Reply URL (`.../robot/sendBySession?session=...`). The session part is a secret: never log it. */
  sessionWebhook?: string;
  /** Unix ms after which the session webhook no longer accepts replies. */
  sessionWebhookExpiredTime?: number;
  /** Delegate (hosting) mode only. */
  hostingContext?: Record<string, unknown>;
  conversationMsgContext?: Record<string, unknown>;
  /** Present when the org is over its robot quota (docs/dingtalk.md §9a), with no content. */
  errorCode?: string | number;
  errorMessage?: string;
}

/** An interactive-card action (`/v1.0/card/instances/callback`, §S8). */
export interface CardCallback {
  /** The card instance id. */
  outTrackId: string;
  corpId?: string;
  userId: string;
  userIdType?: number;
  spaceId?: string;
  spaceType?: string;
  /** e.g. `actionCallback`. */
  type?: string;
  /** JSON string. */
  extension?: string;
  /** JSON string holding `{ cardPrivateData: { actionIds, params } }`; see `parseCardAction`. */
  content?: string;
}

/** The decoded `content` of a card callback (§S8). */
export interface CardPrivateData {
  actionIds: string[];
  params: Record<string, unknown>;
}

/** The answer a card callback may return to update the card (§S8; unverified against production). */
export interface CardCallbackResponse {
  cardUpdateOptions?: { updateCardDataByKey?: boolean; updatePrivateDataByKey?: boolean };
  cardData?: { cardParamMap: Record<string, string> };
  userPrivateData?: { cardParamMap: Record<string, string> };
}

/** An EVENT push: the event headers (§S4) and the decoded payload. */
export interface StreamEvent<T = Record<string, unknown>> {
  /** e.g. `user_add_org`, `chat_update_title`. */
  eventType: string;
  /** Unique event id: the dedupe key (§S9 says duplicates happen even after an ack). */
  eventId: string;
  eventCorpId: string;
  /** When the event happened, Unix ms (parsed from the string header; NaN if absent). */
  eventBornTime: number;
  eventUnifiedAppId: string | undefined;
  data: T;
}
