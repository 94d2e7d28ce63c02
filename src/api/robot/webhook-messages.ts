/**
 * The five message types a custom-robot webhook accepts (docs/dingtalk.md §2.4), with typed builders, and the @mention
 * helper of §2.5: DingTalk only highlights and notifies a mention when the text itself contains `@<mobile>` or
 * `@<userId>`, so `mention()` fills the `at` object *and* writes the missing `@...` into the text.
 *
 * JSON names are DingTalk's, casing traps included: `link.messageUrl`/`picUrl` (lower-case "rl") but
 * `feedCard.links[].messageURL`/`picURL` and `actionCard.singleURL`/`btns[].actionURL` (upper-case).
 */

import { ValidationError } from '../../core/errors.js';

export interface WebhookAt {
  atMobiles?: string[];
  atUserIds?: string[];
  isAtAll?: boolean;
}

export interface TextMessage {
  msgtype: 'text';
  text: { content: string };
  at?: WebhookAt;
}

export interface LinkMessage {
  msgtype: 'link';
  link: { title: string; text: string; messageUrl: string; picUrl?: string };
}

export interface MarkdownMessage {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at?: WebhookAt;
}

/** `"0"` vertical, `"1"` horizontal buttons. */
export type BtnOrientation = '0' | '1';

export interface ActionCardSingle {
  title: string;
  text: string;
  singleTitle: string;
  singleURL: string;
  btnOrientation?: BtnOrientation;
  hideAvatar?: '0' | '1';
}

export interface ActionCardMulti {
  title: string;
  text: string;
  btns: Array<{ title: string; actionURL: string }>;
  btnOrientation?: BtnOrientation;
  hideAvatar?: '0' | '1';
}

export interface ActionCardMessage {
  msgtype: 'actionCard';
  actionCard: ActionCardSingle | ActionCardMulti;
  at?: WebhookAt;
}

export interface FeedCardLink {
  title: string;
  messageURL: string;
  picURL: string;
}

export interface FeedCardMessage {
  msgtype: 'feedCard';
  feedCard: { links: FeedCardLink[] };
}

export type WebhookMessage =
  | TextMessage
  | LinkMessage
  | MarkdownMessage
  | ActionCardMessage
  | FeedCardMessage;

/** Whom to @. At most 50 people per message (docs/dingtalk.md §2.5). */
export interface Mention {
  mobiles?: readonly string[];
  userIds?: readonly string[];
  all?: boolean;
}

export const MAX_MENTIONS = 50;

/**
 * Typed builders for webhook messages.
 * @example
 * robot.send(webhookMessage.text('deploy finished', { userIds: ['manager4220'] }));
 */
export const webhookMessage = {
  text(content: string, mentionWho?: Mention): TextMessage {
    const m: TextMessage = { msgtype: 'text', text: { content } };
    return mentionWho ? mention(m, mentionWho) : m;
  },
  link(link: { title: string; text: string; messageUrl: string; picUrl?: string }): LinkMessage {
    return { msgtype: 'link', link: { ...link } };
  },
  markdown(title: string, text: string, mentionWho?: Mention): MarkdownMessage {
    const m: MarkdownMessage = { msgtype: 'markdown', markdown: { title, text } };
    return mentionWho ? mention(m, mentionWho) : m;
  },
  /** One button (`singleTitle` + `singleURL`) or several (`btns`). */
  actionCard(card: ActionCardSingle | ActionCardMulti): ActionCardMessage {
    return { msgtype: 'actionCard', actionCard: { ...card } };
  },
  feedCard(links: FeedCardLink[]): FeedCardMessage {
    return { msgtype: 'feedCard', feedCard: { links: links.map((l) => ({ ...l })) } };
  },
} as const;

/**
 * Returns a copy of `message` that mentions `who`: the `at` object is filled and every `@mobile` / `@userId` not
 * already present is appended to the text (text, markdown, actionCard). Link and feedCard messages cannot carry
 * mentions (docs/dingtalk.md §2.4) and throw a ValidationError.
 * @example
 * mention(webhookMessage.text('on call now'), { mobiles: ['13800000000'] })
 * // → text.content 'on call now\n@13800000000', at.atMobiles ['13800000000']
 */
export function mention<M extends WebhookMessage>(message: M, who: Mention): M {
  const list = (v: unknown, field: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      throw new ValidationError('must be an array of strings', field, { operation: 'webhook.send' });
    }
    return [...v] as string[];
  };
  if (typeof who !== 'object' || who === null) {
    throw new ValidationError('must be { mobiles?, userIds?, all? }', 'at', { operation: 'webhook.send' });
  }
  if (typeof message !== 'object' || message === null) {
    throw new ValidationError('must be a message object', 'message', { operation: 'webhook.send' });
  }
  const mobiles = list(who.mobiles, 'at.mobiles');
  const userIds = list(who.userIds, 'at.userIds');
  if (mobiles.length + userIds.length > MAX_MENTIONS) {
    throw new ValidationError(`at most ${MAX_MENTIONS} people can be mentioned`, 'at', {
      operation: 'webhook.send',
    });
  }
  for (const [i, v] of [...mobiles, ...userIds].entries()) {
    if (typeof v !== 'string' || v.trim() === '' || /\s/.test(v)) {
      throw new ValidationError('mention ids must be non-empty and without spaces', `at[${i}]`, {
        operation: 'webhook.send',
      });
    }
  }
  if (message.msgtype === 'link' || message.msgtype === 'feedCard') {
    throw new ValidationError(`${message.msgtype} messages cannot mention people`, 'at', {
      operation: 'webhook.send',
    });
  }
  const names = [...mobiles, ...userIds];
  const prev = message.at ?? {};
  const at: WebhookAt = {
    ...prev,
    ...(mobiles.length ? { atMobiles: unique([...(prev.atMobiles ?? []), ...mobiles]) } : {}),
    ...(userIds.length ? { atUserIds: unique([...(prev.atUserIds ?? []), ...userIds]) } : {}),
    ...(who.all ? { isAtAll: true } : {}),
  };
  if (message.msgtype === 'text') {
    return {
      ...message,
      text: { content: withNames(message.text?.content, names, 'text.content') },
      at,
    } as M;
  }
  if (message.msgtype === 'markdown') {
    return {
      ...message,
      markdown: { ...message.markdown, text: withNames(message.markdown?.text, names, 'markdown.text') },
      at,
    } as M;
  }
  return {
    ...message,
    actionCard: {
      ...message.actionCard,
      text: withNames(message.actionCard?.text, names, 'actionCard.text'),
    },
    at,
  } as M;
}

/** Appends `@name` for each name the text does not already contain as a mention. */
function withNames(text: unknown, names: readonly string[], field: string): string {
  if (typeof text !== 'string') {
    throw new ValidationError('must be a string', field, { operation: 'webhook.send' });
  }
  const missing = unique(names).filter((n) => !hasMention(text, n));
  return missing.length === 0 ? text : `${text}\n${missing.map((n) => `@${n}`).join(' ')}`;
}

/** `@1380000` must not count as a mention of `13800000000`: the name must end at a non-id character. */
function hasMention(text: string, name: string): boolean {
  let from = 0;
  for (;;) {
    const i = text.indexOf(`@${name}`, from);
    if (i < 0) return false;
    const after = text.charAt(i + name.length + 1);
    if (after === '' || !/[A-Za-z0-9_-]/.test(after)) return true;
    from = i + 1;
  }
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
