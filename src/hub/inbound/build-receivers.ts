/**
 * The receivers `inbound.mode` asks for (docs/hub.md "Inbound"): `stream` (the default) opens the app's Stream
 * socket, `http` serves DingTalk's signed callbacks on the hub's API server, `both` does both into the one inbox,
 * where DingTalk's id makes a message received twice one entry. No app configured, or `receive: false`: none.
 */

import type { SeenStore } from '../../callback/replay-guard.js';
import type { Logger } from '../../core/logger.js';
import type { StoreSeenStore } from '../../store/seen-store.js';
import { StreamClient } from '../../stream/client.js';
import type { StreamClientOptions } from '../../stream/options.js';
import type { HubConfig } from '../config.js';
import type { CardClicks } from '../tasks/card-clicks.js';
import { DEFAULT_INBOUND } from './http.js';
import { HttpReceiver } from './http-receiver.js';
import type { InboxDoor, Receiver } from './receiver.js';
import { cardClickTopic, STREAM_TOPICS, StreamReceiver } from './stream-receiver.js';

export interface ReceiverSet {
  /** In start order. */
  all: Receiver[];
  stream: StreamReceiver | undefined;
  http: HttpReceiver | undefined;
}

export interface BuildReceiversOptions {
  config: HubConfig;
  /** The config's default app: its robot and subscription are the ones received. */
  appName: string | undefined;
  /** @default true */
  receive?: boolean | undefined;
  door: InboxDoor;
  logger: Logger;
  /** The HTTP routes' replay memory (see http.ts `HubCallbackDeps.replay`). */
  replay: { inTransaction: StoreSeenStore } | SeenStore | false;
  /** `sessionWebhook` origins accepted besides DingTalk's (the emulator's, the configured API bases). */
  extraOrigins: readonly string[];
  reportStoreFault: (e: unknown) => boolean;
  /** Extra StreamClient options (timings in tests). */
  stream?: Partial<StreamClientOptions> | undefined;
  /** How long `start()` waits for the first Stream connection; undefined: it does not wait. */
  awaitFirstStreamMs?: number | undefined;
  unsafeAckBeforeCommit?: boolean | undefined;
  /**
   * Task-card clicks, when the hub makes cards: taken in over Stream, and over HTTP when the card callback URL is
   * registered with an apiSecret (§10; the config refuses HTTP clicks without one).
   */
  cards?: { clicks: CardClicks; apiSecret: string | undefined } | undefined;
}

export function buildReceivers(o: BuildReceiversOptions): ReceiverSet {
  const inbound = o.config.inbound ?? DEFAULT_INBOUND;
  const app = o.appName === undefined ? undefined : o.config.apps[o.appName];
  const out: ReceiverSet = { all: [], stream: undefined, http: undefined };
  if (!app || o.receive === false) return out;
  if (inbound.mode !== 'stream') {
    out.http = new HttpReceiver({
      config: { ...o.config, inbound },
      app,
      door: o.door,
      replay: o.replay,
      logger: o.logger,
      extraOrigins: o.extraOrigins,
      reportStoreFault: o.reportStoreFault,
      ...(o.cards?.apiSecret !== undefined
        ? { cards: { clicks: o.cards.clicks, apiSecret: o.cards.apiSecret } }
        : {}),
    });
    out.all.push(out.http);
  }
  const clicks = o.cards?.clicks;
  if (inbound.mode !== 'http') {
    const client = new StreamClient({
      clientId: app.appKey,
      clientSecret: app.appSecret,
      ...(o.config.dingtalk.apiBase ? { openApiBase: o.config.dingtalk.apiBase } : {}),
      logger: o.logger,
      ...(o.stream ?? {}),
    });
    out.stream = new StreamReceiver({
      client,
      door: o.door,
      logger: o.logger,
      awaitFirstMs: o.awaitFirstStreamMs,
      ...(o.cards ? { topics: [...STREAM_TOPICS, cardClickTopic(() => clicks!.answer())] } : {}),
      unsafeAckBeforeCommit: o.unsafeAckBeforeCommit,
    });
    out.all.push(out.stream);
  }
  return out;
}
