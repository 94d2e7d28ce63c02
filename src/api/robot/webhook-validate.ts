/**
 * Local checks of a webhook message before it is sent (docs/dingtalk.md §2.2, §2.4, §2.5): the message type is one of
 * the five, its required fields are there, mentions stay within 50, a configured keyword appears, and the JSON
 * body fits in 20,000 bytes. Each failure is a ValidationError naming the field, so nothing DingTalk would
 * refuse with 310000 / 400105 / 40035 leaves the process.
 */

import { ValidationError } from '../../core/errors.js';
import { byteLength, requireList, requireMsgtype, requireText, requireUrl } from '../shared/validate.js';
import { MAX_MENTIONS, type WebhookMessage } from './webhook-messages.js';

/**
 * Webhook body size cap: bytes of the JSON body (docs/dingtalk.md §2.6; DingTalk publishes no number, so this is
 * the emulator's and the library's setting, §12). The one constant: the hub splits long texts against it too.
 */
export const WEBHOOK_MAX_BYTES = 20_000;

const TYPES = new Set(['text', 'link', 'markdown', 'actionCard', 'feedCard']);

export function validateWebhookMessage(message: unknown, op: string): WebhookMessage {
  const { m, type } = requireMsgtype(
    message,
    TYPES,
    'text, link, markdown, actionCard, feedCard (webhooks support no other type)',
    op,
  );
  const part = m[type];
  if (typeof part !== 'object' || part === null || Array.isArray(part)) {
    throw new ValidationError(`a ${type} message needs a "${type}" object`, type, { operation: op });
  }
  const p = part as Record<string, unknown>;
  switch (type) {
    case 'text':
      requireText(p['content'], 'text.content', op);
      break;
    case 'markdown':
      requireText(p['title'], 'markdown.title', op);
      requireText(p['text'], 'markdown.text', op);
      break;
    case 'link':
      requireText(p['title'], 'link.title', op);
      requireText(p['text'], 'link.text', op);
      requireUrl(p['messageUrl'], 'link.messageUrl', op);
      if (p['picUrl'] !== undefined) requireUrl(p['picUrl'], 'link.picUrl', op);
      break;
    case 'actionCard':
      validateActionCard(p, op);
      break;
    default: {
      const links = p['links'];
      if (!Array.isArray(links) || links.length === 0) {
        throw new ValidationError('needs at least one link', 'feedCard.links', { operation: op });
      }
      links.forEach((l: Record<string, unknown>, i) => {
        requireText(l?.['title'], `feedCard.links[${i}].title`, op);
        requireUrl(l?.['messageURL'], `feedCard.links[${i}].messageURL`, op);
        requireUrl(l?.['picURL'], `feedCard.links[${i}].picURL`, op);
      });
    }
  }
  const at = m['at'];
  if (at !== undefined) {
    if (type === 'link' || type === 'feedCard') {
      throw new ValidationError(`${type} messages cannot mention people`, 'at', { operation: op });
    }
    const a = at as Record<string, unknown>;
    const mobiles =
      a['atMobiles'] === undefined ? [] : requireList(a['atMobiles'], 'at.atMobiles', op, { min: 0 });
    const users =
      a['atUserIds'] === undefined ? [] : requireList(a['atUserIds'], 'at.atUserIds', op, { min: 0 });
    if (mobiles.length + users.length > MAX_MENTIONS) {
      throw new ValidationError(`at most ${MAX_MENTIONS} people can be mentioned`, 'at', { operation: op });
    }
  }
  return message as WebhookMessage;
}

function validateActionCard(p: Record<string, unknown>, op: string): void {
  requireText(p['title'], 'actionCard.title', op);
  requireText(p['text'], 'actionCard.text', op);
  const single = p['singleTitle'] !== undefined || p['singleURL'] !== undefined;
  if (single) {
    requireText(p['singleTitle'], 'actionCard.singleTitle', op);
    requireUrl(p['singleURL'], 'actionCard.singleURL', op);
    return;
  }
  const btns = p['btns'];
  if (!Array.isArray(btns) || btns.length === 0) {
    throw new ValidationError('needs singleTitle + singleURL or at least one button', 'actionCard.btns', {
      operation: op,
    });
  }
  btns.forEach((b: Record<string, unknown>, i) => {
    requireText(b?.['title'], `actionCard.btns[${i}].title`, op);
    requireUrl(b?.['actionURL'], `actionCard.btns[${i}].actionURL`, op);
  });
  for (const k of ['btnOrientation', 'hideAvatar'] as const) {
    if (p[k] !== undefined && p[k] !== '0' && p[k] !== '1') {
      throw new ValidationError('must be "0" or "1"', `actionCard.${k}`, { operation: op });
    }
  }
}

/**
 * Fails when the robot has keywords configured and none appears in the message. Which fields DingTalk scans is
 * unverified (docs/dingtalk.md §2.2), so every string value of the message (not the `at` object) counts.
 */
export function checkKeywords(message: WebhookMessage, keywords: readonly string[], op: string): void {
  if (keywords.length === 0) return;
  const { at: _at, ...rest } = message as WebhookMessage & { at?: unknown };
  const texts: string[] = [];
  collectStrings(rest, texts, 0);
  if (!keywords.some((k) => texts.some((t) => t.includes(k)))) {
    throw new ValidationError(
      `contains none of the robot's ${keywords.length} configured keyword(s); DingTalk would answer 310000`,
      'keywords',
      { operation: op },
    );
  }
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collectStrings(x, out, depth + 1);
}

/** Serialises the body and enforces the size cap; returns the byte count. */
export function checkWebhookSize(body: unknown, max: number, op: string): number {
  const n = byteLength(JSON.stringify(body));
  if (n > max) {
    throw new ValidationError(`message is ${n} bytes; a webhook accepts at most ${max}`, 'message', {
      operation: op,
    });
  }
  return n;
}
