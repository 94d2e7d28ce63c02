/**
 * Work-notification message bodies (docs/dingtalk.md §5.3). Casing is snake_case (`media_id`, `action_card`,
 * `single_url`), except inside `link`, which is camelCase (`messageUrl`, `picUrl`) — DingTalk's own mix. The same
 * formats serve the legacy group `chat/send` (§4).
 */

import { ValidationError } from '../../core/errors.js';
import { byteLength, requireInt, requireMsgtype, requireText, requireUrl } from '../shared/validate.js';

export interface NoticeText {
  msgtype: 'text';
  text: { content: string };
}
export interface NoticeImage {
  msgtype: 'image';
  image: { media_id: string };
}
export interface NoticeVoice {
  msgtype: 'voice';
  /** `duration`: whole seconds (< 60), as a string. */
  voice: { media_id: string; duration: string };
}
export interface NoticeFile {
  msgtype: 'file';
  file: { media_id: string };
}
export interface NoticeLink {
  msgtype: 'link';
  link: { messageUrl: string; picUrl: string; title: string; text: string };
}
export interface NoticeOa {
  msgtype: 'oa';
  oa: {
    message_url: string;
    pc_message_url?: string;
    /** `bgcolor`: 8 hex digits ARGB, no `0x`. */
    head: { bgcolor: string; text?: string };
    status_bar?: { status_value?: string; status_bg?: string };
    body: {
      title?: string;
      form?: Array<{ key: string; value: string }>;
      rich?: { num?: string; unit?: string };
      content?: string;
      image?: string;
      file_count?: string;
      author?: string;
    };
  };
}
export interface NoticeMarkdown {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}
export type NoticeActionCard = {
  msgtype: 'action_card';
  action_card:
    | { title?: string; markdown: string; single_title: string; single_url: string }
    | {
        title?: string;
        markdown: string;
        btn_orientation?: '0' | '1';
        btn_json_list: Array<{ title: string; action_url: string }>;
      };
};

export type NoticeMessage =
  | NoticeText
  | NoticeImage
  | NoticeVoice
  | NoticeFile
  | NoticeLink
  | NoticeOa
  | NoticeMarkdown
  | NoticeActionCard;

/** Work-notification `msg` cap: bytes of its JSON (docs/dingtalk.md §5.1, and §4 `chat/send`). */
export const NOTICE_MAX_BYTES = 2048;

/**
 * Builders for work-notification messages.
 * @example
 * await dt.notice.send({ userIds: ['manager4220'], message: noticeMessage.markdown('Leave', '**approved**') });
 */
export const noticeMessage = {
  text: (content: string): NoticeText => ({ msgtype: 'text', text: { content } }),
  image: (mediaId: string): NoticeImage => ({ msgtype: 'image', image: { media_id: mediaId } }),
  voice: (mediaId: string, durationSeconds: number): NoticeVoice => ({
    msgtype: 'voice',
    voice: { media_id: mediaId, duration: String(durationSeconds) },
  }),
  file: (mediaId: string): NoticeFile => ({ msgtype: 'file', file: { media_id: mediaId } }),
  link: (l: { messageUrl: string; picUrl: string; title: string; text: string }): NoticeLink => ({
    msgtype: 'link',
    link: { ...l },
  }),
  markdown: (title: string, text: string): NoticeMarkdown => ({
    msgtype: 'markdown',
    markdown: { title, text },
  }),
  actionCard: (
    title: string,
    markdown: string,
    button: { title: string; url: string },
  ): NoticeActionCard => ({
    msgtype: 'action_card',
    action_card: { title, markdown, single_title: button.title, single_url: button.url },
  }),
} as const;

const TYPES = new Set(['text', 'image', 'voice', 'file', 'link', 'oa', 'markdown', 'action_card']);

/** Checks a message's type and required fields and the byte cap; returns the serialized size. */
export function validateNoticeMessage(
  message: unknown,
  op: string,
  maxBytes = NOTICE_MAX_BYTES,
): NoticeMessage {
  const { m, type } = requireMsgtype(
    message,
    TYPES,
    'text, image, voice, file, link, oa, markdown, action_card (snake_case)',
    op,
  );
  const p = m[type] as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new ValidationError(`a ${type} message needs a "${type}" object`, type, { operation: op });
  }
  switch (type) {
    case 'text':
      requireText(p['content'], 'text.content', op);
      break;
    case 'image':
    case 'file':
      requireText(p['media_id'], `${type}.media_id`, op);
      break;
    case 'voice': {
      requireText(p['media_id'], 'voice.media_id', op);
      const d = requireText(p['duration'], 'voice.duration', op);
      requireInt(Number(d), 'voice.duration', op, 1, 59);
      break;
    }
    case 'link':
      requireUrl(p['messageUrl'], 'link.messageUrl', op);
      requireText(p['picUrl'], 'link.picUrl', op);
      requireText(p['title'], 'link.title', op);
      requireText(p['text'], 'link.text', op);
      break;
    case 'markdown':
      requireText(p['title'], 'markdown.title', op);
      requireText(p['text'], 'markdown.text', op, 5000);
      break;
    case 'oa': {
      requireUrl(p['message_url'], 'oa.message_url', op);
      const head = p['head'] as Record<string, unknown> | undefined;
      if (!head || typeof head['bgcolor'] !== 'string' || !/^[0-9A-Fa-f]{8}$/.test(head['bgcolor'])) {
        throw new ValidationError('needs 8 hex digits (ARGB, no 0x)', 'oa.head.bgcolor', { operation: op });
      }
      if (typeof p['body'] !== 'object' || p['body'] === null) {
        throw new ValidationError('is required', 'oa.body', { operation: op });
      }
      break;
    }
    default: {
      requireText(p['markdown'], 'action_card.markdown', op);
      if (p['single_title'] !== undefined || p['single_url'] !== undefined) {
        requireText(p['single_title'], 'action_card.single_title', op);
        requireUrl(p['single_url'], 'action_card.single_url', op);
      } else {
        const list = p['btn_json_list'];
        if (!Array.isArray(list) || list.length === 0) {
          throw new ValidationError('needs single_title + single_url or btn_json_list', 'action_card', {
            operation: op,
          });
        }
        list.forEach((b: Record<string, unknown>, i) => {
          requireText(b?.['title'], `action_card.btn_json_list[${i}].title`, op);
          requireUrl(b?.['action_url'], `action_card.btn_json_list[${i}].action_url`, op);
        });
      }
    }
  }
  const n = byteLength(JSON.stringify(message));
  if (n > maxBytes) {
    throw new ValidationError(`is ${n} bytes; DingTalk accepts at most ${maxBytes}`, 'message', {
      operation: op,
    });
  }
  return message as NoticeMessage;
}
