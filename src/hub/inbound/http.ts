/**
 * Inbound over HTTP: DingTalk's robot callbacks (docs/dingtalk.md §9a) and encrypted event pushes
 * (§9b) received on the hub's own server, for apps set to HTTP mode instead of Stream. Each route is a receiver of
 * `dingkit/callback`, so the order of effects is the library's and the same as over Stream (inbound.ts):
 *
 *   verify the signature → sessionWebhook allowlist (robot) → ONE transaction: claim the replay keys in the store
 *   and commit to the inbox under DingTalk's id → answer success → the inbox applies it once.
 *
 * The routes take no API token: DingTalk cannot send one, it signs instead, and the signature check is the gate.
 * A signature proves who sent a callback, not that it is new (a robot callback signs only its timestamp), so the
 * accepted signatures and ids are remembered in the store's `kv` table for the whole window (seen-store.ts): every
 * hub process on the database shares them, and a replay sent to any of them is answered without being applied.
 * DingTalk's own ids are left to the inbox (see `signaturesOnly`).
 *
 * The receivers run in `replay: 'handler'` mode: they claim nothing and hand the keys to the handler, which claims
 * them (`StoreSeenStore.firstSeenIn`) in the transaction that inserts the inbox row (`InboundService.commitHttp`).
 * A key already there is a replay: answered success, nothing written. A failed commit, or a process dying before
 * it, rolls the claim back with the row, so DingTalk's retry, even the very same signed request, is taken.
 */

import { createHash } from 'node:crypto';
import { createBotCallbackHandler } from '../../callback/bot-handler.js';
import { createCardCallbackHandler } from '../../callback/card-handler.js';
import { type CallbackEvent, EventCrypto } from '../../callback/event-crypto.js';
import { createEventCallbackHandler } from '../../callback/event-handler.js';
import type { CallbackHttpHandler } from '../../callback/http-io.js';
import type { ReplayKeys, ReplayOption, SeenStore } from '../../callback/replay-guard.js';
import type { Logger } from '../../core/logger.js';
import type { Tx } from '../../store/open-store.js';
import type { StoreSeenStore } from '../../store/seen-store.js';
import { type CardCallback, TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK } from '../../stream/types.js';
import type { HubConfig } from '../config.js';
import type { CardClicks } from '../tasks/card-clicks.js';
import { type InboundService, storable } from './inbound.js';

/**
 * The hub's callback receivers, mounted by the HTTP API at `POST /callbacks/robot`, `/callbacks/events` and
 * `/callbacks/card` (task-card clicks, §10).
 */
export interface HubCallbacks {
  robot?: CallbackHttpHandler | undefined;
  events?: CallbackHttpHandler | undefined;
  card?: CallbackHttpHandler | undefined;
}

export const CALLBACK_PATHS = {
  robot: '/callbacks/robot',
  events: '/callbacks/events',
  card: '/callbacks/card',
} as const;

/** A hand-built config without an `inbound` block receives over Stream, as before the block existed. */
export const DEFAULT_INBOUND: HubConfig['inbound'] = {
  mode: 'stream',
  http: { robot: true, sessionWebhookOrigins: [] },
};

interface HubCallbackDeps {
  config: HubConfig;
  /** The app whose robot and subscription these are (the config's default app). */
  app: { appKey: string; appSecret: string };
  inbound: InboundService;
  /**
   * Where accepted callbacks are remembered: `{ inTransaction }`, the store's `kv` table, claimed in the inbox
   * commit's transaction (production). Tests' twins only: a `SeenStore` the receivers claim in themselves (the
   * library's way, one per process), or `false` for none.
   */
  replay: { inTransaction: StoreSeenStore } | SeenStore | false;
  logger: Logger;
  /** Extra `sessionWebhook` origins (the built-in emulator's, in demo mode). */
  extraOrigins?: readonly string[] | undefined;
  /** Store outages are reported here once per burst. */
  reportStoreFault?: ((e: unknown) => boolean) | undefined;
  /**
   * Task-card clicks (tasks/card-clicks.ts) with the apiSecret their callback URL is registered with (§10); the
   * card route exists only with both.
   */
  cards?: { clicks: CardClicks; apiSecret: string } | undefined;
}

