/**
 * HTTP receiver for interactive-card actions (docs/dingtalk.md §10). DingTalk signs the callback only when an
 * apiSecret was registered with the callback URL; this receiver requires that secret unless the caller opts
 * out explicitly with `allowUnsigned: true` (never accept unverified by default).
 *
 * Like robot callbacks, the signature covers only the timestamp, so each accepted timestamp+signature pair is
 * remembered for the window (replay-guard.ts): a replay, with any body, is answered `{}` without running
 * `onAction`. Unsigned mode has nothing to remember a callback by, so it has no replay protection.
 */

import { ConfigError } from '../core/errors.js';
import type { CardCallback, CardCallbackResponse } from '../stream/types.js';
import { CARD_SIGNATURE_HEADER, CARD_TIMESTAMP_HEADER, verifyCardCallback } from './card-signature.js';
import { DEFAULT_HEADER_WINDOW_MS, type VerifyWindowOptions } from './header-signature.js';
import type { CallbackHttpHandler } from './http-io.js';
import { BadCallbackRequest, jsonResponse } from './http-io.js';
import {
  createReceiver,
  jsonObjectBody,
  onceOnly,
  type ReceiverOptions,
  replayStore,
  runHandler,
} from './receiver.js';
import { digestKey, type ReplayKeys } from './replay-guard.js';
import { toClock } from './timestamp-window.js';

export interface CardCallbackMeta {
  /** The signature timestamp header as received; undefined in unsigned mode. */
  timestamp: string | undefined;
  receivedAt: number;
  /**
   * With `replay: 'handler'` only: the keys this action is remembered by (none in unsigned mode), for the handler
   * to claim in its own transaction (`ReplayKeys`). Absent otherwise (the receiver claimed them itself).
   */
  replay?: ReplayKeys;
}

/**
 * @example
 * const cards = createCardCallbackHandler({
 *   apiSecret: process.env.DING_CARD_API_SECRET!,
 *   onAction: async (cb) => ({ cardData: { cardParamMap: { status: 'done' } } }),
 * });
 */
export interface CardCallbackOptions extends ReceiverOptions, VerifyWindowOptions {
  /** The apiSecret registered with `/v1.0/card/callbacks/register`. */
  apiSecret?: string;
  /**
   * Accept callbacks without a signature. Only for a callback URL registered without an apiSecret.
   * @default false
   */
  allowUnsigned?: boolean;
  /** Awaited before the answer (DingTalk allows 2 s). Return a card update, or nothing for `{}`. */
  onAction: (callback: CardCallback, meta: CardCallbackMeta) => unknown;
}

export function createCardCallbackHandler(options: CardCallbackOptions): CallbackHttpHandler {
  const secret = options?.apiSecret;
  const signed = typeof secret === 'string' && secret !== '';
  if (!signed && options?.allowUnsigned !== true) {
    throw new ConfigError('createCardCallbackHandler: apiSecret is required unless allowUnsigned is true');
  }
  if (typeof options.onAction !== 'function') {
    throw new ConfigError('createCardCallbackHandler: onAction must be a function');
  }
  const { onAction } = options;
  const clock = toClock(options.now);
  const window: VerifyWindowOptions = {
    now: clock,
    ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
  };
  const windowMs = options.windowMs ?? DEFAULT_HEADER_WINDOW_MS;
  const store = replayStore(options.replay, clock);
  return createReceiver('card', options, async (request) => {
    const timestamp = request.header(CARD_TIMESTAMP_HEADER);
    const signature = request.header(CARD_SIGNATURE_HEADER);
    if (signed) verifyCardCallback({ timestamp, signature }, secret, window);
    const body = jsonObjectBody(request);
    if (typeof body['outTrackId'] !== 'string' || body['outTrackId'] === '') {
      throw new BadCallbackRequest(400, 'bad_request', 'missing_out_track_id');
    }
    const ts = signed ? String(timestamp) : undefined;
    const keys = ts === undefined ? [] : [digestKey('card', 'sig', ts, String(signature))];
    // Unsigned mode has no keys: nothing to keep, so nothing outlives the request.
    const expiresAt = ts === undefined ? clock() : Number(ts) + windowMs + 1;
    return onceOnly(
      store,
      options,
      'card',
      keys,
      expiresAt,
      async () => {
        const meta: CardCallbackMeta = {
          timestamp: ts,
          receivedAt: clock(),
          ...(options.replay === 'handler' ? { replay: { keys, expiresAtMs: expiresAt } } : {}),
        };
        const answer = await runHandler(options, 'card', () =>
          onAction(body as unknown as CardCallback, meta),
        );
        return jsonResponse(200, isObject(answer) ? (answer as CardCallbackResponse) : {});
      },
      () => jsonResponse(200, {}),
    );
  });
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
