/**
 * The custom-robot / session-webhook message formats (docs/dingtalk.md §2.4, §2.5): exactly five msgtypes with
 * their exact field names (`messageUrl` in link, `messageURL` in feedCard), and the `at` object. Pure; the
 * webhook and sendBySession routes share it.
 */
import { isObject } from './http-io.js';

export interface ParsedRobotMessage {
  type: string;
  content: Record<string, unknown>;
  text: string;
  atMobiles: string[];
  atUserIds: string[];
  isAtAll: boolean;
  msgUuid: string | undefined;
}

export type RobotMessageResult =
  | { ok: true; msg: ParsedRobotMessage }
  | { ok: false; errcode: number; errmsg: string };

const MAX_AT = 50;

function need(o: unknown, fields: string[], where: string): string | undefined {
  if (!isObject(o)) return `缺少参数 ${where}`;
  for (const f of fields) if (typeof o[f] !== 'string' || o[f] === '') return `缺少参数 ${where}.${f}`;
  return undefined;
}

/** Validates a webhook body (already JSON-parsed). */
export function parseRobotMessage(body: unknown): RobotMessageResult {
  if (!isObject(body) || typeof body['msgtype'] !== 'string' || body['msgtype'] === '') {
    return { ok: false, errcode: 40035, errmsg: '缺少参数 json' };
  }
  const type = body['msgtype'];
  const obj = body[type];
  let missing: string | undefined;
  let text = '';
  switch (type) {
    case 'text':
      missing = need(obj, ['content'], 'text');
      text = isObject(obj) ? String(obj['content'] ?? '') : '';
      break;
    case 'markdown':
      missing = need(obj, ['title', 'text'], 'markdown');
      text = isObject(obj) ? String(obj['text'] ?? '') : '';
      break;
    case 'link':
      missing = need(obj, ['title', 'text', 'messageUrl'], 'link');
      text = isObject(obj) ? `${String(obj['title'] ?? '')}\n${String(obj['text'] ?? '')}` : '';
      break;
    case 'actionCard': {
      missing = need(obj, ['title', 'text'], 'actionCard');
      if (!missing && isObject(obj)) {
        const single = typeof obj['singleTitle'] === 'string' && typeof obj['singleURL'] === 'string';
        const btns = obj['btns'];
        const okBtns =
          Array.isArray(btns) &&
          btns.length > 0 &&
          btns.every(
            (b) => isObject(b) && typeof b['title'] === 'string' && typeof b['actionURL'] === 'string',
          );
        // §2.4: singleTitle+singleURL wins and btns are ignored; otherwise btns[] of {title, actionURL}.
        if (!single && !okBtns) missing = '缺少参数 actionCard.singleTitle/singleURL or actionCard.btns';
      }
      text = isObject(obj) ? String(obj['text'] ?? '') : '';
      break;
    }
    case 'feedCard': {
      const links = isObject(obj) ? obj['links'] : undefined;
      if (!Array.isArray(links) || links.length === 0) missing = '缺少参数 feedCard.links';
      else {
        for (const l of links) {
          const m = need(l, ['title', 'messageURL', 'picURL'], 'feedCard.links');
          if (m) {
            missing = m;
            break;
          }
        }
      }
      text = Array.isArray(links)
        ? links.map((l) => (isObject(l) ? String(l['title'] ?? '') : '')).join('\n')
        : '';
      break;
    }
    default:
      return { ok: false, errcode: 400105, errmsg: '不支持的消息类型' };
  }
  if (missing) return { ok: false, errcode: 40035, errmsg: missing };
  const at = isObject(body['at']) ? body['at'] : {};
  const atMobiles = stringList(at['atMobiles']);
  const atUserIds = stringList(at['atUserIds'] ?? at['atDingtalkIds']);
  if (atMobiles.length + atUserIds.length > MAX_AT) {
    return { ok: false, errcode: 40035, errmsg: `at 最多 ${MAX_AT} 人` };
  }
  // @ is only honoured on text, markdown and actionCard (§2.4: link and feedCard have no @ support).
  const atAllowed = type === 'text' || type === 'markdown' || type === 'actionCard';
  return {
    ok: true,
    msg: {
      type,
      content: { [type]: obj },
      text,
      atMobiles: atAllowed ? atMobiles : [],
      atUserIds: atAllowed ? atUserIds : [],
      isAtAll: atAllowed && at['isAtAll'] === true,
      msgUuid: typeof body['msgUuid'] === 'string' && body['msgUuid'] !== '' ? body['msgUuid'] : undefined,
    },
  };
}

function stringList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string' && x !== '');
}

/** Every string value in the message object (§2.2: the keyword scope is unverified, so all strings are searched). */
export function allStrings(v: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20) return out;
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) allStrings(x, out, depth + 1);
  else if (isObject(v)) for (const x of Object.values(v)) allStrings(x, out, depth + 1);
  return out;
}
