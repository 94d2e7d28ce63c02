/**
 * The emulator's Stream-mode gateway (reference/stream-protocol.md §1–§6, §9, §13), mounted by the emulator's
 * HTTP server:
 *
 *   const gw = new StreamGateway({ authenticate: (id, secret) => apps.check(id, secret), wsBase: () => `ws://127.0.0.1:${port}` });
 *   route POST /v1.0/gateway/connections/open → const { status, body } = gw.handleOpen(parsedJsonBody)
 *   server.on('upgrade', (req, socket, head) => { if (!gw.handleUpgrade(req, socket, head)) socket.destroy(); });
 *   gw.pushEvent(appKey, { eventType: 'user_add_org', data: {...} }); gw.pushCallback(appKey, topic, data);
 *   gw.setFaults({ dropEveryMs, repushAckedRate, seed }); gw.dropAll(); gw.disconnectAll(); gw.log(); gw.stats();
 *   await gw.close();
 *
 * Delivery model: each push is held under its messageId until acked (O(1) map lookup). EVENTs (and CALLBACKs
 * when `redeliverCallbacks`) are pushed again, same messageId, when unacked after `redeliverAfterMs`, when the
 * ack is not a "consumed" one (§5), or at once on another connection when their socket closes. Timers run on
 * the real clock; `now` only stamps logs and ticket expiry.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  eventConsumed,
  type FrameType,
  MALFORMED_REASONS,
  type MalformedReason,
  parseClientFrame,
  pingOpaque,
  seededRandom,
} from './frames.js';
import { OpenCallError, parseOpenBody, v1Error } from './open-call.js';
import type {
  AckLogEntry,
  ConnectionLogEntry,
  FaultLogEntry,
  FrameLogEntry,
  OpenLogEntry,
  PushedEvent,
  PushReason,
  StreamFaults,
  StreamGatewayLog,
  StreamGatewayOptions,
  StreamGatewayStats,
} from './types.js';

interface Ticket {
  clientId: string;
  subscriptions: Set<string>;
  subscriptionList: Array<{ type: string; topic: string }>;
  ua: string;
  expiresAt: number;
  open: OpenLogEntry;
}

interface Conn {
  id: string;
  clientId: string;
  ws: WebSocket;
  subscriptions: Set<string>;
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
  /** The payload serialised once at push time (§4: data is a JSON string); never re-parsed. */
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

const subKey = (type: string, topic: string): string => `${type}\u0000${topic}`;
const BOT_TOPIC_PREFIX = '/v1.0/im/bot/messages/';

export class StreamGateway {
  readonly #opts: StreamGatewayOptions;
  readonly #now: () => number;
  #random: () => number;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #ticketTtlMs: number;
  readonly #redeliverAfterMs: number;
  readonly #redeliverCallbacks: boolean;
  readonly #graceMs: number;
  readonly #wss: WebSocketServer;
  readonly #tag = randomBytes(4).toString('hex');
  #seq = 0;
  #closed = false;
  readonly #tickets = new Map<string, Ticket>();
  readonly #apps = new Map<string, Set<Conn>>();
  readonly #pending = new Map<string, Pending>();
  readonly #settled = new Set<string>();
  readonly #backlog = new Map<string, Pending[]>();
  #dropTimer: NodeJS.Timeout | undefined;
  #repushAckedRate = 0;
  readonly #frames: FrameLogEntry[] = [];
  readonly #acks: AckLogEntry[] = [];
  readonly #connections: ConnectionLogEntry[] = [];
  readonly #opens: OpenLogEntry[] = [];
  readonly #faults: FaultLogEntry[] = [];
  readonly #malformed = Object.fromEntries(MALFORMED_REASONS.map((r) => [r, 0])) as Record<
    MalformedReason,
    number
  >;
  #redeliveries = 0;
  #pings = 0;

  constructor(opts: StreamGatewayOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#pingIntervalMs = opts.pingIntervalMs ?? 30_000;
    this.#pingTimeoutMs = opts.pingTimeoutMs ?? 10_000;
    this.#ticketTtlMs = opts.ticketTtlMs ?? 90_000;
    this.#redeliverAfterMs = opts.redeliverAfterMs ?? 60_000;
    this.#redeliverCallbacks = opts.redeliverCallbacks ?? false;
    this.#graceMs = opts.disconnectGraceMs ?? 10_000;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxClientFrameBytes ?? 1_048_576 });
  }

