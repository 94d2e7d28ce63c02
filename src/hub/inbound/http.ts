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
 * them (`StoreSeenStore.firstSeenIn`) in the transaction that inserts the inbox row (`InboundService.commit`).
 * A key already there is a replay of a stored message: answered success, nothing written. A key already there for
 * a message not stored (another body under the same robot signature) is answered 500, never success
 * (`SignatureReusedError`). A failed commit, or a process dying before it, rolls the claim back with the row, so
 * DingTalk's retry, even the very same signed request, is taken.
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
import { storable } from './inbound.js';
import type { InboundKind, InboxDoor, VerifiedPush } from './receiver.js';

/**
 * The hub's callback receivers, mounted by the HTTP API at `POST /callbacks/robot`, `/callbacks/events` and
 * `/callbacks/card` (task-card clicks, §10).
 */
export const CALLBACK_PATHS = {
  robot: '/callbacks/robot',
  events: '/callbacks/events',
  card: '/callbacks/card',
} as const;

export type CallbackName = keyof typeof CALLBACK_PATHS;

export type HubCallbacks = { [K in CallbackName]?: CallbackHttpHandler | undefined };

/** A hand-built config without an `inbound` block receives over Stream, as before the block existed. */
export const DEFAULT_INBOUND: HubConfig['inbound'] = {
  mode: 'stream',
  http: { robot: true, sessionWebhookOrigins: [] },
};

