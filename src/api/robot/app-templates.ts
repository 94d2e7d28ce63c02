/**
 * App-robot message templates (docs/dingtalk.md §3.2): 13 `msgKey`s, each with its own `msgParam` fields, all string
 * values. `msgParam` travels as a JSON-encoded *string* (§3, "msgParam is a JSON-encoded string, not an
 * object"); `encodeTemplate` checks the required fields and the 15,000-byte cap (§3.1) and does the encoding.
 */

import { ValidationError } from '../../core/errors.js';
import { byteLength } from '../shared/validate.js';

type ActionButtons2 = { actionTitle1: string; actionURL1: string; actionTitle2: string; actionURL2: string };
type ActionButtons3 = ActionButtons2 & { actionTitle3: string; actionURL3: string };
type ActionButtons4 = ActionButtons3 & { actionTitle4: string; actionURL4: string };
type ActionButtons5 = ActionButtons4 & { actionTitle5: string; actionURL5: string };
type TitleText = { title: string; text: string };

/** `msgParam` by `msgKey`. */
export interface TemplateParams {
  sampleText: { content: string };
  sampleMarkdown: TitleText;
  /** `photoURL`: an image URL or a media_id from /media/upload. */
  sampleImageMsg: { photoURL: string };
  sampleLink: { text: string; title: string; picUrl: string; messageUrl: string };
  sampleActionCard: TitleText & { singleTitle: string; singleURL: string };
  sampleActionCard2: TitleText & ActionButtons2;
  sampleActionCard3: TitleText & ActionButtons3;
  sampleActionCard4: TitleText & ActionButtons4;
  sampleActionCard5: TitleText & ActionButtons5;
  /** Two horizontal buttons; note `buttonUrl` casing. */
  sampleActionCard6: TitleText & {
    buttonTitle1: string;
    buttonUrl1: string;
    buttonTitle2: string;
    buttonUrl2: string;
  };
  /** `duration` in milliseconds, as a string. */
  sampleAudio: { mediaId: string; duration: string };
  sampleFile: { mediaId: string; fileName: string; fileType: string };
  /** `duration` unit is unverified (seconds per doc, §12). */
  sampleVideo: {
    duration: string;
    videoMediaId: string;
    videoType: string;
    picMediaId: string;
    height?: string;
    width?: string;
  };
}

export type MsgKey = keyof TemplateParams;

/** A template message: a discriminated union keyed by `msgKey`. */
export type TemplateMessage = { [K in MsgKey]: { msgKey: K; msgParam: TemplateParams[K] } }[MsgKey];

const buttons = (n: number) =>
  Array.from({ length: n }, (_, i) => [`actionTitle${i + 1}`, `actionURL${i + 1}`]).flat();

/** Required fields per msgKey (optional ones: sampleVideo height/width). */
export const TEMPLATE_FIELDS: Readonly<Record<MsgKey, readonly string[]>> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleImageMsg: ['photoURL'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: ['title', 'text', ...buttons(2)],
  sampleActionCard3: ['title', 'text', ...buttons(3)],
  sampleActionCard4: ['title', 'text', ...buttons(4)],
  sampleActionCard5: ['title', 'text', ...buttons(5)],
  sampleActionCard6: ['title', 'text', 'buttonTitle1', 'buttonUrl1', 'buttonTitle2', 'buttonUrl2'],
  sampleAudio: ['mediaId', 'duration'],
  sampleFile: ['mediaId', 'fileName', 'fileType'],
  sampleVideo: ['duration', 'videoMediaId', 'videoType', 'picMediaId'],
};

const OPTIONAL_FIELDS: Partial<Record<MsgKey, readonly string[]>> = { sampleVideo: ['height', 'width'] };

/** App-robot `msgParam` cap: bytes of its JSON string (docs/dingtalk.md §3.1). */
export const MSG_PARAM_MAX_BYTES = 15_000;

/**
 * Validates a template message and returns `{ msgKey, msgParam }` with `msgParam` as the JSON string DingTalk
 * expects. Unknown fields are refused (a typo would otherwise be silently dropped by DingTalk).
 */
