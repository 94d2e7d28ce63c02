/**
 * One WebSocket to the gateway, with its own heartbeat and ack bookkeeping. The client owns at most one *live*
 * socket (delivering frames); a socket being replaced after SYSTEM `disconnect` is *draining*: it takes no new
 * frames, stays open while acks for frames it delivered are still owed, then we close it ourselves
 * (docs/dingtalk.md §S1 step 7: the server would close it about 10 s later anyway).
 */

import WebSocket from 'ws';
import type { TimerSet } from './timers.js';
import type { AckFrame } from './types.js';

export interface SocketCloseInfo {
  code: number;
  /** True when our heartbeat found the socket silent and terminated it. */
  halfOpen: boolean;
  /** True when the socket never finished its handshake. */
  beforeOpen: boolean;
  /** A short, secret-free description (never the URL: it holds the ticket). */
  reason: string;
  /** ws error code that preceded the close, e.g. `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` for a message over the cap. */
  errorCode: string | undefined;
}

interface StreamSocketOptions {
  id: number;
  url: string;
  /** Hard cap: ws closes the socket (1009) on a larger message. */
  maxPayloadBytes: number;
  handshakeTimeoutMs: number;
  /** Our WebSocket-level ping period; 0 disables the heartbeat. */
  pingIntervalMs: number;
  userAgent: string;
  timers: TimerSet;
  /**
   * Called synchronously on open, before any message: ws may emit frames that came in the same TCP read as the
   * handshake answer right after 'open', so whoever routes frames must know about this socket by then.
   */
  onOpen: (socket: StreamSocket) => void;
  onMessage: (socket: StreamSocket, data: WebSocket.RawData, isBinary: boolean) => void;
  onClose: (socket: StreamSocket, info: SocketCloseInfo) => void;
}

export class StreamSocket {
  readonly id: number;
  readonly #ws: WebSocket;
  readonly #o: StreamSocketOptions;
  #opened = false;
  #closed = false;
  #halfOpen = false;
  #sawTraffic = true;
  #draining = false;
  /** Acks still owed on this socket (frames being handled, deferred acks). */
  #owed = 0;
  #cancelHeartbeat: (() => void) | undefined;
  #cancelDrain: (() => void) | undefined;
  #cancelCloseWait: (() => void) | undefined;
  #errorText = '';
  #errorCode: string | undefined;
  readonly closed: Promise<SocketCloseInfo>;
  readonly opened: Promise<void>;

  constructor(o: StreamSocketOptions) {
    this.id = o.id;
    this.#o = o;
    this.#ws = new WebSocket(o.url, {
      maxPayload: o.maxPayloadBytes,
      handshakeTimeout: o.handshakeTimeoutMs,
      headers: { 'user-agent': o.userAgent },
      followRedirects: false,
    });
    let resolveClosed!: (info: SocketCloseInfo) => void;
    this.closed = new Promise((r) => {
      resolveClosed = r;
    });
    this.opened = new Promise<void>((resolve, reject) => {
      this.#ws.once('open', () => {
        this.#opened = true;
        this.#sawTraffic = true;
        this.#scheduleHeartbeat();
        o.onOpen(this);
        resolve();
      });
      this.#ws.on('error', (err: Error & { code?: string }) => {
        // Keep only the kind of failure: ws messages can quote the server's answer, never our URL, but a short
        // code is all a log line needs.
        this.#errorCode = err.code;
        this.#errorText = err.code ?? err.message.slice(0, 120);
      });
      this.#ws.once('close', (code: number) => {
        this.#closed = true;
        this.#cancelHeartbeat?.();
        this.#cancelDrain?.();
        this.#cancelCloseWait?.();
        const info: SocketCloseInfo = {
          code,
          halfOpen: this.#halfOpen,
          beforeOpen: !this.#opened,
          reason: this.#halfOpen
            ? 'no traffic within the ping window'
            : this.#errorText || `closed (${code})`,
          errorCode: this.#errorCode,
        };
        if (!this.#opened) reject(new Error(`handshake failed: ${info.reason}`));
        resolveClosed(info);
        o.onClose(this, info);
      });
    });
    // The rejection is consumed by whoever awaits `opened`; never let it surface as unhandled.
    this.opened.catch(() => {});
    this.#ws.on('message', (data, isBinary) => {
      this.#sawTraffic = true;
      o.onMessage(this, data, isBinary);
    });
    this.#ws.on('pong', () => {
      this.#sawTraffic = true;
    });
    this.#ws.on('ping', () => {
      this.#sawTraffic = true;
    });
  }

  get isOpen(): boolean {
    return this.#opened && !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get owed(): number {
    return this.#owed;
  }

  /** Writes one ack. False when the socket is no longer open (the ack is lost; the gateway re-pushes). */
  send(ack: AckFrame): boolean {
    if (!this.isOpen) return false;
    this.#ws.send(JSON.stringify(ack));
    return true;
  }

  /** One more ack is owed on this socket. */
  retain(): void {
    this.#owed++;
  }

  /** An owed ack was sent or given up; a draining socket closes when nothing is owed any more. */
  release(): void {
    if (this.#owed > 0) this.#owed--;
    if (this.#draining && this.#owed === 0) this.close(1000, 'replaced');
  }

  /** Stop taking frames; close once every owed ack is out, or after `graceMs` at the latest. */
  drain(graceMs: number): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    if (this.#owed === 0) {
      this.close(1000, 'replaced');
      return;
    }
    this.#cancelDrain = this.#o.timers.after(graceMs, () => this.close(1000, 'replaced'));
  }

  /** Closes cleanly; a peer that does not answer the close frame within `waitMs` is cut off. */
  close(code = 1000, reason = '', waitMs = 2_000): void {
    if (this.#closed) return;
    if (!this.#opened) {
      this.#ws.terminate();
      return;
    }
    this.#ws.close(code, reason);
    // A peer that never answers the close frame must not keep the socket (and `stop()`) waiting.
    this.#cancelCloseWait ??= this.#o.timers.after(waitMs, () => this.terminate());
  }

  terminate(): void {
    if (this.#closed) return;
    this.#ws.terminate();
  }

  /**
   * Half-open detection: every tick, if neither a frame nor a pong arrived since the previous tick, the
   * socket is dead without a FIN; otherwise ping again. A dead peer is found within 2 × the interval.
   */
  #scheduleHeartbeat(): void {
    const every = this.#o.pingIntervalMs;
    if (every <= 0 || this.#closed) return;
    this.#cancelHeartbeat = this.#o.timers.after(every, () => {
      if (this.#closed) return;
      if (!this.#sawTraffic) {
        this.#halfOpen = true;
        this.#ws.terminate();
        return;
      }
      this.#sawTraffic = false;
      this.#ws.ping();
      this.#scheduleHeartbeat();
    });
  }
}
