/**
 * Wire shapes of the Stream gateway (docs/dingtalk.md §S4, §S5): building server frames and reading
 * client acks. Kept apart from the gateway so the hot push path is one small object and one JSON.stringify.
 */

export type FrameType = 'SYSTEM' | 'EVENT' | 'CALLBACK';

/** Server → client frame; every header value is a string because the Go client rejects numbers (§S4). */
export interface ServerFrame {
  specVersion: '1.0';
  type: FrameType;
  headers: Record<string, string>;
  data: string;
}

/** A client frame that parsed as an ack (§S5: recognised by having `code`). */
export interface ParsedAck {
  code: number;
  messageId: string;
  message: string | undefined;
  data: string;
}

export type MalformedReason =
  | 'binary'
  | 'too_large'
  | 'bad_json'
  | 'not_object'
  | 'not_ack'
  | 'no_message_id'
  | 'unknown_message_id'
  | 'bad_ping_echo';

export const MALFORMED_REASONS: readonly MalformedReason[] = [
  'binary',
  'too_large',
  'bad_json',
  'not_object',
  'not_ack',
  'no_message_id',
  'unknown_message_id',
  'bad_ping_echo',
];

/** Reads one client text frame; returns the ack or the reason it is not one. Never throws. */
export function parseClientFrame(text: string): ParsedAck | MalformedReason {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'bad_json';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not_object';
  const frame = value as Record<string, unknown>;
  const code = frame['code'];
  if (typeof code !== 'number') return 'not_ack';
  const headers = frame['headers'];
  const messageId =
    headers !== null && typeof headers === 'object'
      ? (headers as Record<string, unknown>)['messageId']
      : undefined;
  if (typeof messageId !== 'string' || messageId === '') return 'no_message_id';
  const data = frame['data'];
  const message = frame['message'];
  return {
    code,
    messageId,
    message: typeof message === 'string' ? message : undefined,
    // §S5: accept any data string; a non-string is kept as its JSON so the log still shows it.
    data: typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data),
  };
}

/**
 * §S5: an EVENT is consumed when code is 200 and `data`, if it parses as an object with a `status`, is not LATER.
 * Python echoes the payload back without `status`; that counts as consumed.
 */
export function eventConsumed(code: number, data: string): boolean {
  if (code !== 200) return false;
  if (!data.includes('LATER')) return true; // cheap pre-check keeps the common ack free of a parse
  try {
    const parsed: unknown = JSON.parse(data);
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      (parsed as Record<string, unknown>)['status'] === 'LATER'
    ) {
      return false;
    }
  } catch {
    return true;
  }
  return true;
}

/** Reads `opaque` from a ping echo's data; §S5 says compare the parsed value, never the raw string. */
export function pingOpaque(data: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed !== null && typeof parsed === 'object') {
      const opaque = (parsed as Record<string, unknown>)['opaque'];
      return typeof opaque === 'string' ? opaque : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** mulberry32: a tiny seeded generator so fault schedules replay from their seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
