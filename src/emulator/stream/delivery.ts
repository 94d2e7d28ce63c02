/**
 * Ack-tracked delivery for the Stream gateway (docs/dingtalk.md §S5, §S6, §S9): every EVENT/CALLBACK
 * push is held under its messageId (O(1) ack lookup) until settled, pushed to one eligible connection of its
 * app, parked while none is subscribed, and pushed again when unacked, not consumed, or orphaned by a close.
 */
import type { WebSocket } from 'ws';
import { eventConsumed, type FrameType, type ParsedAck } from './frames.js';
import type { AckLogEntry, ConnectionLogEntry, FrameLogEntry, PushReason } from './types.js';

/** One gateway WebSocket; owned by the gateway, read here to route pushes. */
export interface Conn {
  id: string;
  clientId: string;
  ws: WebSocket;
  /** `type\0topic` keys from the open call. */
  subscriptions: Set<string>;
  /** A SYSTEM disconnect was sent: no new pushes go here (§S1 step 7). */
  draining: boolean;
  closed: boolean;
  inflight: Set<string>;
  pingTimer: NodeJS.Timeout;
  ping: { messageId: string; opaque: string; timer: NodeJS.Timeout } | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  entry: ConnectionLogEntry;
}

interface Pending {
  messageId: string;
  clientId: string;
  type: FrameType;
  topic: string;
  /** The payload serialised once at push time (§S4: data is a JSON string); never re-parsed. */
  data: string;
  extraHeaders: Record<string, string>;
  eventId: string | undefined;
  redeliver: boolean;
  conn: Conn | undefined;
  timer: NodeJS.Timeout | undefined;
  originalMessageId: string | undefined;
  /** Why it was last meant to go out, kept while it waits in the backlog. */
  parkedReason: PushReason;
}

export interface PushSpec {
  clientId: string;
  type: 'EVENT' | 'CALLBACK';
  topic: string;
  data: string;
  extraHeaders: Record<string, string>;
  eventId: string | undefined;
  redeliver: boolean;
}

export interface DeliveryDeps {
  now(): number;
  random(): number;
  nextId(prefix: string): string;
  connections(clientId: string): Iterable<Conn> | undefined;
  redeliverAfterMs: number;
}

export const subKey = (type: string, topic: string): string => `${type}\u0000${topic}`;

export class Delivery {
  readonly frames: FrameLogEntry[] = [];
  redeliveries = 0;
  repushAckedRate = 0;
  readonly #deps: DeliveryDeps;
  readonly #pending = new Map<string, Pending>();
  readonly #settled = new Set<string>();
  readonly #backlog = new Map<string, Pending[]>();
  #closed = false;

