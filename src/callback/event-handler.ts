/**
 * HTTP receiver for encrypted event pushes (dingtalk-api.md §9b). Order matters: verify and decrypt, await
 * the application's `onEvent` (so it can commit the event durably), and only then answer with the encrypted
 * `success` envelope. DingTalk re-pushes what was not acknowledged, so a crash before the answer loses nothing
 * (reliability-goals.md R2). `check_url` is answered here without reaching `onEvent`.
 */

import { ConfigError } from '../core/errors.js';
import { type CallbackEvent, EventCrypto } from './event-crypto.js';
import type { CallbackHttpHandler } from './http-io.js';
import { jsonResponse } from './http-io.js';
import { createReceiver, jsonObjectBody, type ReceiverOptions, runHandler } from './receiver.js';

export interface EventCallbackMeta {
  /** `EventType` of the event, when it is a string. */
  eventType: string | undefined;
  /** The push's `timestamp` and `nonce` query values, exactly as received. */
  timestamp: string;
  nonce: string;
  /** When the request was verified, epoch ms. */
  receivedAt: number;
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
  /** Clock for `receivedAt`. @default Date.now */
  now?: () => number;
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
  return createReceiver('event', options, async (request) => {
    const parsed = jsonObjectBody(request);
    // The raw bytes, when there are any, so `open` reads `encrypt` from exactly what was received.
    const opened = crypto.open(request.query, request.bytes ?? parsed);
    if (opened.eventType !== 'check_url') {
      const meta: EventCallbackMeta = {
        eventType: opened.eventType,
        timestamp: opened.timestamp,
        nonce: opened.nonce,
        receivedAt: now(),
      };
      await runHandler(options, 'event', () => onEvent(opened.event, meta));
    }
    return jsonResponse(200, crypto.reply('success'));
  });
}
