/**
 * The context a middleware or handler sees for one EVENT or CALLBACK push, and the single-shot ack behind it.
 *
 * Ack timing is the point of this module. The official Node client acks an EVENT as soon as its (synchronous)
 * listener returns, and leaves CALLBACK acks to user code (docs/dingtalk.md §S5). Here the ack goes out when the
 * handler's promise settles (auto mode), or when the app calls the function `deferAck()` gave it, e.g. after a
 * durable commit (ack after commit).
 */

import { callbackAck, errorAck, eventLaterAck, eventSuccessAck } from './frame.js';
import type { AckFrame, StreamFrame } from './types.js';

/** A deferred ack: call it to send the success answer, or `.later()` to ask for redelivery. */
export interface DeferredAck {
  (result?: unknown): void;
  later(): void;
}

export interface StreamContext<T = unknown> {
  readonly type: 'EVENT' | 'CALLBACK';
  readonly topic: string;
  /** All headers of the push, as sent (strings, docs/dingtalk.md §S4). */
  readonly headers: Readonly<Record<string, string>>;
  readonly messageId: string;
  /** The decoded payload (`data` is JSON inside the JSON frame, §S4). */
  readonly data: T;
  /** The payload as sent, before decoding. */
  readonly rawData: string;
  /** Id of the socket the push came in on. */
  readonly connectionId: number;
  /** Epoch ms when the frame was received. */
  readonly receivedAt: number;
  /** Free space for middleware to pass values down the chain. */
  readonly state: Record<string, unknown>;
  /** True once an answer was sent or deferred. */
  readonly answered: boolean;
  /**
   * Answer now. EVENT: consumed (`SUCCESS`). CALLBACK: `{"response": result}` (a card callback's response
   * updates the card, §S8). Later calls are ignored: a push gets exactly one ack.
   */
  ack(result?: unknown): void;
  /** EVENT: answer `LATER` now so DingTalk pushes it again (§S9). CALLBACK: answer 500 (client error, §S5). */
  later(): void;
  /** Take the ack out of auto mode; the returned function sends it whenever the app is ready. */
  deferAck(): DeferredAck;
}

export type AckKind = 'success' | 'later' | 'callback' | 'error' | 'notFound' | 'busy';

/** Sends one ack; returns false when the socket was gone. Provided by the client. */
type AckSink = (ack: AckFrame, kind: AckKind) => void;

/** The mutable state behind one context; the dispatcher reads it after the chain settles. */
export class PushContext<T = unknown> implements StreamContext<T> {
  readonly type: 'EVENT' | 'CALLBACK';
  readonly topic: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly messageId: string;
  readonly rawData: string;
  readonly connectionId: number;
  readonly receivedAt: number;
  readonly state: Record<string, unknown> = {};
  /** What the terminal handler returned; the auto ack sends it as a CALLBACK response. */
  response: unknown = undefined;
  /** Set by the router when no handler matched. */
  notFound = false;
  #data: T;
  #sent = false;
  #deferred = false;
  readonly #sink: AckSink;
  readonly #onDefer: () => void;

  constructor(
    frame: StreamFrame & { type: 'EVENT' | 'CALLBACK'; messageId: string },
    data: T,
    meta: { connectionId: number; receivedAt: number },
    sink: AckSink,
    onDefer: () => void,
  ) {
    this.type = frame.type;
    this.topic = frame.topic;
    this.headers = frame.headers;
    this.messageId = frame.messageId;
    this.rawData = frame.data;
    this.#data = data;
    this.connectionId = meta.connectionId;
    this.receivedAt = meta.receivedAt;
    this.#sink = sink;
    this.#onDefer = onDefer;
  }

  get data(): T {
    return this.#data;
  }

  get answered(): boolean {
    return this.#sent || this.#deferred;
  }

  get sent(): boolean {
    return this.#sent;
  }

  get deferred(): boolean {
    return this.#deferred;
  }

  ack(result?: unknown): void {
    if (this.type === 'EVENT') this.#send(eventSuccessAck(this.messageId), 'success');
    else this.#sendCallback(result === undefined ? this.response : result);
  }

  later(): void {
    if (this.type === 'EVENT') this.#send(eventLaterAck(this.messageId), 'later');
    else this.#send(errorAck(this.messageId, 500, 'later'), 'error');
  }

  deferAck(): DeferredAck {
    if (!this.#sent && !this.#deferred) {
      this.#deferred = true;
      this.#onDefer();
    }
    const fn = ((result?: unknown) => this.ack(result)) as DeferredAck;
    fn.later = () => this.later();
    return fn;
  }

  /** Ack after the chain resolved without an explicit answer. */
  autoAck(): void {
    if (this.answered) return;
    if (this.notFound) {
      // No handler for this topic: the notes define 404 for it (§S5) and the Go client sends it. An honest 404
      // beats both alternatives: a 200 would tell DingTalk the push was consumed (silent loss), and no ack at
      // all leaves it in flight until the gateway's timeout. With several connections (§S6) the gateway may try
      // one that has a handler; the counter shows the gap in `stats().acks.notFound`.
      this.#send(errorAck(this.messageId, 404, 'no handler for topic'), 'notFound');
      return;
    }
    this.ack();
  }

  /** Ack after the chain failed: EVENTs come back later, CALLBACKs get a 500. Failure wins over a deferral. */
  failAck(): void {
    if (this.#sent) return;
    if (this.type === 'EVENT') this.#send(eventLaterAck(this.messageId), 'later');
    else this.#send(errorAck(this.messageId, 500, 'handler failed'), 'error');
  }

  #sendCallback(response: unknown): void {
    let ack: AckFrame;
    try {
      ack = callbackAck(this.messageId, response);
    } catch {
      // A response JSON cannot express (BigInt, cycles) is a handler bug, reported as a client error.
      this.#send(errorAck(this.messageId, 500, 'response not serialisable'), 'error');
      return;
    }
    this.#send(ack, 'callback');
  }

  #send(ack: AckFrame, kind: AckKind): void {
    if (this.#sent) return;
    this.#sent = true;
    this.#sink(ack, kind);
  }
}