  constructor(deps: DeliveryDeps) {
    this.#deps = deps;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get backlogCount(): number {
    let n = 0;
    for (const list of this.#backlog.values()) n += list.length;
    return n;
  }

  push(spec: PushSpec, originalMessageId?: string): string {
    if (this.#closed) throw new Error('StreamGateway is closed');
    const messageId = this.#deps.nextId(spec.type === 'EVENT' ? 'evt' : 'cb');
    const p: Pending = {
      ...spec,
      messageId,
      conn: undefined,
      timer: undefined,
      originalMessageId,
      parkedReason: 'first',
    };
    this.#pending.set(messageId, p);
    this.#deliver(p, originalMessageId === undefined ? 'first' : 'acked_repush');
    return messageId;
  }

  /** Applies an ack; returns its log entry, or undefined when the messageId is not one of ours. */
  ack(conn: Conn, ack: ParsedAck): AckLogEntry | undefined {
    const base = {
      at: this.#deps.now(),
      messageId: ack.messageId,
      connectionId: conn.id,
      code: ack.code,
      data: ack.data,
    };
    const p = this.#pending.get(ack.messageId);
    if (p === undefined) {
      return this.#settled.has(ack.messageId) ? { ...base, kind: 'late', consumed: false } : undefined;
    }
    const consumed = p.type === 'EVENT' ? eventConsumed(ack.code, ack.data) : true; // §S5: any callback ack
    if (consumed) this.#settle(p);
    else this.#schedule(p, 'not_consumed');
    return { ...base, kind: p.type === 'EVENT' ? 'event' : 'callback', consumed };
  }

  /** A socket closed: its unsettled frames go out again elsewhere at once (fire-and-forget ones are lost, §S9). */
  connectionClosed(conn: Conn): void {
    if (this.#closed) return;
    for (const messageId of conn.inflight) {
      const p = this.#pending.get(messageId);
      if (p === undefined || p.conn !== conn) continue;
      p.conn = undefined;
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.timer = undefined;
      if (p.redeliver) this.#deliver(p, 'connection_closed');
      else this.#pending.delete(messageId);
    }
    conn.inflight.clear();
  }

  /** A connection subscribed: parked frames for its app get another chance. */
  flush(clientId: string): void {
    const list = this.#backlog.get(clientId);
    if (list === undefined) return;
    this.#backlog.delete(clientId);
    for (const p of list) this.#deliver(p, p.parkedReason);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) if (p.timer !== undefined) clearTimeout(p.timer);
  }

  /** Sends `p` on one eligible connection (random among several, §S6), or parks it until one subscribes. */
  #deliver(p: Pending, reason: PushReason): void {
    const conn = this.#choose(
      p.clientId,
      p.type === 'EVENT' ? subKey('EVENT', '*') : subKey(p.type, p.topic),
    );
    if (conn === undefined) {
      p.parkedReason = reason;
      let list = this.#backlog.get(p.clientId);
      if (list === undefined) {
        list = [];
        this.#backlog.set(p.clientId, list);
      }
      list.push(p);
      return;
    }
    const now = this.#deps.now();
    const headers: Record<string, string> = {
      ...p.extraHeaders,
      messageId: p.messageId,
      topic: p.topic,
      contentType: 'application/json',
      time: String(now),
      connectionId: conn.id,
    };
    conn.ws.send(JSON.stringify({ specVersion: '1.0', type: p.type, headers, data: p.data }));
    conn.inflight.add(p.messageId);
    p.conn = conn;
    if (reason !== 'first' && reason !== 'acked_repush') this.redeliveries++;
    const entry: FrameLogEntry = {
      at: now,
      messageId: p.messageId,
      type: p.type,
      topic: p.topic,
      clientId: p.clientId,
      connectionId: conn.id,
      reason,
    };
    if (p.originalMessageId !== undefined) entry.originalMessageId = p.originalMessageId;
    if (p.eventId !== undefined) entry.eventId = p.eventId;
    this.frames.push(entry);
    if (p.redeliver) this.#schedule(p, 'unacked');
  }

  #schedule(p: Pending, reason: PushReason): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (p.conn !== undefined) p.conn.inflight.delete(p.messageId);
      p.conn = undefined;
      this.#deliver(p, reason);
    }, this.#deps.redeliverAfterMs);
    p.timer.unref();
  }

  #choose(clientId: string, key: string): Conn | undefined {
    const conns = this.#deps.connections(clientId);
    if (conns === undefined) return undefined;
    let chosen: Conn | undefined;
    let seen = 0;
    for (const conn of conns) {
      if (conn.draining || conn.ws.readyState !== conn.ws.OPEN || !conn.subscriptions.has(key)) continue;
      seen++;
      if (this.#deps.random() * seen < 1) chosen = conn; // reservoir sampling: uniform without an array
    }
    return chosen;
  }

  #settle(p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.conn?.inflight.delete(p.messageId);
    this.#pending.delete(p.messageId);
    this.#settled.add(p.messageId);
    if (this.repushAckedRate > 0 && !this.#closed && this.#deps.random() < this.repushAckedRate) {
      // §S9: duplicates can arrive even after an ack; a fresh messageId keeps acks unambiguous.
      const { clientId, type, topic, data, extraHeaders, eventId, redeliver } = p;
      const spec = {
        clientId,
        type: type === 'EVENT' ? 'EVENT' : 'CALLBACK',
        topic,
        data,
        extraHeaders,
        eventId,
        redeliver,
      } as const;
      this.push(spec, p.originalMessageId ?? p.messageId);
    }
  }
}
