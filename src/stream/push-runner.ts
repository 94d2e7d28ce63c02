/**
 * Runs EVENT and CALLBACK pushes through the middleware chain with bounded concurrency, and sends each push's one
 * ack on the socket that owes it. SYSTEM frames never come here: pings are answered inline by the client, so they
 * never wait behind handlers.
 */

import type { StreamSocket } from './connection.js';
import { type AckKind, PushContext } from './context.js';
import { decodeData, errorAck, eventLaterAck, type MalformedReason } from './frame.js';
import type { StreamStats } from './stats.js';
import type { AckFrame, StreamFrame } from './types.js';

type PushFrame = StreamFrame & { type: 'EVENT' | 'CALLBACK'; messageId: string };

interface InFlight {
  /** The socket the ack goes to: the latest one that pushed this messageId and is still usable. */
  socket: StreamSocket;
}

interface PushRunnerDeps {
  maxConcurrency: number;
  maxQueued: number;
  /** Bytes of frame data the waiting CALLBACKs may hold together. */
  maxQueuedBytes: number;
  stats: StreamStats;
  now: () => number;
  chain: () => (ctx: PushContext) => Promise<void>;
  countMalformed: (reason: MalformedReason) => void;
  onHandlerError: (err: unknown, ctx: PushContext) => void;
}

export class PushRunner {
  readonly #d: PushRunnerDeps;
  #running = 0;
  readonly #queue: Array<{ entry: InFlight; frame: PushFrame; data: unknown; bytes: number }> = [];
  /** Frame bytes held by the queue (its data as received: what it costs in memory, give or take the decode). */
  #queuedBytes = 0;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(deps: PushRunnerDeps) {
    this.#d = deps;
  }

  handle(socket: StreamSocket, frame: PushFrame): void {
    const stats = this.#d.stats;
    const decoded = decodeData(frame.data);
    if (!decoded.ok) {
      // Counted, answered with a client error so the gateway knows, and never handed to user code.
      this.#d.countMalformed('bad_data_json');
      this.#write(socket, errorAck(frame.messageId, 400, 'data is not JSON'), 'error');
      return;
    }
    const existing = this.#inFlight.get(frame.messageId);
    if (existing) {
      // The gateway re-pushed a message we are still handling (its ack timeout is about 60 s, docs/dingtalk.md §S9): running it a
      // second time concurrently would double its effect. If the first socket is gone or being replaced, the ack
      // moves to this one, which is where the gateway now expects it.
      stats.duplicatesInFlight++;
      if (existing.socket !== socket && (existing.socket.isClosed || existing.socket.draining)) {
        socket.retain();
        existing.socket.release();
        existing.socket = socket;
      }
      return;
    }
    if (this.#running >= this.#d.maxConcurrency) {
      if (frame.type === 'EVENT') {
        // Back-pressure without loss: LATER makes DingTalk push it again.
        this.#write(socket, eventLaterAck(frame.messageId), 'busy');
        return;
      }
      // Robot messages may never be re-pushed (§S9: fire-and-forget per the notes), so they wait for a slot: a
      // burst of chat is held in memory, bounded by count and by bytes, rather than refused.
      const bytes = frame.data.length;
      if (this.#queue.length >= this.#d.maxQueued || this.#queuedBytes + bytes > this.#d.maxQueuedBytes) {
        this.#write(socket, errorAck(frame.messageId, 503, 'busy'), 'busy');
        return;
      }
      const entry = this.#claim(socket, frame.messageId);
      this.#queuedBytes += bytes;
      this.#queue.push({ entry, frame, data: decoded.value, bytes });
      stats.queued = this.#queue.length;
      return;
    }
    void this.#run(this.#claim(socket, frame.messageId), frame, decoded.value);
  }

  /** Forgets queued pushes (on stop); their acks are never sent, so the gateway keeps them. */
  clearQueue(): void {
    this.#queuedBytes = 0;
    for (const q of this.#queue.splice(0)) {
      this.#inFlight.delete(q.frame.messageId);
      q.entry.socket.release();
    }
    this.#d.stats.queued = 0;
  }

  #claim(socket: StreamSocket, messageId: string): InFlight {
    const entry: InFlight = { socket };
    this.#inFlight.set(messageId, entry);
    socket.retain();
    return entry;
  }

  async #run(entry: InFlight, frame: PushFrame, data: unknown): Promise<void> {
    const stats = this.#d.stats;
    this.#running++;
    stats.inFlight = this.#running;
    const ctx: PushContext = new PushContext(
      frame,
      data,
      { connectionId: entry.socket.id, receivedAt: this.#d.now() },
      (ack, kind) => {
        if (ctx.deferred) stats.deferred--;
        this.#settle(entry, frame.messageId, ack, kind);
      },
      () => {
        stats.deferred++;
      },
    );
    try {
      await this.#d.chain()(ctx);
      ctx.autoAck();
    } catch (e) {
      stats.handlerErrors++;
      this.#d.onHandlerError(e, ctx);
      ctx.failAck();
    } finally {
      this.#running--;
      stats.inFlight = this.#running;
      this.#pump();
    }
  }

  #pump(): void {
    while (this.#running < this.#d.maxConcurrency) {
      const next = this.#queue.shift();
      if (!next) break;
      this.#queuedBytes -= next.bytes;
      this.#d.stats.queued = this.#queue.length;
      void this.#run(next.entry, next.frame, next.data);
    }
  }

  #settle(entry: InFlight, messageId: string, ack: AckFrame, kind: AckKind): void {
    if (this.#inFlight.get(messageId) === entry) this.#inFlight.delete(messageId);
    this.#write(entry.socket, ack, kind);
    entry.socket.release();
  }

  #write(socket: StreamSocket, ack: AckFrame, kind: AckKind): void {
    if (socket.send(ack)) this.#d.stats.acks[kind]++;
    else this.#d.stats.acks.dropped++;
  }
}