export function encodeTemplate(
  message: TemplateMessage,
  op: string,
  maxBytes = MSG_PARAM_MAX_BYTES,
): { msgKey: MsgKey; msgParam: string } {
  if (typeof message !== 'object' || message === null) {
    throw new ValidationError('must be { msgKey, msgParam }', 'message', { operation: op });
  }
  const key: unknown = message.msgKey;
  if (typeof key !== 'string' || !Object.hasOwn(TEMPLATE_FIELDS, key)) {
    const shown = typeof key === 'string' ? key.slice(0, 40) : typeof key;
    throw new ValidationError(`unknown msgKey "${shown}"`, 'msgKey', { operation: op });
  }
  const msgKey = key as MsgKey;
  const param = message.msgParam as unknown;
  if (typeof param !== 'object' || param === null || Array.isArray(param)) {
    throw new ValidationError('must be an object of strings', 'msgParam', { operation: op });
  }
  const p = param as Record<string, unknown>;
  const required = TEMPLATE_FIELDS[msgKey];
  const allowed = new Set([...required, ...(OPTIONAL_FIELDS[msgKey] ?? [])]);
  for (const f of required) {
    const v = p[f];
    if (typeof v !== 'string' || v.length === 0) {
      throw new ValidationError(`${msgKey} needs a non-empty string`, `msgParam.${f}`, { operation: op });
    }
  }
  for (const [f, v] of Object.entries(p)) {
    if (!allowed.has(f)) {
      throw new ValidationError(`is not a field of ${msgKey}`, `msgParam.${f}`, { operation: op });
    }
    if (typeof v !== 'string') {
      throw new ValidationError('must be a string (DingTalk template values are strings)', `msgParam.${f}`, {
        operation: op,
      });
    }
  }
  const msgParam = JSON.stringify(p);
  const n = byteLength(msgParam);
  if (n > maxBytes) {
    throw new ValidationError(`is ${n} bytes as JSON; DingTalk accepts at most ${maxBytes}`, 'msgParam', {
      operation: op,
    });
  }
  return { msgKey, msgParam };
}

/**
 * Builders for the common templates.
 * @example
 * await dt.robot.sendToGroup({ openConversationId, message: appMessage.markdown('Release', '**v2** is out') });
 */
export const appMessage = {
  text: (content: string): TemplateMessage => ({ msgKey: 'sampleText', msgParam: { content } }),
  markdown: (title: string, text: string): TemplateMessage => ({
    msgKey: 'sampleMarkdown',
    msgParam: { title, text },
  }),
  image: (photoURL: string): TemplateMessage => ({ msgKey: 'sampleImageMsg', msgParam: { photoURL } }),
  link: (p: TemplateParams['sampleLink']): TemplateMessage => ({ msgKey: 'sampleLink', msgParam: { ...p } }),
  /** A file uploaded with `dt.media.upload({ type: 'file' })`; `fileType` defaults to the name's extension. */
  file: (mediaId: string, fileName: string, fileType?: string): TemplateMessage => ({
    msgKey: 'sampleFile',
    msgParam: { mediaId, fileName, fileType: fileType ?? extensionOf(fileName) },
  }),
  /** One button, or 2–5 vertical buttons (sampleActionCard2..5). */
  actionCard(
    title: string,
    text: string,
    buttons: ReadonlyArray<{ title: string; url: string }>,
  ): TemplateMessage {
    if (buttons.length === 1) {
      return {
        msgKey: 'sampleActionCard',
        msgParam: { title, text, singleTitle: buttons[0]!.title, singleURL: buttons[0]!.url },
      };
    }
    if (buttons.length < 2 || buttons.length > 5) {
      throw new ValidationError('an action card has 1 to 5 buttons', 'buttons', {
        operation: 'robot.message',
      });
    }
    const msgParam: Record<string, string> = { title, text };
    buttons.forEach((b, i) => {
      msgParam[`actionTitle${i + 1}`] = b.title;
      msgParam[`actionURL${i + 1}`] = b.url;
    });
    return { msgKey: `sampleActionCard${buttons.length}`, msgParam } as TemplateMessage;
  },
} as const;

/** Lower-case extension without the dot, or `file` when there is none. */
export function extensionOf(fileName: string): string {
  const i = fileName.lastIndexOf('.');
  return i > 0 && i < fileName.length - 1 ? fileName.slice(i + 1).toLowerCase() : 'file';
}
