/**
 * App-robot message templates (docs/dingtalk.md §3.2): the 13 msgKeys and their required msgParam fields. A missing
 * field answers `miss.param.<field>` (§3.3 gives `miss.param.contentOfText` for sampleText's content; the other
 * names follow the same pattern and are unverified).
 */
import { isObject } from './http-io.js';

const CARD_N = (n: number): string[] => {
  const out = ['title', 'text'];
  for (let i = 1; i <= n; i++) out.push(`actionTitle${i}`, `actionURL${i}`);
  return out;
};

export const TEMPLATES: Readonly<Record<string, readonly string[]>> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleImageMsg: ['photoURL'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: CARD_N(2),
  sampleActionCard3: CARD_N(3),
  sampleActionCard4: CARD_N(4),
  sampleActionCard5: CARD_N(5),
  sampleActionCard6: ['title', 'text', 'buttonTitle1', 'buttonUrl1', 'buttonTitle2', 'buttonUrl2'],
  sampleAudio: ['mediaId', 'duration'],
  sampleFile: ['mediaId', 'fileName', 'fileType'],
  sampleVideo: ['duration', 'videoMediaId', 'videoType', 'picMediaId'],
};

const MSG_PARAM_MAX_BYTES = 15_000;

export type TemplateCheck =
  | { ok: true; param: Record<string, unknown>; text: string }
  | { ok: false; code: string; message: string };

/** Validates msgKey + msgParam (a JSON-encoded string, §3). */
export function checkTemplate(msgKey: unknown, msgParam: unknown): TemplateCheck {
  if (typeof msgKey !== 'string' || msgKey === '') {
    return { ok: false, code: 'invalidParameter.msgKey.empty', message: 'msgKey is empty' };
  }
  const fields = TEMPLATES[msgKey];
  if (!fields)
    return { ok: false, code: 'invalidParameter.msgKey.invalid', message: `msgKey ${msgKey} is invalid` };
  if (typeof msgParam !== 'string' || msgParam === '') {
    return {
      ok: false,
      code: 'invalidParameter.msgParam.invalid',
      message: 'msgParam must be a JSON string',
    };
  }
  if (Buffer.byteLength(msgParam, 'utf8') > MSG_PARAM_MAX_BYTES) {
    return { ok: false, code: 'invalidParameter.msgParam.tooLong', message: 'msgParam is too long' };
  }
  let param: unknown;
  try {
    param = JSON.parse(msgParam);
  } catch {
    return { ok: false, code: 'invalidParameter.msgParam.invalid', message: 'msgParam is not valid JSON' };
  }
  if (!isObject(param)) {
    return {
      ok: false,
      code: 'invalidParameter.msgParam.invalid',
      message: 'msgParam must encode a JSON object',
    };
  }
  for (const f of fields) {
    const v = param[f];
    const present = (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v));
    if (!present) {
      const code =
        msgKey === 'sampleText' && f === 'content' ? 'miss.param.contentOfText' : `miss.param.${f}`;
      return { ok: false, code, message: `param ${f} is missing` };
    }
  }
  const text = String(param['content'] ?? param['text'] ?? param['title'] ?? param['fileName'] ?? '');
  return { ok: true, param, text };
}