interface HubCallbackDeps {
  config: HubConfig;
  /** The app whose robot and subscription these are (the config's default app). */
  app: { appKey: string; appSecret: string };
  /** Where verified callbacks go: the inbox commit (InboundService). */
  door: InboxDoor;
  /** @default HTTP_ROUTES */
  routes?: readonly HttpRoute[] | undefined;
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
 * A robot callback's signature was already used by another message. A robot signature covers only its timestamp
 * (§9a), so two messages DingTalk pushes in the same millisecond carry the same pair, and so does an attacker's body
 * under a captured pair: the two cannot be told apart. Neither is stored; the answer is a 500, so DingTalk sends a
 * genuine message again under a new timestamp, while a captured pair cannot be renewed by whoever replays it.
 */
export class SignatureReusedError extends Error {
  override readonly name = 'SignatureReusedError';
  constructor() {
    super('callback signature already used by another message; not stored (answered 500 for a retry)');
  }
}

/**
 * The claim run inside the inbox commit's transaction: every signature key inserted if absent (or expired). A key
 * already there is a replay (false: answered success, nothing written) when the message itself is in the inbox;
 * otherwise another message used that signature first, and `SignatureReusedError` refuses this one without
 * answering success. Ids are skipped, as in `signaturesOnly`.
 */
function claimInTransaction(
  seen: StoreSeenStore,
  replay: ReplayKeys,
  id: string,
): (tx: Tx) => Promise<boolean> {
  return async (tx) => {
    let fresh = true;
    for (const key of replay.keys) {
      if (inboxKeeps(key)) continue;
      if (!(await seen.firstSeenIn(tx, key, replay.expiresAtMs))) fresh = false;
    }
    if (fresh) return true;
    const stored = await tx.selectFrom('inbox').select('id').where('id', '=', id).executeTakeFirst();
    if (stored) return false;
    throw new SignatureReusedError();
  };
}

/** What a route's factory gets: the deps, and `commit`, the door with the route's replay claim wired in. */
interface RouteContext {
  d: HubCallbackDeps;
  common: { logger: Logger; replay: Exclude<ReplayOption, undefined> };
  commit: (push: Omit<VerifiedPush, 'source'>, keys: ReplayKeys | undefined) => Promise<void>;
}

/** One callback route the HTTP receiver serves; a card-click route is one more entry in `HTTP_ROUTES`. */
export interface HttpRoute {
  /** Its key in `HubCallbacks` and `CALLBACK_PATHS`. */
  name: CallbackName;
  kind: InboundKind;
  /** The handler, or undefined when the config turns the route off. */
  create(ctx: RouteContext): CallbackHttpHandler | undefined;
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  {
    name: 'robot',
    kind: 'bot',
    create: ({ d, common, commit }) => {
      const http = d.config.inbound.http;
      if (!http.robot) return undefined;
      return createBotCallbackHandler({
        ...common,
        appSecret: d.app.appSecret,
        sessionWebhookOrigins: [...http.sessionWebhookOrigins, ...(d.extraOrigins ?? [])],
        onMessage: async (msg, meta) => {
          const kept = storable(msg);
          // DingTalk always sends a msgId (§9a); without one, the message's own content names it.
          const id = `bot:${typeof msg.msgId === 'string' && msg.msgId !== '' ? msg.msgId : `http-${digest(meta.timestamp, JSON.stringify(kept))}`}`;
          await commit({ kind: 'bot', id, topic: TOPIC_BOT_MESSAGE, payload: kept }, meta.replay);
          // Nothing inline: the answer goes through the outbox as an app-robot message, like over Stream.
          return undefined;
        },
      });
    },
  },
  {
    name: 'events',
    kind: 'event',
    create: ({ d, common, commit }) => {
      const events = d.config.inbound.http.events;
      if (!events) return undefined;
      // `check_url` (§9b: sent when the URL is saved in the console) is answered by the library's handler with the
      // encrypted success and never reaches `onEvent`, so it is not stored.
      return createEventCallbackHandler({
        ...common,
        crypto: new EventCrypto({ token: events.token, aesKey: events.aesKey, ownerKey: d.app.appKey }),
        onEvent: async (event, meta) => {
          const { EventType: _t, ...data } = event;
          const eventType = meta.eventType ?? 'unknown';
          // §9b names no id field; without one, the push's timestamp, nonce and content name it.
          const own = eventIdOf(event);
          const id = `event:${own ?? `http-${digest(meta.timestamp, meta.nonce, JSON.stringify(event))}`}`;
          await commit({ kind: 'event', id, topic: eventType, payload: { eventType, data } }, meta.replay);
        },
      });
    },
  },
  {
    name: 'card',
    kind: 'card',
    create: ({ d, common, commit }) => {
      if (!d.cards) return undefined;
      const { clicks, apiSecret } = d.cards;
      return createCardCallbackHandler({
        ...common,
        apiSecret,
        onAction: async (cb, meta) => {
          // A click carries no id of its own (§10): its signature's timestamp and its content name it, so the very
          // same request is one inbox entry (a replay is also refused by its signature key, above).
          const id = `card:http-${digest(meta.timestamp ?? '', JSON.stringify(cb))}`;
          await commit(
            { kind: 'card', id, topic: TOPIC_CARD_CALLBACK, payload: cb as CardCallback },
            meta.replay,
          );
          return clicks.answer();
        },
      });
    },
  },
];

export function createHubCallbacks(d: HubCallbackDeps): HubCallbacks {
  const memory = d.replay;
  const inTransaction = memory !== false && 'inTransaction' in memory ? memory.inTransaction : undefined;
  // Production: the receivers claim nothing (`'handler'`), `commit` claims in the inbox transaction.
  const replay: Exclude<ReplayOption, undefined> =
    memory === false ? false : 'inTransaction' in memory ? 'handler' : signaturesOnly(memory);
  const commit: RouteContext['commit'] = async (push, keys) => {
    if (inTransaction && !keys) throw new Error('callback replay keys missing'); // fail closed: never unclaimed
    const claim = inTransaction && keys ? claimInTransaction(inTransaction, keys, push.id) : undefined;
    try {
      const r = await d.door.commit({ ...push, source: 'http' }, { retry: 'once', claim });
      if (r === 'replay') {
        d.logger.info({ kind: push.kind, reason: 'replay' }, 'callback seen before: answered, not stored');
      }
    } catch (e) {
      if (e instanceof SignatureReusedError) {
        d.logger.warn({ kind: push.kind, reason: 'signature_reused' }, e.message);
      } else if (!d.reportStoreFault?.(e)) {
        d.logger.warn(
          { kind: push.kind, err: (e as Error)?.name ?? typeof e },
          'HTTP callback not stored; answered 500',
        );
      }
      throw e;
    }
  };
  const ctx: RouteContext = { d, common: { logger: d.logger, replay }, commit };
  const out: HubCallbacks = {};
  for (const route of d.routes ?? HTTP_ROUTES) {
    const handler = route.create(ctx);
    if (handler) out[route.name] = handler;
  }
  return out;
}