  /** POST /v1.0/gateway/connections/open (§2, §3). */
  handleOpen(body: unknown): { status: number; body: unknown } {
    const at = this.#now();
    try {
      const req = parseOpenBody(body, this.#opts.authenticate);
      const ticket = randomBytes(24).toString('base64url'); // URL-safe: Node and Go append it unencoded (§3)
      const open: OpenLogEntry = { at, clientId: req.clientId, status: 200, ticket, ticketUsedAt: undefined };
      this.#opens.push(open);
      this.#sweepTickets(at);
      this.#tickets.set(ticket, {
        clientId: req.clientId,
        subscriptions: new Set(req.subscriptions.map((s) => subKey(s.type, s.topic))),
        subscriptionList: req.subscriptions,
        ua: req.ua,
        expiresAt: at + this.#ticketTtlMs,
        open,
      });
      return { status: 200, body: { endpoint: `${this.#opts.wsBase()}/connect`, ticket } };
    } catch (err) {
      if (!(err instanceof OpenCallError)) throw err;
      this.#opens.push({
        at,
        clientId: err.clientId,
        status: err.status,
        ticket: undefined,
        ticketUsedAt: undefined,
      });
      return { status: err.status, body: v1Error(err.code, err.message) };
    }
  }

  /** http.Server 'upgrade' handler for /connect?ticket=… (§3, §13). False when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname !== '/connect') return false;
    const ticketValue = url.searchParams.get('ticket') ?? '';
    const ticket = this.#tickets.get(ticketValue);
    const at = this.#now();
    if (this.#closed || ticket === undefined || ticket.expiresAt <= at) {
      const detail = this.#closed
        ? 'gateway closed'
        : ticket === undefined
          ? 'unknown or used ticket'
          : 'expired ticket';
      this.#tickets.delete(ticketValue);
      this.#faults.push({ at, kind: 'ticket_refused', connectionId: undefined, detail });
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return true;
    }
    this.#tickets.delete(ticketValue); // single use (§1 step 3)
    ticket.open.ticketUsedAt = at;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, ticket));
    return true;
  }

  pushEvent(clientId: string, event: PushedEvent): string {
    const now = this.#now();
    const eventId = event.eventId ?? randomUUID().replaceAll('-', '');
    const extraHeaders = {
      eventType: event.eventType,
      eventId,
      eventBornTime: String(event.bornTime ?? now),
      eventCorpId: event.corpId ?? '',
      eventUnifiedAppId: event.unifiedAppId ?? clientId,
    };
    // §6: EVENT frames carry topic `*`, the only topic clients can subscribe events with.
    return this.#push(
      clientId,
      'EVENT',
      '*',
      JSON.stringify(event.data),
      extraHeaders,
      eventId,
      true,
      undefined,
    );
  }

  pushCallback(clientId: string, topic: string, data: unknown): string {
    // §9: bot messages are fire-and-forget unless configured; other callbacks (cards) expect an answer.
    const redeliver = topic.startsWith(BOT_TOPIC_PREFIX) ? this.#redeliverCallbacks : true;
    const headers = { appId: clientId };
    return this.#push(
      clientId,
      'CALLBACK',
      topic,
      JSON.stringify(data),
      headers,
      undefined,
      redeliver,
      undefined,
    );
  }

  setFaults(f: StreamFaults): void {
    if (f.seed !== undefined) this.#random = seededRandom(f.seed);
    this.#repushAckedRate = f.repushAckedRate ?? 0;
    if (this.#dropTimer !== undefined) clearInterval(this.#dropTimer);
    this.#dropTimer = undefined;
    if (f.dropEveryMs !== undefined && f.dropEveryMs > 0 && !this.#closed) {
      this.#dropTimer = setInterval(() => this.dropAll(), f.dropEveryMs);
      this.#dropTimer.unref();
    }
  }

  /** Terminates sockets without a SYSTEM disconnect (a network drop). Returns how many. */
  dropAll(clientId?: string): number {
    let n = 0;
    for (const conn of this.#openConns(clientId)) {
      this.#faults.push({ at: this.#now(), kind: 'drop', connectionId: conn.id, detail: undefined });
      conn.ws.terminate();
      n++;
    }
    return n;
  }

  /** Sends SYSTEM disconnect, then closes each socket after the grace period (§1 step 7; Node never closes). */
  disconnectAll(clientId?: string, reason = 'rotation'): number {
    let n = 0;
    for (const conn of this.#openConns(clientId)) {
      if (conn.draining) continue;
      conn.draining = true;
      this.#faults.push({ at: this.#now(), kind: 'disconnect', connectionId: conn.id, detail: reason });
      this.#sendSystem(conn, 'disconnect', JSON.stringify({ reason }));
      conn.graceTimer = setTimeout(() => {
        this.#faults.push({
          at: this.#now(),
          kind: 'close_after_disconnect',
          connectionId: conn.id,
          detail: undefined,
        });
        conn.ws.terminate();
      }, this.#graceMs);
      conn.graceTimer.unref();
      n++;
    }
    return n;
  }

  log(): StreamGatewayLog {
    return {
      frames: [...this.#frames],
      acks: [...this.#acks],
      connections: this.#connections.map((c) => ({ ...c })),
      opens: this.#opens.map((o) => ({ ...o })),
      faults: [...this.#faults],
    };
  }

  stats(): StreamGatewayStats {
    let backlog = 0;
    for (const list of this.#backlog.values()) backlog += list.length;
    return {
      framesPushed: this.#frames.length,
      redeliveries: this.#redeliveries,
      acks: this.#acks.length,
      pendingFrames: this.#pending.size,
      backlog,
      openConnections: this.#openConns(undefined).length,
      pings: this.#pings,
      malformed: { ...this.#malformed },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#dropTimer !== undefined) clearInterval(this.#dropTimer);
    this.#dropTimer = undefined;
    for (const p of this.#pending.values()) if (p.timer !== undefined) clearTimeout(p.timer);
    const waits: Promise<void>[] = [];
    for (const conn of this.#openConns(undefined)) {
      waits.push(new Promise((resolve) => conn.ws.once('close', () => resolve())));
      conn.ws.terminate();
    }
    await Promise.all(waits);
    this.#tickets.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #openConns(clientId: string | undefined): Conn[] {
    const out: Conn[] = [];
    const sets =
      clientId === undefined ? [...this.#apps.values()] : [this.#apps.get(clientId) ?? new Set<Conn>()];
    for (const set of sets) for (const conn of set) if (!conn.closed) out.push(conn);
    return out;
  }

  #sweepTickets(at: number): void {
    if (this.#tickets.size < 1024) return;
    for (const [key, t] of this.#tickets) if (t.expiresAt <= at) this.#tickets.delete(key);
  }

  #nextId(prefix: string): string {
    this.#seq++;
    return `${prefix}_${this.#tag}_${this.#seq.toString(36)}`;
  }

  #attach(ws: WebSocket, ticket: Ticket): void {
    const id = this.#nextId('conn');
    const entry: ConnectionLogEntry = {
      connectionId: id,
      clientId: ticket.clientId,
      ua: ticket.ua,
      subscriptions: ticket.subscriptionList,
      openedAt: this.#now(),
      closedAt: undefined,
      closeReason: undefined,
    };
    this.#connections.push(entry);
    const pingTimer = setInterval(() => this.#ping(conn), this.#pingIntervalMs);
    pingTimer.unref();
    const conn: Conn = {
      id,
      clientId: ticket.clientId,
      ws,
      subscriptions: ticket.subscriptions,
      draining: false,
      closed: false,
      inflight: new Set(),
      pingTimer,
      ping: undefined,
      graceTimer: undefined,
      entry,
    };
    let set = this.#apps.get(conn.clientId);
    if (set === undefined) {
      set = new Set();
      this.#apps.set(conn.clientId, set);
    }
    set.add(conn);
    ws.on('message', (data, isBinary) => this.#onMessage(conn, data, isBinary));
    ws.on('error', () => {
      // ws closes the socket after an error (e.g. maxPayload exceeded); 'close' does the bookkeeping.
    });
    ws.on('close', (code, reason) => this.#onClose(conn, `${code} ${reason.toString()}`.trim()));
    this.#flushBacklog(conn.clientId);
  }

  #onMessage(conn: Conn, raw: unknown, isBinary: boolean): void {
    if (isBinary) {
      this.#malformed.binary++;
      return;
    }
    const text = Array.isArray(raw) ? Buffer.concat(raw as Buffer[]).toString('utf8') : String(raw);
    const ack = parseClientFrame(text);
    if (typeof ack === 'string') {
      this.#malformed[ack]++;
      return;
    }
    const at = this.#now();
    const p = this.#pending.get(ack.messageId);
    if (p !== undefined) {
      const consumed = p.type === 'EVENT' ? eventConsumed(ack.code, ack.data) : true;
      const kind = p.type === 'EVENT' ? 'event' : 'callback';
      this.#acks.push({
        at,
        messageId: ack.messageId,
        connectionId: conn.id,
        code: ack.code,
        data: ack.data,
        kind,
        consumed,
      });
      if (consumed) this.#settle(p);
      else this.#schedule(p, 'not_consumed');
      return;
    }
    if (conn.ping !== undefined && conn.ping.messageId === ack.messageId) {
      if (pingOpaque(ack.data) !== conn.ping.opaque) {
        this.#malformed.bad_ping_echo++;
        return;
      }
      clearTimeout(conn.ping.timer);
      conn.ping = undefined;
      this.#acks.push({
        at,
        messageId: ack.messageId,
        connectionId: conn.id,
        code: ack.code,
        data: ack.data,
        kind: 'ping',
        consumed: true,
      });
      return;
    }
    if (this.#settled.has(ack.messageId)) {
      this.#acks.push({
        at,
        messageId: ack.messageId,
        connectionId: conn.id,
        code: ack.code,
        data: ack.data,
        kind: 'late',
        consumed: false,
      });
      return;
    }
    this.#malformed.unknown_message_id++;
  }

  #onClose(conn: Conn, reason: string): void {
    conn.closed = true;
    conn.entry.closedAt = this.#now();
    conn.entry.closeReason = reason;
    clearInterval(conn.pingTimer);
    if (conn.ping !== undefined) clearTimeout(conn.ping.timer);
    if (conn.graceTimer !== undefined) clearTimeout(conn.graceTimer);
    this.#apps.get(conn.clientId)?.delete(conn);
    if (this.#closed) return;
    for (const messageId of conn.inflight) {
      const p = this.#pending.get(messageId);
      if (p === undefined || p.conn !== conn) continue;
      p.conn = undefined;
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.timer = undefined;
      if (p.redeliver) this.#deliver(p, 'connection_closed');
      else this.#pending.delete(messageId); // fire-and-forget callback: lost with its socket (§9)
    }
    conn.inflight.clear();
  }

  #ping(conn: Conn): void {
    if (conn.closed || conn.ping !== undefined) return;
    const opaque = randomUUID();
    const messageId = this.#sendSystem(conn, 'ping', JSON.stringify({ opaque }));
    this.#pings++;
    const timer = setTimeout(() => {
      this.#faults.push({ at: this.#now(), kind: 'ping_timeout', connectionId: conn.id, detail: undefined });
      conn.ws.terminate();
    }, this.#pingTimeoutMs);
    timer.unref();
    conn.ping = { messageId, opaque, timer };
  }

  #sendSystem(conn: Conn, topic: string, data: string): string {
    const messageId = this.#nextId('sys');
    const headers = {
      messageId,
      topic,
      contentType: 'application/json',
      time: String(this.#now()),
      connectionId: conn.id,
    };
    conn.ws.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers, data }));
    return messageId;
  }

  #push(
    clientId: string,
    type: FrameType,
    topic: string,
    data: string,
    extraHeaders: Record<string, string>,
    eventId: string | undefined,
    redeliver: boolean,
    originalMessageId: string | undefined,
  ): string {
    if (this.#closed) throw new Error('StreamGateway is closed');
    const messageId = this.#nextId(type === 'EVENT' ? 'evt' : 'cb');
    const p: Pending = {
      messageId,
      clientId,
      type,
      topic,
      data,
      extraHeaders,
      eventId,
      redeliver,
      conn: undefined,
      timer: undefined,
      originalMessageId,
      parkedReason: 'first',
    };
    this.#pending.set(messageId, p);
    this.#deliver(p, originalMessageId === undefined ? 'first' : 'acked_repush');
    return messageId;
  }

  /** Sends `p` on one eligible connection (random among several, §6), or parks it until one subscribes. */
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
    const now = this.#now();
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
    if (reason !== 'first' && reason !== 'acked_repush') this.#redeliveries++;
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
    this.#frames.push(entry);
    if (p.redeliver) this.#schedule(p, 'unacked');
  }

  #schedule(p: Pending, reason: PushReason): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (p.conn !== undefined) p.conn.inflight.delete(p.messageId);
      this.#deliver(p, reason);
    }, this.#redeliverAfterMs);
    p.timer.unref();
  }

  #choose(clientId: string, key: string): Conn | undefined {
    const set = this.#apps.get(clientId);
    if (set === undefined) return undefined;
    let chosen: Conn | undefined;
    let seen = 0;
    for (const conn of set) {
      if (conn.closed || conn.draining || !conn.subscriptions.has(key)) continue;
      seen++;
      if (this.#random() * seen < 1) chosen = conn; // reservoir sampling: uniform without an array
    }
    return chosen;
  }

  #settle(p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.conn?.inflight.delete(p.messageId);
    this.#pending.delete(p.messageId);
    this.#settled.add(p.messageId);
    if (this.#repushAckedRate > 0 && !this.#closed && this.#random() < this.#repushAckedRate) {
      // §9: duplicates can arrive even after an ack; a fresh messageId keeps acks unambiguous.
      this.#push(
        p.clientId,
        p.type,
        p.topic,
        p.data,
        p.extraHeaders,
        p.eventId,
        p.redeliver,
        p.originalMessageId ?? p.messageId,
      );
    }
  }

  #flushBacklog(clientId: string): void {
    const list = this.#backlog.get(clientId);
    if (list === undefined) return;
    this.#backlog.delete(clientId);
    for (const p of list) this.#deliver(p, p.parkedReason);
  }
}
