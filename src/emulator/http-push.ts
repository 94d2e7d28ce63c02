/**
 * The emulator's outbound HTTP pushes to an app (docs/dingtalk.md §9, §10): encrypted events (§9b: the answer must
 * be the encrypted `success` within the deadline), HTTP-mode bot messages (§9a: `timestamp` + `sign` headers) and
 * HTTP card callbacks (§10: `x-ddpaas-signature*` headers when an apiSecret is registered). Each push yields one
 * record; the answer text is handed back so the caller can apply an inline reply or a card update.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { signBotCallback } from '../callback/bot-signature.js';
import { EventCrypto } from '../callback/event-crypto.js';
import type { EmulatorState } from './state.js';
import type { AppDef, CallbackPushRecord } from './types.js';

export interface PushOutcome {
  record: CallbackPushRecord;
  /** The 200 answer's body, for inline replies and card updates. */
  answer: string | undefined;
}

/** Card callbacks must be answered within 2 s (§10). */
const CARD_DEADLINE_MS = 2000;

async function post(
  state: EmulatorState,
  app: AppDef,
  eventType: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  deadline: number,
  judge: (text: string) => string,
): Promise<PushOutcome> {
  const started = Date.now();
  let result: string;
  let answer: string | undefined;
  try {
    const res = await request(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(deadline),
    });
    const text = await res.body.text();
    if (res.statusCode === 200) {
      answer = text;
      result = judge(text);
    } else result = `http_${res.statusCode}`;
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    result = /Timeout|Abort/.test(name) || Date.now() - started >= deadline ? 'timeout' : 'network';
  }
  const ms = Date.now() - started;
  // The deadline is a hard rule (§9b: 2500 ms): a reply that came in late is a failure even if well formed.
  if (result === 'ok' && ms > deadline) result = 'timeout';
  return {
    record: {
      at: state.now(),
      appKey: app.appKey,
      url: url.replace(/\?.*$/, ''),
      eventType,
      ok: result === 'ok',
      result,
      ms,
    },
    answer,
  };
}

/** One encrypted event push (§9b): `POST url?msg_signature&timestamp&nonce` with `{"encrypt"}`. */
export function pushEncryptedEvent(
  state: EmulatorState,
  app: AppDef & { callback: NonNullable<AppDef['callback']> },
  url: string,
  eventType: string,
  data: Record<string, unknown>,
): Promise<PushOutcome> {
  const crypto = new EventCrypto({
    token: app.callback.token,
    aesKey: app.callback.aesKey,
    ownerKey: app.appKey,
    timestampWindowMs: false,
  });
  const timestamp = String(state.now());
  const nonce = randomBytes(8).toString('hex');
  const encrypt = crypto.encrypt(JSON.stringify({ EventType: eventType, ...data }));
  const sig = crypto.sign(timestamp, nonce, encrypt);
  const target = `${url}${url.includes('?') ? '&' : '?'}msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}`;
  return post(
    state,
    app,
    eventType,
    target,
    { 'content-type': 'application/json' },
    JSON.stringify({ encrypt }),
    state.limits.callbackTimeoutMs,
    (text) => checkEncryptedSuccess(crypto, text),
  );
}

/** An HTTP-mode bot message (§9a). */
export function pushBotMessage(
  state: EmulatorState,
  app: AppDef,
  url: string,
  data: unknown,
): Promise<PushOutcome> {
  const ts = String(state.now());
  return post(
    state,
    app,
    'bot_message',
    url,
    {
      'content-type': 'application/json; charset=utf-8',
      timestamp: ts,
      sign: signBotCallback(app.appSecret, ts),
    },
    JSON.stringify(data),
    state.limits.callbackTimeoutMs,
    () => 'ok',
  );
}

/** An HTTP card callback to the app's registered URL (§10). */
export function pushCardCallback(
  state: EmulatorState,
  app: AppDef & { cardCallback: NonNullable<AppDef['cardCallback']> },
  data: unknown,
): Promise<PushOutcome> {
  const cb = app.cardCallback;
  const ts = String(state.now());
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cb.apiSecret !== undefined) {
    headers['x-ddpaas-signature-timestamp'] = ts;
    headers['x-ddpaas-signature'] = createHmac('sha256', cb.apiSecret).update(ts).digest('base64');
  }
  return post(
    state,
    app,
    'card_callback',
    cb.url,
    headers,
    JSON.stringify(data),
    CARD_DEADLINE_MS,
    () => 'ok',
  );
}

/**
 * Faults on the emulator's own HTTP pushes to an app (`EmulatorFaults.callbacks`). `repushAnsweredRate`: the share
 * of pushes answered with success that are pushed again (fresh signature, same content), as when DingTalk never saw
 * the answer, the HTTP twin of the Stream gateway's `repushAckedRate`.
 */
export interface CallbackFaults {
  repushAnsweredRate?: number | undefined;
}

export type PushReason = 'first' | 'retry' | 'answered_repush';

/**
 * One delivery of an event or robot push: sent, then sent again while it fails, `limits.callbackRetries` times,
 * `limits.callbackRetryDelayMs` apart. §9b says undelivered events are pushed again on an unpublished schedule (a
 * setting here); whether robot messages over HTTP are is not documented at all (§12), so the same setting applies
 * to both and is 0 by default. Each attempt is logged through `log`; the first answered outcome, or the last
 * failure, is returned.
 */
export async function deliver(
  state: EmulatorState,
  send: () => Promise<PushOutcome>,
  log: (record: CallbackPushRecord) => void,
  faults: CallbackFaults = {},
): Promise<PushOutcome> {
  const attempts = 1 + Math.max(0, state.limits.callbackRetries);
  let out: PushOutcome | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, state.limits.callbackRetryDelayMs));
    out = await send();
    log({ ...out.record, reason: i === 0 ? 'first' : 'retry' });
    if (out.record.ok) break;
  }
  const rate = faults.repushAnsweredRate ?? 0;
  if (out?.record.ok && rate > 0 && state.random() < rate) {
    // The answer "was lost": the same push comes again, and is itself retried until answered.
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, state.limits.callbackRetryDelayMs));
      const again = await send();
      log({ ...again.record, reason: 'answered_repush' });
      if (again.record.ok) break;
    }
  }
  return out!;
}

/** The reply must be `{msg_signature, timeStamp, nonce, encrypt}` that verifies and decrypts to `success`. */
function checkEncryptedSuccess(crypto: EventCrypto, text: string): string {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'bad_reply';
  }
  if (j === null || typeof j !== 'object') return 'bad_reply';
  const { msg_signature: sig, timeStamp, nonce, encrypt } = j;
  if (
    typeof sig !== 'string' ||
    typeof timeStamp !== 'string' ||
    typeof nonce !== 'string' ||
    typeof encrypt !== 'string'
  ) {
    return 'bad_reply';
  }
  if (!crypto.verify(sig, timeStamp, nonce, encrypt)) return 'bad_signature';
  try {
    return crypto.decrypt(encrypt) === 'success' ? 'ok' : 'not_success';
  } catch {
    return 'bad_reply';
  }
}
