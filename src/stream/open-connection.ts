/**
 * The open call: `POST {openApiBase}/v1.0/gateway/connections/open` → `{ endpoint, ticket }`
 * (docs/dingtalk.md §S2, §S3). A ticket is good for one connection and 90 s, so a fresh call precedes every
 * connect (§S1 step 3). Go and Java accept only exactly 200 (§S3); so do we.
 */

import type { Dispatcher } from 'undici';
import { DingTalkError, HttpError } from '../core/errors.js';
import { resolveErrorMap, v1Error } from '../core/platform-errors.js';
import type { Redactor } from '../core/redact.js';
import { postJson } from './http.js';
import type { Subscription } from './types.js';

const OPEN_PATH = '/v1.0/gateway/connections/open';
const OPERATION = 'stream.openConnection';

interface OpenConnectionInput {
  openApiBase: string;
  clientId: string;
  clientSecret: string;
  subscriptions: readonly Subscription[];
  ua: string;
  localIp?: string | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  redactor: Redactor;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
}

interface OpenedTicket {
  /** WebSocket base URL, e.g. `wss://host:443/connect`. */
  endpoint: string;
  /** One-time credential; a secret (registered with the redactor as soon as it is known). */
  ticket: string;
}

export async function openConnection(input: OpenConnectionInput): Promise<OpenedTicket> {
  const url = input.openApiBase.replace(/\/+$/, '') + OPEN_PATH;
  const body: Record<string, unknown> = {
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    subscriptions: input.subscriptions,
    ua: input.ua,
  };
  if (input.localIp !== undefined) body['localIp'] = input.localIp;
  const res = await postJson(url, body, {
    operation: OPERATION,
    timeoutMs: input.timeoutMs,
    maxResponseBytes: input.maxResponseBytes,
    redactor: input.redactor,
    // The Node SDK's comment says the gateway answers XML without this header (§S2; unverified).
    headers: { 'user-agent': input.ua || 'dingkit-stream' },
    dispatcher: input.dispatcher,
    signal: input.signal,
  });
  const text = input.redactor.redact(res.text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    parsed = undefined;
  }
  if (res.status !== 200) throw openFailure(res.status, text, parsed, res.headers, input.redactor);
  const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  const endpoint = obj['endpoint'];
  const ticket = obj['ticket'];
  if (typeof ticket === 'string' && ticket) input.redactor.add(ticket);
  // Node and Go reject an empty endpoint or ticket outright (§S3), before dialling anything.
  if (typeof endpoint !== 'string' || !endpoint || typeof ticket !== 'string' || !ticket) {
    throw new DingTalkError('STREAM_OPEN_BAD_ANSWER', `${OPERATION}: answer lacks endpoint or ticket`, {
      operation: OPERATION,
      outcome: 'rejected',
      retryable: true,
    });
  }
  if (!/^wss?:\/\//i.test(endpoint)) {
    throw new DingTalkError('STREAM_OPEN_BAD_ANSWER', `${OPERATION}: endpoint is not a ws:// or wss:// URL`, {
      operation: OPERATION,
      outcome: 'rejected',
      retryable: true,
    });
  }
  return { endpoint, ticket };
}

/** The WebSocket URL: the ticket URL-encoded (as Python does, §S3), appended with `&` if the endpoint has a query. */
export function socketUrl(opened: OpenedTicket): string {
  const sep = opened.endpoint.includes('?') ? '&' : '?';
  return `${opened.endpoint}${sep}ticket=${encodeURIComponent(opened.ticket)}`;
}

function openFailure(
  status: number,
  redactedText: string,
  parsed: unknown,
  headers: Record<string, string | string[] | undefined>,
  redactor: Redactor,
): DingTalkError {
  const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  const code = obj?.['code'];
  // A 4xx other than 408/429 means the request itself is wrong (credentials, subscriptions): retrying the same
  // call will not help, but the reconnect loop still retries it on its capped schedule after the first connect.
  const retryable = status >= 500 || status === 408 || status === 429;
  if (typeof code === 'string') {
    const requestId = typeof obj?.['requestid'] === 'string' ? obj['requestid'] : undefined;
    const message = typeof obj?.['message'] === 'string' ? redactor.redact(obj['message']) : '';
    const retryAfter = headers['retry-after'];
    const err = v1Error(
      resolveErrorMap(),
      {
        operation: OPERATION,
        status,
        requestId,
        retryAfterHeader: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        isWebhook: false,
      },
      redactor.redact(code),
      message,
    );
    return err;
  }
  return new HttpError(status, redactedText, { operation: OPERATION, outcome: 'rejected', retryable });
}
