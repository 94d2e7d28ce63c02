/**
 * A minimal Stream gateway for the Stream client's own tests (the full emulator lives in src/emulator/stream). It
 * speaks the server side of docs/dingtalk.md §S1–§S5 on 127.0.0.1 port 0: the open call, single-use tickets,
 * pushes, ack recording, SYSTEM ping/disconnect, plus faults (refused open calls, refused handshakes,
 * close-after-open, blackholed sockets) and a session-webhook endpoint for reply tests. It lives under test/ so it
 * never ships in dist: users testing against dingkit have the emulator (`dingkit/emulator`).
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface OpenCallRecord {
  at: number;
  body: Record<string, unknown>;
  ticket: string | undefined;
}

export interface GatewayConn {
  id: number;
  ticket: string;
  ws: WebSocket;
  openedAt: number;
  closedAt: number | undefined;
  /** Every JSON message the client sent on this socket (acks). */
  received: Array<{ at: number; msg: Record<string, unknown> }>;
  pings: number;
  /** Close code as seen by the gateway (1000 when the client closed it cleanly). */
  closeCode: number | undefined;
  /** Set by `blackhole()`: nothing is read from or written to this socket any more. */
  blackholed: boolean;
  /** EVENT/CALLBACK frames pushed on this socket and not acked yet (messageId → frame text). */
  outstanding: Map<string, string>;
}

export interface AckRecord {
  at: number;
  connId: number;
  ack: { code: number; headers: Record<string, string>; message: string; data: string };
}

export interface FakeGatewayOptions {
  /** Answer of the open call; default 200 with a fresh ticket. */
  openAnswer?: (n: number) => { status: number; body: unknown } | undefined;
  /** Refuse the WebSocket handshake (HTTP 403) for this connection attempt. */
  refuseHandshake?: (n: number) => boolean;
  /** Close the socket right after it opened. */
  closeAfterOpen?: (n: number) => boolean;
  /** Send SYSTEM `disconnect` right after the socket opened, and leave the socket open (a hostile or broken gateway). */
  disconnectAfterOpen?: (n: number) => boolean;
  /**
   * Re-push, on the next socket, frames not acked on a socket that closed, and hold pushes made while no socket is
   * open (the gateway's redelivery, docs/dingtalk.md §S9).
   * @default true
   */
  redeliver?: boolean;
  /** Session webhook answer; default `{errcode:0, errmsg:'ok'}`. */
  sessionAnswer?: (session: string, body: unknown) => { status: number; body: unknown };
}

export class FakeGateway {
  readonly #o: FakeGatewayOptions;
  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #tickets = new Set<string>();
  readonly #rawSockets = new Set<Socket>();
  readonly openCalls: OpenCallRecord[] = [];
  readonly conns: GatewayConn[] = [];
  readonly acks: AckRecord[] = [];
  readonly sessionPosts: Array<{ session: string; body: unknown }> = [];
  /** Handshakes seen, including refused ones and reused tickets. */
  readonly handshakes: Array<{ at: number; ticket: string; accepted: boolean }> = [];
  #open = 0;
  maxOpen = 0;
  #seq = 0;
  #waiters = new Set<() => void>();
  /** Frames waiting for a socket (pushed during a gap, or unacked on a closed one). */
  readonly #pending: string[] = [];
  port = 0;

