/**
 * The emulator's Stream-mode gateway (docs/dingtalk.md §S1–§S6, §S9, §S13), mounted by the emulator's
 * HTTP server:
 *
 *   const gw = new StreamGateway({ authenticate: (id, secret) => apps.check(id, secret), wsBase: () => `ws://127.0.0.1:${port}` });
 *   route POST /v1.0/gateway/connections/open → const { status, body } = gw.handleOpen(parsedJsonBody)
 *   server.on('upgrade', (req, socket, head) => { if (!gw.handleUpgrade(req, socket, head)) socket.destroy(); });
 *   gw.pushEvent(appKey, { eventType: 'user_add_org', data: {...} }); gw.pushCallback(appKey, topic, data);
 *   gw.setFaults({ dropEveryMs, repushAckedRate, refuseUpgrades, closeAfterOpen, seed }); gw.dropAll(); gw.disconnectAll(); gw.log(); gw.stats();
 *   await gw.close();
 *
 * handleOpen takes the already-parsed JSON body (undefined when it did not parse → 400). A path other than
 * /connect makes handleUpgrade return false so the host can serve or destroy it. Bad, reused or expired
 * tickets get an HTTP 401 on the upgrade (the production status is undocumented).
 *
 * Delivery model (delivery.ts): each push is held under its messageId until acked (O(1) map lookup). EVENTs,
 * card callbacks, and bot-message CALLBACKs when `redeliverCallbacks`, are pushed again, same messageId, when
 * unacked after `redeliverAfterMs`, when the ack is not a "consumed" one (§S5), or at once on another connection
 * when their socket closes. Timers run on the real clock; `now` only stamps logs, frame `time` headers and
 * ticket expiry. Logs grow for the gateway's lifetime: one gateway per test run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Conn, Delivery, subKey } from './delivery.js';
import {
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
  OpenLogEntry,
  PushedEvent,
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

const BOT_TOPIC_PREFIX = '/v1.0/im/bot/messages/';

export class StreamGateway {
  readonly #opts: StreamGatewayOptions;
  readonly #now: () => number;
  #random: () => number;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #ticketTtlMs: number;
  readonly #redeliverCallbacks: boolean;
  readonly #graceMs: number;
  readonly #wss: WebSocketServer;
  readonly #tag = randomBytes(4).toString('hex');
  #seq = 0;
  #closed = false;
  readonly #tickets = new Map<string, Ticket>();
  readonly #apps = new Map<string, Set<Conn>>();
  #dropTimer: NodeJS.Timeout | undefined;
  #refuseUpgrades = false;
  #closeAfterOpen = false;
  readonly #delivery: Delivery;
  readonly #acks: AckLogEntry[] = [];
  readonly #connections: ConnectionLogEntry[] = [];
  readonly #opens: OpenLogEntry[] = [];
  readonly #faults: FaultLogEntry[] = [];
  readonly #malformed = Object.fromEntries(MALFORMED_REASONS.map((r) => [r, 0])) as Record<
    MalformedReason,
    number
  >;
  #pings = 0;

  constructor(opts: StreamGatewayOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#pingIntervalMs = opts.pingIntervalMs ?? 30_000;
    this.#pingTimeoutMs = opts.pingTimeoutMs ?? 10_000;
    this.#ticketTtlMs = opts.ticketTtlMs ?? 90_000;
    this.#redeliverCallbacks = opts.redeliverCallbacks ?? false;
    this.#graceMs = opts.disconnectGraceMs ?? 10_000;
    this.#delivery = new Delivery({
      now: this.#now,
      random: () => this.#random(),
      nextId: (prefix) => this.#nextId(prefix),
      connections: (clientId) => this.#apps.get(clientId),
      redeliverAfterMs: opts.redeliverAfterMs ?? 60_000,
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxClientFrameBytes ?? 1_048_576 });
  }

  /** POST /v1.0/gateway/connections/open (§S2, §S3). */
  handleOpen(body: unknown): { status: number; body: unknown } {
    const at = this.#now();
    try {
      const req = parseOpenBody(body, this.#opts.authenticate);
      const ticket = randomBytes(24).toString('base64url'); // URL-safe: Node and Go append it unencoded (§S3)
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

  /** http.Server 'upgrade' handler for /connect?ticket=… (§S3, §S13). False when the path is not ours. */
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
    this.#tickets.delete(ticketValue); // single use (§S1 step 3)
    ticket.open.ticketUsedAt = at;
    if (this.#refuseUpgrades) {
      this.#faults.push({ at, kind: 'upgrade_refused', connectionId: undefined, detail: ticket.clientId });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return true;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closeAfterOpen || this.#closed) {
        this.#faults.push({
          at: this.#now(),
          kind: 'close_after_open',
          connectionId: undefined,
          detail: ticket.clientId,
        });
        ws.terminate();
        return;
      }
      this.#attach(ws, ticket);
    });
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
    // §S6: EVENT frames carry topic `*`, the only topic clients can subscribe events with.
    const data = JSON.stringify(event.data);
    return this.#delivery.push({
      clientId,
      type: 'EVENT',
      topic: '*',
      data,
      extraHeaders,
      eventId,
      redeliver: true,
    });
  }

  pushCallback(clientId: string, topic: string, data: unknown): string {
    // §S9: bot messages are fire-and-forget unless configured; other callbacks (cards) expect an answer.
    const redeliver = topic.startsWith(BOT_TOPIC_PREFIX) ? this.#redeliverCallbacks : true;
    const extraHeaders = { appId: clientId };
    return this.#delivery.push({
      clientId,
      type: 'CALLBACK',
      topic,
      data: JSON.stringify(data),
      extraHeaders,
      eventId: undefined,
      redeliver,
    });
  }

  setFaults(f: StreamFaults): void {
    if (f.seed !== undefined) this.#random = seededRandom(f.seed);
    this.#delivery.repushAckedRate = f.repushAckedRate ?? 0;
    this.#refuseUpgrades = f.refuseUpgrades ?? false;
    this.#closeAfterOpen = f.closeAfterOpen ?? false;
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

  /** Sends SYSTEM disconnect, then closes each socket after the grace period (§S1 step 7; Node never closes). */
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
      frames: [...this.#delivery.frames],
      acks: [...this.#acks],
      connections: this.#connections.map((c) => ({ ...c })),
      opens: this.#opens.map((o) => ({ ...o })),
      faults: [...this.#faults],
    };
  }

  stats(): StreamGatewayStats {
    return {
      framesPushed: this.#delivery.frames.length,
      redeliveries: this.#delivery.redeliveries,
      acks: this.#acks.length,
      pendingFrames: this.#delivery.pendingCount,
      backlog: this.#delivery.backlogCount,
      openConnections: this.#openConns(undefined).length,
      pings: this.#pings,
      malformed: { ...this.#malformed },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#dropTimer !== undefined) clearInterval(this.#dropTimer);
    this.#dropTimer = undefined;
    this.#delivery.close();
    const waits: Promise<void>[] = [];
    for (const conn of this.#openConns(undefined, false)) {
      waits.push(new Promise((resolve) => conn.ws.once('close', () => resolve())));
      conn.ws.terminate();
    }
    await Promise.all(waits);
    this.#tickets.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  /** Connections not yet closed; `onlyOpen` also skips sockets already terminating (their 'close' is pending). */
  #openConns(clientId: string | undefined, onlyOpen = true): Conn[] {
    const out: Conn[] = [];
    const sets =
      clientId === undefined ? [...this.#apps.values()] : [this.#apps.get(clientId) ?? new Set<Conn>()];
    for (const set of sets) {
      for (const conn of set)
        if (!conn.closed && (!onlyOpen || conn.ws.readyState === conn.ws.OPEN)) out.push(conn);
    }
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
    this.#delivery.flush(conn.clientId);
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
    const entry = this.#delivery.ack(conn, ack);
    if (entry !== undefined) {
      this.#acks.push(entry);
      return;
    }
    if (conn.ping !== undefined && conn.ping.messageId === ack.messageId) {
      if (pingOpaque(ack.data) !== conn.ping.opaque) {
        this.#malformed.bad_ping_echo++;
        return;
      }
      clearTimeout(conn.ping.timer);
      conn.ping = undefined;
      const { messageId, code, data } = ack;
      this.#acks.push({
        at: this.#now(),
        messageId,
        connectionId: conn.id,
        code,
        data,
        kind: 'ping',
        consumed: true,
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
    this.#delivery.connectionClosed(conn);
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
}
