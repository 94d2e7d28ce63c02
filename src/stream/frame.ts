/**
 * Frame validation and ack construction. The official Node client calls `JSON.parse` on every message without a
 * guard, so one bad frame throws inside the socket's listener; here every failure becomes a counted reason and the
 * socket stays up. Shapes: docs/dingtalk.md §S4 (pushes) and §S5 (acks).
 */

import type { AckFrame, FrameType, StreamFrame } from './types.js';

/** Why a frame was skipped. Every reason is a counter in `client.stats().malformed`. */
export type MalformedReason =
  | 'binary'
  | 'too_large'
  | 'bad_json'
  | 'not_object'
  | 'bad_spec_version'
  | 'unknown_type'
  | 'bad_headers'
  | 'missing_topic'
  | 'missing_message_id'
  | 'bad_data'
  | 'bad_data_json';

type ParseResult =
  | { ok: true; frame: StreamFrame }
  | { ok: false; reason: MalformedReason; messageId?: string | undefined };

const TYPES: ReadonlySet<string> = new Set<FrameType>(['SYSTEM', 'EVENT', 'CALLBACK']);

/**
 * Parses one WebSocket message. `maxBytes` is the soft cap: larger frames are skipped without parsing (the hard
 * cap is ws `maxPayload`, which closes the socket).
 */
export function parseFrame(
  raw: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
  maxBytes: number,
): ParseResult {
  // Text frames only (§S4; the Go client drops non-text messages too).
  if (isBinary) return { ok: false, reason: 'binary' };
  const buf = toBuffer(raw);
  if (buf.length > maxBytes) return { ok: false, reason: 'too_large' };
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    return { ok: false, reason: 'bad_json' };
  }
  return validateFrame(value);
}

/** Checks the §S4 shape of an already decoded frame. */
export function validateFrame(value: unknown): ParseResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not_object' };
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj['specVersion'] !== 'string') return { ok: false, reason: 'bad_spec_version' };
  const type = obj['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) return { ok: false, reason: 'unknown_type' };
  const headers = normalizeHeaders(obj['headers']);
  if (headers === undefined) return { ok: false, reason: 'bad_headers' };
  const messageId = headers['messageId'] || undefined;
  const topic = headers['topic'];
  if (!topic) return { ok: false, reason: 'missing_topic', messageId };
  const frameType = type as FrameType;
  // Every EVENT and CALLBACK expects an ack, and an ack without a messageId matches nothing (§S5). SYSTEM
  // `disconnect` carries none in the notes' example, so only `ping` needs one among SYSTEM frames.
  if (!messageId && (frameType !== 'SYSTEM' || topic === 'ping')) {
    return { ok: false, reason: 'missing_message_id' };
  }
  let data = obj['data'];
  if (data === undefined && frameType === 'SYSTEM') data = '';
  if (typeof data !== 'string') return { ok: false, reason: 'bad_data', messageId };
  return {
    ok: true,
    frame: { specVersion: obj['specVersion'] as string, type: frameType, headers, topic, messageId, data },
  };
}

/**
 * Header values must be strings (§S4). The notes list `time` as a number while every example quotes it, so
 * numbers and booleans are turned into strings rather than rejected; nested values make the frame malformed.
 */
function normalizeHeaders(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v === null || v === undefined) continue;
    else return undefined;
  }
  return out;
}

function toBuffer(raw: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}

/** Decodes the second JSON layer of `data`. */
export function decodeData(data: string): { ok: true; value: unknown } | { ok: false } {
  if (data === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch {
    return { ok: false };
  }
}

function buildAck(messageId: string, code: number, message: string, data: string): AckFrame {
  return { code, headers: { contentType: 'application/json', messageId }, message, data };
}

/** Echo of a SYSTEM ping: same messageId, the data string unchanged (§S5, what the Node client does). */
export function pingAck(frame: StreamFrame): AckFrame {
  return buildAck(frame.messageId ?? '', 200, 'OK', frame.data);
}

/** EVENT consumed. Go's exact shape (§S5), which every emulator rule treats as consumed. */
export function eventSuccessAck(messageId: string): AckFrame {
  return buildAck(messageId, 200, 'OK', JSON.stringify({ status: 'SUCCESS', message: 'success' }));
}

/**
 * EVENT not consumed: DingTalk pushes it again (§S5, §S9). Code 200 with `status: LATER`, as the Node and Java
 * clients send; the emulator rule treats either a non-200 code or LATER as a request to redeliver.
 */
export function eventLaterAck(messageId: string): AckFrame {
  return buildAck(messageId, 200, 'OK', JSON.stringify({ status: 'LATER', message: 'later' }));
}

/** CALLBACK answered: `{"response": value}` (§S5, Node's `socketCallBackResponse`; §S8 for cards). */
export function callbackAck(messageId: string, response: unknown): AckFrame {
  return buildAck(messageId, 200, 'OK', JSON.stringify({ response: response ?? null }));
}

/** Error ack. The notes define 404 (topic not handled) and 500 (client error) (§S5). */
export function errorAck(messageId: string, code: number, message: string): AckFrame {
  return buildAck(messageId, code, message, '{}');
}