  constructor(options: FakeGatewayOptions = {}) {
    this.#o = options;
    this.#http = createServer((req, res) => void this.#onHttp(req, res));
    this.#http.on('connection', (s) => {
      this.#rawSockets.add(s);
      // Resets from clients that terminate are expected here.
      s.on('error', () => {});
      s.on('close', () => this.#rawSockets.delete(s));
    });
    this.#http.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket as Socket, head));
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sockets open right now. */
  get openCount(): number {
    return this.#open;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#http.listen(0, '127.0.0.1', r));
    this.port = (this.#http.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    for (const s of this.#rawSockets) s.destroy();
    this.#wss.close();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  /** The newest socket still open. */
  latest(): GatewayConn | undefined {
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const c = this.conns[i]!;
      if (c.closedAt === undefined) return c;
    }
    return undefined;
  }

  /**
   * Sends one frame on `conn` (default: the newest open socket); returns its messageId. With no open socket (or a
   * blackholed one) the frame is held and sent on the next socket, like the gateway's redelivery.
   */
  push(
    type: 'SYSTEM' | 'EVENT' | 'CALLBACK',
    topic: string,
    data: unknown,
    opts: { conn?: GatewayConn; headers?: Record<string, string>; messageId?: string } = {},
  ): string {
    const conn = opts.conn ?? this.latest();
    const messageId = opts.messageId ?? `msg_${++this.#seq}_${randomUUID().slice(0, 8)}`;
    const frame = JSON.stringify({
      specVersion: '1.0',
      type,
      headers: {
        messageId,
        topic,
        contentType: 'application/json',
        time: String(Date.now()),
        ...opts.headers,
      },
      data: typeof data === 'string' ? data : JSON.stringify(data),
    });
    if (type === 'SYSTEM') {
      if (!conn) throw new Error('no open connection');
      if (!conn.blackholed) conn.ws.send(frame);
      return messageId;
    }
    if (!conn || conn.closedAt !== undefined) {
      if (this.#o.redeliver === false) throw new Error('no open connection');
      this.#pending.push(frame);
      return messageId;
    }
    conn.outstanding.set(messageId, frame);
    if (!conn.blackholed) conn.ws.send(frame);
    return messageId;
  }

  pushEvent(data: unknown, opts: { conn?: GatewayConn; eventType?: string; eventId?: string } = {}): string {
    const eventId = opts.eventId ?? randomUUID();
    return this.push('EVENT', '*', data, {
      ...(opts.conn ? { conn: opts.conn } : {}),
      headers: {
        eventType: opts.eventType ?? 'chat_update_title',
        eventId,
        eventCorpId: 'dingcorp',
        eventBornTime: String(Date.now()),
        eventUnifiedAppId: 'app-1',
      },
    });
  }

  ping(conn?: GatewayConn): string {
    return this.push('SYSTEM', 'ping', { opaque: randomUUID() }, conn ? { conn } : {});
  }

  disconnect(conn?: GatewayConn): void {
    const c = conn ?? this.latest();
    if (!c) throw new Error('no open connection');
    c.ws.send(
      JSON.stringify({
        specVersion: '1.0',
        type: 'SYSTEM',
        headers: { topic: 'disconnect', contentType: 'application/json', time: String(Date.now()) },
        data: JSON.stringify({ reason: 'rotation' }),
      }),
    );
  }

  sendRaw(data: string | Buffer, opts: { conn?: GatewayConn; binary?: boolean } = {}): void {
    const c = opts.conn ?? this.latest();
    if (!c) throw new Error('no open connection');
    c.ws.send(data, { binary: opts.binary ?? false });
  }

  /** Half-open: stop reading (so pings get no pong) and stop sending, without a FIN. */
  blackhole(conn?: GatewayConn): void {
    const c = conn ?? this.latest();
    if (!c) throw new Error('no open connection');
    c.blackholed = true;
    (c.ws as unknown as { _socket: Socket })._socket.pause();
  }

  /** Drops every socket without a close frame (as a network failure would). */
  dropAll(): void {
    for (const c of this.conns) if (c.closedAt === undefined) c.ws.terminate();
  }

  acksFor(messageId: string): AckRecord[] {
    return this.acks.filter((a) => a.ack.headers['messageId'] === messageId);
  }

  /** Resolves when `pred()` holds; rejects after `timeoutMs`. Re-checked on every gateway event. */
  waitFor(pred: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  waitForAck(messageId: string, timeoutMs = 2_000): Promise<AckRecord> {
    return this.waitFor(() => this.acksFor(messageId).length > 0, timeoutMs, `ack of ${messageId}`).then(
      () => this.acksFor(messageId)[0]!,
    );
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  async #onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const url = new URL(req.url ?? '/', this.base);
    if (req.method === 'POST' && url.pathname === '/v1.0/gateway/connections/open') {
      const n = this.openCalls.length;
      const custom = this.#o.openAnswer?.(n);
      const record: OpenCallRecord = {
        at: Date.now(),
        body: (body ?? {}) as Record<string, unknown>,
        ticket: undefined,
      };
      this.openCalls.push(record);
      this.#notify();
      if (custom) return send(res, custom.status, custom.body);
      const ticket = randomUUID();
      record.ticket = ticket;
      this.#tickets.add(ticket);
      return send(res, 200, { endpoint: `ws://127.0.0.1:${this.port}/connect`, ticket });
    }
    if (req.method === 'POST' && url.pathname === '/robot/sendBySession') {
      const session = url.searchParams.get('session') ?? '';
      this.sessionPosts.push({ session, body });
      this.#notify();
      const answer = this.#o.sessionAnswer?.(session, body) ?? {
        status: 200,
        body: { errcode: 0, errmsg: 'ok' },
      };
      return send(res, answer.status, answer.body);
    }
    send(res, 404, { code: 'notFound', message: 'no such route' });
  }

  #onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.base);
    const ticket = url.searchParams.get('ticket') ?? '';
    const n = this.handshakes.length;
    // A ticket is good for one connection only (§S1 step 3).
    const valid = url.pathname === '/connect' && this.#tickets.delete(ticket);
    const accepted = valid && !this.#o.refuseHandshake?.(n);
    this.handshakes.push({ at: Date.now(), ticket, accepted });
    this.#notify();
    if (!accepted) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws, ticket, n));
  }

  #flush(conn: GatewayConn): void {
    for (const frame of this.#pending.splice(0)) {
      const id = (JSON.parse(frame) as { headers: { messageId: string } }).headers.messageId;
      conn.outstanding.set(id, frame);
      conn.ws.send(frame);
    }
  }

  #onSocket(ws: WebSocket, ticket: string, n: number): void {
    const conn: GatewayConn = {
      id: this.conns.length + 1,
      ticket,
      ws,
      openedAt: Date.now(),
      closedAt: undefined,
      received: [],
      pings: 0,
      closeCode: undefined,
      blackholed: false,
      outstanding: new Map(),
    };
    this.conns.push(conn);
    this.#open++;
    this.maxOpen = Math.max(this.maxOpen, this.#open);
    ws.on('ping', () => {
      conn.pings++;
    });
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      conn.received.push({ at: Date.now(), msg });
      if (typeof msg['code'] === 'number') {
        const id = (msg['headers'] as Record<string, unknown> | undefined)?.['messageId'];
        if (typeof id === 'string') conn.outstanding.delete(id);
        this.acks.push({ at: Date.now(), connId: conn.id, ack: msg as unknown as AckRecord['ack'] });
      }
      this.#notify();
    });
    ws.on('close', (code) => {
      conn.closedAt = Date.now();
      conn.closeCode = code;
      this.#open--;
      if (this.#o.redeliver !== false) this.#pending.push(...conn.outstanding.values());
      conn.outstanding.clear();
      const next = this.latest();
      if (next && !next.blackholed) this.#flush(next);
      this.#notify();
    });
    ws.on('error', () => {});
    this.#notify();
    if (this.#o.closeAfterOpen?.(n)) {
      ws.close(1011, 'going away');
      return;
    }
    if (this.#o.disconnectAfterOpen?.(n)) {
      this.disconnect(conn);
      return;
    }
    // A blackholed socket is dead to the gateway as well once the client has come back on a new one.
    for (const old of this.conns) {
      if (old === conn || !old.blackholed || old.closedAt !== undefined) continue;
      if (this.#o.redeliver !== false) this.#pending.push(...old.outstanding.values());
      old.outstanding.clear();
      old.ws.terminate();
    }
    this.#flush(conn);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}
