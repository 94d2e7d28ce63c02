/**
 * Inputs and results of acting as people through the control API (acting.ts, docs/emulator.md).
 */
import type { AttachmentInput } from './attachments.js';
import type { CallbackPushRecord, MessageRecord } from './types.js';

export interface PostMessageInput {
  /** userId of the sender (must be a member of the group). */
  from: string;
  /** Required unless `picture` is given. */
  text?: string;
  /** @-mention the group's app robot: the message is pushed to the app as a bot CALLBACK (docs/dingtalk.md §7: only @ reaches bots). */
  atBot?: boolean;
  /** Which installed app robot to @; defaults to the group's first. */
  robotCode?: string;
  /** Other members @-mentioned (userIds). */
  atUserIds?: string[];
  /** Send a picture instead of text (§9a: groups deliver text, richText and picture to bots). */
  picture?: AttachmentInput;
}

export interface PostDirectInput {
  text?: string;
  robotCode?: string;
  /** 1:1 chats deliver every type (§9a); picture and file are modelled. */
  picture?: AttachmentInput;
  file?: AttachmentInput;
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