function digest(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}`, 'utf8');
  return h.digest('hex').slice(0, 40);
}

function eventIdOf(event: CallbackEvent): string | undefined {
  for (const name of ['EventId', 'eventId', 'event_id']) {
    const v = event[name];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/**
 * The hub's replay memory keeps signature keys only. A message's or event's own id is remembered by the inbox
 * already (its primary key, written with the message and kept at least 24 h), so claiming it here as well would
 * only open a window: a process dying between that claim and the commit would turn DingTalk's retry (a new
 * signature, the same id) into a "replay", answered and never stored.
 */
const inboxKeeps = (key: string) => key.startsWith('bot:msg:') || key.startsWith('event:event:');

function signaturesOnly(store: SeenStore): SeenStore {
  return {
    firstSeen: (key, expiresAtMs) => (inboxKeeps(key) ? true : store.firstSeen(key, expiresAtMs)),
    forget: (key) => (inboxKeeps(key) ? undefined : store.forget(key)),
  };
}

/**
 * The claim run inside the inbox commit's transaction: every signature key inserted if absent (or expired); false
 * (a replay) when any was there. Ids are skipped, as in `signaturesOnly`.
 */
function claimInTransaction(seen: StoreSeenStore, replay: ReplayKeys): (tx: Tx) => Promise<boolean> {
  return async (tx) => {
    let fresh = true;
    for (const key of replay.keys) {
      if (inboxKeeps(key)) continue;
      if (!(await seen.firstSeenIn(tx, key, replay.expiresAtMs))) fresh = false;
    }
    return fresh;
  };
}

export function createHubCallbacks(d: HubCallbackDeps): HubCallbacks {
  const http = d.config.inbound.http;
  const memory = d.replay;
  const inTransaction = memory !== false && 'inTransaction' in memory ? memory.inTransaction : undefined;
  // Production: the receivers claim nothing (`'handler'`), `commit` claims in the inbox transaction.
  const replay: Exclude<ReplayOption, undefined> =
    memory === false ? false : 'inTransaction' in memory ? 'handler' : signaturesOnly(memory);
  const common = { logger: d.logger, replay };
  const commit = async (
    kind: 'bot' | 'event' | 'card',
    id: string,
    topic: string,
    payload: unknown,
    keys: ReplayKeys | undefined,
  ) => {
    if (inTransaction && !keys) throw new Error('callback replay keys missing'); // fail closed: never unclaimed
    const claim = inTransaction && keys ? claimInTransaction(inTransaction, keys) : undefined;
    try {
      const r = await d.inbound.commitHttp(kind, id, topic, payload, claim);
      if (r === 'replay') {
        d.logger.info({ kind, reason: 'replay' }, 'callback seen before: answered, not stored');
      }
    } catch (e) {
      if (!d.reportStoreFault?.(e)) {
        d.logger.warn(
          { kind, err: (e as Error)?.name ?? typeof e },
          'HTTP callback not stored; answered 500',
        );
      }
      throw e;
    }
  };
  const out: HubCallbacks = {};
  if (http.robot) {
    out.robot = createBotCallbackHandler({
      ...common,
      appSecret: d.app.appSecret,
      sessionWebhookOrigins: [...http.sessionWebhookOrigins, ...(d.extraOrigins ?? [])],
      onMessage: async (msg, meta) => {
        const kept = storable(msg);
        // DingTalk always sends a msgId (§9a); without one, the message's own content names it.
        const id = `bot:${typeof msg.msgId === 'string' && msg.msgId !== '' ? msg.msgId : `http-${digest(meta.timestamp, JSON.stringify(kept))}`}`;
        await commit('bot', id, TOPIC_BOT_MESSAGE, kept, meta.replay);
        // Nothing inline: the answer goes through the outbox as an app-robot message, like over Stream.
        return undefined;
      },
    });
  }
  if (http.events) {
    out.events = createEventCallbackHandler({
      ...common,
      crypto: new EventCrypto({
        token: http.events.token,
        aesKey: http.events.aesKey,
        ownerKey: d.app.appKey,
      }),
      onEvent: async (event, meta) => {
        const { EventType: _t, ...data } = event;
        const eventType = meta.eventType ?? 'unknown';
        // §9b names no id field; without one, the push's timestamp, nonce and content name it.
        const own = eventIdOf(event);
        const id = `event:${own ?? `http-${digest(meta.timestamp, meta.nonce, JSON.stringify(event))}`}`;
        await commit('event', id, eventType, { eventType, data }, meta.replay);
      },
    });
  }
  if (d.cards) {
    const { clicks, apiSecret } = d.cards;
    out.card = createCardCallbackHandler({
      ...common,
      apiSecret,
      onAction: async (cb, meta) => {
        // A click carries no id of its own (§10): its signature's timestamp and its content name it, so the very
        // same request is one inbox entry (a replay is also refused by its signature key, above).
        const id = `card:http-${digest(meta.timestamp ?? '', JSON.stringify(cb))}`;
        await commit('card', id, TOPIC_CARD_CALLBACK, cb as CardCallback, meta.replay);
        return clicks.answer();
      },
    });
  }
  return out;
}
