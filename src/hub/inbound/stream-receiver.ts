/**
 * The Stream receiver (receiver.ts): DingTalk's pushes over the app's WebSocket (docs/dingtalk.md §S1–§S13). Each
 * topic in `STREAM_TOPICS` is routed on the client; its handler takes the ack out of auto mode (`deferAck`), commits
 * the push to the inbox, retrying while the store fails, and acks only once it is durable. If the hub stops (or
 * dies) first, the push was never acked, so DingTalk pushes it again to the next connection (§S9): no push is acked
 * without being stored.
 */

import type { Logger } from '../../core/logger.js';
import type { StreamClient } from '../../stream/client.js';
import { toStreamEvent } from '../../stream/client-support.js';
import type { StreamContext } from '../../stream/context.js';
import { type BotMessage, TOPIC_BOT_MESSAGE, TOPIC_CARD_CALLBACK } from '../../stream/types.js';
import { storable } from './inbound.js';
import type { InboundKind, InboxDoor, Receiver, ReceiverHealth, VerifiedPush } from './receiver.js';

/** One kind of push the Stream receiver takes in. */
export interface StreamTopic {
  kind: InboundKind;
  /** What the client routes on: a CALLBACK topic (`/v1.0/...`, subscribed at connect) or `EVENT` (every event). */
  route: string;
  /** Names the push from its frame: DingTalk's own id (the frame's messageId when it has none), topic, payload. */
  name(ctx: StreamContext<unknown>): Pick<VerifiedPush, 'id' | 'topic' | 'payload'>;
  /**
   * The answer when the hub stops before the push is stored: none (a CALLBACK left unanswered is pushed again to
   * the next connection) or LATER (an EVENT's way of asking for it again, §S5).
   */
  whenStopped: 'unanswered' | 'later';
  /** A CALLBACK's answer, sent with the ack once the push is stored (a card click's, §S8). */
  answer?: (() => unknown) | undefined;
}

/** What the hub takes in over Stream; a card-click topic is one more entry here (and one in HTTP_ROUTES). */
export const STREAM_TOPICS: readonly StreamTopic[] = [
  {
    kind: 'bot',
    route: TOPIC_BOT_MESSAGE,
    name: (ctx) => {
      const msg = ctx.data as BotMessage;
      return { id: `bot:${msg.msgId || ctx.messageId}`, topic: ctx.topic, payload: storable(msg) };
    },
    whenStopped: 'unanswered',
  },
  {
    kind: 'event',
    route: 'EVENT',
    name: (ctx) => {
      const event = toStreamEvent(ctx as StreamContext<Record<string, unknown>>);
      return {
        id: `event:${event.eventId || ctx.messageId}`,
        topic: event.eventType,
        payload: { eventType: event.eventType, data: event.data },
      };
    },
    whenStopped: 'later',
  },
];

/**
 * Task-card clicks (a CALLBACK, §S8), taken in only when the hub makes cards: a click has no id of its own, so the
 * push's messageId names it (a re-push after a lost ack carries the same one). The ack carries the configured
 * answer (tasks.cards.answer), sent once the click is stored; the click itself is applied by the inbox handler.
 */
export function cardClickTopic(answer: () => unknown): StreamTopic {
  return {
    kind: 'card',
    route: TOPIC_CARD_CALLBACK,
    name: (ctx) => ({ id: `card:${ctx.messageId}`, topic: TOPIC_CARD_CALLBACK, payload: ctx.data }),
    whenStopped: 'unanswered',
    answer,
  };
}

export interface StreamReceiverDeps {
  client: StreamClient;
  door: InboxDoor;
  logger: Logger;
  /** @default STREAM_TOPICS */
  topics?: readonly StreamTopic[] | undefined;
  /**
   * Wait this long for the first connection in `start()` (demo mode: the scene needs it); undefined: do not wait,
   * the connection comes when it comes (against DingTalk).
   */
  awaitFirstMs?: number | undefined;
  /**
   * @internal The mutation twin of "ack only after commit" (tests only): ack first, commit after, as a careless
   * receiver would. Never set it in production: a failed commit then loses the message.
   */
  unsafeAckBeforeCommit?: boolean | undefined;
}

export class StreamReceiver implements Receiver {
  readonly name = 'stream' as const;
  readonly client: StreamClient;
  readonly #d: StreamReceiverDeps;
  #state: ReceiverHealth['state'] = 'connecting';

  constructor(d: StreamReceiverDeps) {
    this.#d = d;
    this.client = d.client;
    this.client.onState((c) => {
      this.#state = c.state === 'connected' ? 'connected' : c.state === 'stopped' ? 'off' : 'connecting';
    });
    for (const topic of d.topics ?? STREAM_TOPICS) this.#route(topic);
  }

  #route(topic: StreamTopic): void {
    this.client.on(topic.route, async (ctx) => {
      const ack = ctx.deferAck();
      const push: VerifiedPush = { kind: topic.kind, source: 'stream', ...topic.name(ctx) };
      if (this.#d.unsafeAckBeforeCommit) ack();
      const r = await this.#d.door.commit(push, { retry: 'untilDurable' });
      if (r === undefined) {
        if (topic.whenStopped === 'later') ack.later();
        return undefined;
      }
      if (topic.answer) ack(topic.answer());
      else ack();
      // A CALLBACK's handler value would be its ack's response; the ack has gone out already.
      return undefined;
    });
  }

  async start(): Promise<void> {
    this.#state = 'connecting';
    const first = this.client.start();
    const wait = this.#d.awaitFirstMs;
    if (wait === undefined) {
      first.catch((e: unknown) => this.#d.logger.warn({ err: (e as Error).message }, 'stream start failed'));
      return;
    }
    // Bounded: a gateway that keeps refusing must not hang the start; the client keeps reconnecting.
    let timer: NodeJS.Timeout | undefined;
    const connected = await Promise.race([
      first.then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), wait);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!connected)
      this.#d.logger.warn({}, 'Stream not connected yet; the hub starts anyway and keeps trying');
  }

  async stop(): Promise<void> {
    await this.client.stop({ graceMs: 1_000 }).catch(() => {});
    this.#state = 'off';
  }

  health(): ReceiverHealth {
    return { name: 'stream', state: this.#state };
  }
}
