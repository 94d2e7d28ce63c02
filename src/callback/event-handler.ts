/**
 * HTTP receiver for encrypted event pushes (docs/dingtalk.md §9b). Order matters: verify and decrypt, await
 * the application's `onEvent` (so it can commit the event durably), and only then answer with the encrypted
 * `success` envelope. DingTalk re-pushes what was not acknowledged, so a crash before the answer loses nothing
 * (an event is acked only after it is committed). `check_url` is answered here without reaching `onEvent`.
 *
 * Replays: a signed push stays valid while its timestamp is fresh, so each accepted
 * msg_signature+timestamp+nonce, and the event's id when it has one, is remembered for the window
 * (replay-guard.ts). The same push again, or DingTalk re-pushing an event already handled, gets the encrypted
 * `success` without reaching `onEvent` a second time.
 */

import { ConfigError } from '../core/errors.js';
import { readSignedParams } from './callback-params.js';
import { type CallbackEvent, EventCrypto } from './event-crypto.js';
import type { CallbackHttpHandler } from './http-io.js';
import { jsonResponse } from './http-io.js';
import {
  createReceiver,
  jsonObjectBody,
  onceOnly,
  type ReceiverOptions,
  replayStore,
  runHandler,
} from './receiver.js';
import { digestKey, type ReplayKeys } from './replay-guard.js';
import { parseTimestampMs } from './timestamp-window.js';

export interface EventCallbackMeta {
  /** `EventType` of the event, when it is a string. */
  eventType: string | undefined;
  /** The push's `timestamp` and `nonce` query values, exactly as received. */
  timestamp: string;
  nonce: string;
  /** When the request was verified, epoch ms. */
  receivedAt: number;
  /**
   * With `replay: 'handler'` only: the keys this push is remembered by (signature+timestamp+nonce, the event id), for the handler to claim
   * in its own transaction (`ReplayKeys`). Absent otherwise (the receiver claimed them itself).
   */
  replay?: ReplayKeys;
}

/**
 * @example
 * const events = createEventCallbackHandler({
 *   crypto: new EventCrypto({ token, aesKey, ownerKey: appKey }),
 *   onEvent: async (event, meta) => { await inbox.commit(event, meta); }, // durable before the reply
 * });
 * http.createServer(events.node).listen(8080);        // node:http
 * app.post('/dingtalk/events', events.node);           // Express
 * hono.post('/dingtalk/events', (c) => events.fetch(c.req.raw)); // Hono
 */
export interface EventCallbackOptions extends ReceiverOptions {
  crypto: EventCrypto;
  /** Awaited before DingTalk is answered; a throw answers 500 so DingTalk pushes the event again. */
  onEvent: (event: CallbackEvent, meta: EventCallbackMeta) => unknown;
  /** Clock for `receivedAt` and the default replay store; give it the same clock as the `EventCrypto`. @default Date.now */
  now?: () => number;
  /**
   * DingTalk's id of an event, used to run a re-pushed event once. The §9b docs name no id field; by default a
   * string `EventId`, `eventId` or `event_id` of the decrypted event is used when present.
   * @example { eventId: (e) => (typeof e['bizId'] === 'string' ? e['bizId'] : undefined) }
   */
  eventId?: (event: CallbackEvent) => string | undefined;
}

/** How long keys are kept when the crypto's freshness check is off: the one-hour window of §9a. */
const UNWINDOWED_KEEP_MS = 3_600_000;

function defaultEventId(event: CallbackEvent): string | undefined {
  for (const name of ['EventId', 'eventId', 'event_id']) {
    const v = event[name];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

export function createEventCallbackHandler(options: EventCallbackOptions): CallbackHttpHandler {
  if (!(options?.crypto instanceof EventCrypto)) {
    throw new ConfigError('createEventCallbackHandler: crypto must be an EventCrypto (fail closed)');
  }
  if (typeof options.onEvent !== 'function') {
    throw new ConfigError('createEventCallbackHandler: onEvent must be a function');
  }
  const { crypto, onEvent } = options;
  const now = options.now ?? Date.now;
  const eventIdOf = options.eventId ?? defaultEventId;
  const store = replayStore(options.replay, now);
  const success = () => jsonResponse(200, crypto.reply('success'));
  return createReceiver('event', options, async (request) => {
    const parsed = jsonObjectBody(request);
    // The raw bytes, when there are any, so `open` reads `encrypt` from exactly what was received.
    const opened = crypto.open(request.query, request.bytes ?? parsed);
    if (opened.eventType === 'check_url') return success();
    const { signature } = readSignedParams(request.query);
    const keys = [digestKey('event', 'sig', signature, opened.timestamp, opened.nonce)];
    const id = eventIdOf(opened.event);
    if (id !== undefined) keys.push(digestKey('event', 'event', id));
    const window = crypto.timestampWindowMs;
    const expiresAt =
      window === false ? now() + UNWINDOWED_KEEP_MS : parseTimestampMs(opened.timestamp, 'auto') + window + 1;
    return onceOnly(
      store,
      options,
      'event',
      keys,
      expiresAt,
      async () => {
        const meta: EventCallbackMeta = {
          eventType: opened.eventType,
          timestamp: opened.timestamp,
          nonce: opened.nonce,
          receivedAt: now(),
          ...(options.replay === 'handler' ? { replay: { keys, expiresAtMs: expiresAt } } : {}),
        };
        await runHandler(options, 'event', () => onEvent(opened.event, meta));
        return success();
      },
      success,
    );
  });
}
