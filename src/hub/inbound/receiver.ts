/**
 * One receiver interface for everything DingTalk pushes to the hub, after bolt-js's `Receiver`: a Stream receiver
 * (stream-receiver.ts) and an HTTP receiver (http-receiver.ts) implement it, and `inbound.mode` picks which run
 * (build-receivers.ts). Whatever the door, a push takes the same path:
 *
 *   the receiver verifies it (a Stream frame came over the authenticated socket, §S2; an HTTP callback carries a
 *   signature, docs/dingtalk.md §9a, §9b) → names it by DingTalk's own id → `InboxDoor.commit` stores it in the
 *   inbox (one transaction) → only then the receiver answers DingTalk (the Stream ack, the HTTP 200).
 *
 * Because the inbox key is DingTalk's id whichever door a push came through, a message received both ways (mode
 * `both`) or pushed again after a lost answer is one inbox entry, applied once.
 *
 * What a receiver takes in is a list of topics (`STREAM_TOPICS`, `HTTP_ROUTES`): a new kind of push (card clicks)
 * is one more entry in each list, with nothing else to special-case.
 */

import type { Tx } from '../../store/open-store.js';

/** What kind of push: a robot message (a chat command), an event (a Todo change, ...) or a card click. */
export type InboundKind = 'bot' | 'event' | 'card';

/** Which door a push came through; stored with the inbox entry. */
export type InboundSource = 'stream' | 'http';

/** A push its receiver has verified, named as the inbox keeps it. */
export interface VerifiedPush {
  readonly kind: InboundKind;
  readonly source: InboundSource;
  /** The inbox key, under DingTalk's id (`bot:<msgId>`, `event:<eventId>`): the same through either door. */
  readonly id: string;
  /** The inbox topic: the bot-message topic, or the event's type. */
  readonly topic: string;
  /** What is kept: never a session webhook (a per-conversation credential). */
  readonly payload: unknown;
}

/** 'replay': the HTTP claim found the request's signature already used; nothing was written. */
export type CommitResult = 'new' | 'duplicate' | 'replay';

export interface CommitHow {
  /**
   * `once`: one attempt; a failure throws, so an HTTP receiver answers 500 and DingTalk sends it again (an HTTP
   * request cannot wait out a store outage past DingTalk's 2.5 s deadline, §9b).
   * `untilDurable`: retried with backoff while the store fails; the Stream push stays unanswered meanwhile, and
   * `undefined` comes back if the hub stops first (DingTalk then pushes it again, §S9).
   */
  retry: 'once' | 'untilDurable';
  /** Run first in the same transaction (an HTTP callback's replay keys): false means a replay, nothing written. */
  claim?: ((tx: Tx) => Promise<boolean>) | undefined;
}

/** The one way a receiver hands a verified push to the hub: the inbox commit (InboundService implements it). */
export interface InboxDoor {
  commit(push: VerifiedPush, how: CommitHow): Promise<CommitResult | undefined>;
}

/** What `/healthz` and the dashboard show of each receiver. */
export interface ReceiverHealth {
  name: InboundSource;
  /**
   * Stream: `connected`, `connecting` (or reconnecting), `off` (stopped). HTTP: `ready` once its routes are built
   * (the API server serves them), `off` once stopped (callbacks are then answered 500, so DingTalk retries).
   */
  state: 'connected' | 'connecting' | 'ready' | 'off';
  /** HTTP: the paths DingTalk must be configured with, relative to the hub's public URL. */
  routes?: string[] | undefined;
}

export interface Receiver {
  readonly name: InboundSource;
  /** Starts taking pushes; resolves when the receiver is ready (or, for Stream, its first connection is bounded). */
  start(): Promise<void>;
  /** Stops taking pushes; a push not yet committed is left unanswered for DingTalk to send again. */
  stop(): Promise<void>;
  health(): ReceiverHealth;
}
