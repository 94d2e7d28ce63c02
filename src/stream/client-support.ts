/**
 * Small pure helpers of StreamClient, kept apart so the client file holds only the connection lifecycle.
 */

import { DingTalkError, isDingTalkError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import type { StreamContext } from './context.js';
import type { StreamEvent } from './types.js';

/** A redactor for the session id of a bot message's webhook, if the payload has one. */
export function sessionRedactor(data: unknown): Redactor {
  const hook = (data as { sessionWebhook?: unknown } | null)?.sessionWebhook;
  if (typeof hook !== 'string') return new Redactor();
  const session = /[?&]session=([^&#]+)/.exec(hook)?.[1];
  return new Redactor([hook, session, session === undefined ? undefined : safeDecode(session)]);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Short text of a failure for a log line (still to be redacted by the caller). */
export function describeError(e: unknown): string {
  if (isDingTalkError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

export function stoppedError(): DingTalkError {
  return new DingTalkError('STREAM_STOPPED', 'stream client was stopped', { outcome: 'not_sent' });
}

/** The EVENT headers of docs/dingtalk.md §S4 plus the decoded payload. */
export function toStreamEvent(ctx: StreamContext<Record<string, unknown>>): StreamEvent {
  const h = ctx.headers;
  return {
    eventType: h['eventType'] ?? '',
    eventId: h['eventId'] ?? '',
    eventCorpId: h['eventCorpId'] ?? '',
    eventBornTime: h['eventBornTime'] === undefined ? Number.NaN : Number(h['eventBornTime']),
    eventUnifiedAppId: h['eventUnifiedAppId'],
    data: ctx.data,
  };
}
