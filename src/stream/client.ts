/**
 * The Stream-mode client: open call → WebSocket → frames → acks, with reconnects that cannot storm or overlap.
 *
 * Where it differs from the official `dingtalk-stream` 2.1.5 (docs/dingtalk.md §S10 and its dist/client.cjs):
 * - reconnects back off exponentially with jitter (1 s → 60 s) instead of a fixed 1 s, one attempt at a time;
 * - every timer hangs off the instance and `stop()` clears all of them (the official keepAlive interval leaks);
 * - acks go out after the handler's promise settles, or when the app says so (`deferAck`), never before;
 * - a bad frame is counted and skipped instead of throwing inside the socket listener;
 * - SYSTEM `disconnect` starts a replacement at once while the old socket only finishes its owed acks.
 */

import { Agent, type Dispatcher } from 'undici';
import { isDingTalkError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import { backoffDelay } from './backoff.js';
import { describeError, sessionRedactor, stoppedError, toStreamEvent } from './client-support.js';
import { type SocketCloseInfo, StreamSocket } from './connection.js';
import type { PushContext, StreamContext } from './context.js';
import { type MalformedReason, parseFrame, pingAck } from './frame.js';
import { openConnection, socketUrl } from './open-connection.js';
import {
  type ResolvedOptions,
  resolveOptions,
  type StateChange,
  type StreamClientOptions,
} from './options.js';
import { PushRunner } from './push-runner.js';
import { type ReplyOptions, type ReplyResult, replyMarkdown, replyText } from './reply.js';
import { composeChain, type StreamHandler, type StreamMiddleware, TopicRouter } from './router.js';
import { type ConnectionState, cloneStats, emptyStats, type StreamStats } from './stats.js';
import { TimerSet } from './timers.js';
import {
  type BotMessage,
  type CardCallback,
  type StreamEvent,
  type StreamFrame,
  type Subscription,
  TOPIC_BOT_MESSAGE,
  TOPIC_CARD_CALLBACK,
} from './types.js';

export class StreamClient {
  readonly #o: ResolvedOptions;
  readonly #redactor: Redactor;
  readonly #timers: TimerSet;
  readonly #router = new TopicRouter();
  readonly #middlewares: StreamMiddleware[] = [];
  #chain: ((ctx: PushContext) => Promise<void>) | undefined;
  readonly #stats: StreamStats = emptyStats();
  readonly #listeners = new Set<(c: StateChange) => void>();
  readonly #pushes: PushRunner;
  readonly #userHttp: Dispatcher | undefined;
  #http: Agent | undefined;
  /** The one socket that delivers frames, if any. */
  #live: StreamSocket | undefined;
  /** Every socket not yet closed: the live one, draining ones, one being opened. */
  readonly #sockets = new Set<StreamSocket>();
  /** The connect lock: at most one open-call-plus-handshake at a time. */
  #connecting = false;
  #cancelReconnect: (() => void) | undefined;
  #cancelHealthy: (() => void) | undefined;
  #abort: AbortController | undefined;
  /** Consecutive failed connects or early drops; reset once a connection proved healthy. */
  #failures = 0;
  /** The live socket once it has stayed up for `healthyAfterMs`. */
  #proven: StreamSocket | undefined;
  #nextSocketId = 1;
  #started = false;
  #stopped = false;
  #everConnected = false;
  #firstConnect: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  #stopping: Promise<void> | undefined;
  #lastError = '';

  constructor(options: StreamClientOptions) {
    this.#o = resolveOptions(options);
    this.#redactor = new Redactor([this.#o.clientSecret]);
    this.#timers = new TimerSet(options.timers);
    this.#userHttp = options.dispatcher;
    this.#replyFallback = options.replyFallback;
    if (options.onState) this.#listeners.add(options.onState);
    this.#pushes = new PushRunner({
      maxConcurrency: this.#o.maxConcurrency,
      maxQueued: this.#o.maxQueuedCallbacks,
      maxQueuedBytes: this.#o.maxQueuedCallbackBytes,
      stats: this.#stats,
      now: this.#o.now,
      chain: () => {
        this.#chain ??= composeChain(this.#middlewares, this.#router.terminal);
        return this.#chain;
      },
      countMalformed: (r) => this.#countMalformed(r),
      onHandlerError: (e, ctx) => {
        const text = describeError(e);
        this.#log('warn', 'stream handler failed', {
          type: ctx.type,
          topic: ctx.topic,
          messageId: ctx.messageId,
          // A handler's own message may quote the push, whose session webhook is a secret of this push only.
          err: sessionRedactor(ctx.data).redact(text),
        });
      },
    });
  }

  readonly #replyFallback: StreamClientOptions['replyFallback'];

  /** Adds a middleware; they run in the order added, before the routed handler. */
  use(mw: StreamMiddleware): this {
    this.#middlewares.push(mw);
    this.#chain = undefined;
    return this;
  }

  /**
   * Routes pushes to `handler` by topic (`/v1.0/...`; also subscribed as a CALLBACK at the next connect), by EVENT
   * `eventType`, by frame type (`EVENT`, `CALLBACK`) or `*` (see TopicRouter for the precedence).
   */
  on<T = unknown>(topicOrType: string, handler: StreamHandler<T>): this {
    this.#router.add(topicOrType, handler as StreamHandler);
    return this;
  }

  /** Robot messages. The return value becomes the ack's `response`. */
  onBotMessage(handler: (msg: BotMessage, ctx: StreamContext<BotMessage>) => unknown): this {
    return this.on<BotMessage>(TOPIC_BOT_MESSAGE, (ctx) => handler(ctx.data, ctx));
  }

  /** Interactive-card actions (§S8). Return a `CardCallbackResponse` to update the card. */
  onCardAction(handler: (cb: CardCallback, ctx: StreamContext<CardCallback>) => unknown): this {
    return this.on<CardCallback>(TOPIC_CARD_CALLBACK, (ctx) => handler(ctx.data, ctx));
  }

  /** All EVENTs, or those of one `eventType`. A rejected promise answers LATER, so DingTalk re-pushes. */
  onEvent(handler: (event: StreamEvent, ctx: StreamContext<Record<string, unknown>>) => unknown): this;
  onEvent(
    eventType: string,
    handler: (event: StreamEvent, ctx: StreamContext<Record<string, unknown>>) => unknown,
  ): this;
  onEvent(
    a: string | ((event: StreamEvent, ctx: StreamContext<Record<string, unknown>>) => unknown),
    b?: (event: StreamEvent, ctx: StreamContext<Record<string, unknown>>) => unknown,
  ): this {
    const key = typeof a === 'string' ? a : 'EVENT';
    const handler = typeof a === 'string' ? b : a;
    if (!handler) throw new TypeError('onEvent: handler is required');
    return this.on<Record<string, unknown>>(key, async (ctx) => {
      await handler(toStreamEvent(ctx), ctx);
      // An EVENT's ack carries only SUCCESS/LATER; the handler's value has nowhere to go.
      return undefined;
    });
  }

  /** Listens to connection state changes; returns an unsubscribe function. */
  onState(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get state(): ConnectionState {
    return this.#stats.state;
  }

  /** A snapshot of the counters. */
  stats(): StreamStats {
    return cloneStats(this.#stats);
  }

  /** What the next open call subscribes to. */
  subscriptions(): Subscription[] {
    const out = [...this.#o.subscriptions];
    const seen = new Set(out.map((s) => `${s.type} ${s.topic}`));
    for (const topic of this.#router.callbackTopics()) {
      if (!seen.has(`CALLBACK ${topic}`)) out.push({ type: 'CALLBACK', topic });
    }
    return out;
  }

  /** Connects; resolves once the first connection is up. Reconnects on its own afterwards, until `stop()`. */
  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(stoppedError());
    if (this.#firstConnect) return this.#firstConnect.promise;
    this.#started = true;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    this.#firstConnect = { promise, resolve, reject };
    if (!this.#userHttp) this.#http = new Agent({ connections: 4, keepAliveTimeout: 4_000 });
    void this.#connect('start');
    return promise;
  }

  /**
   * Closes every socket, cancels the pending reconnect and clears every timer. Afterwards the client makes no
   * network call and holds no timer. With `graceMs`, the live socket first stops taking frames and gets up to that
   * long to send the acks it owes.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? 0);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    this.#cancelReconnect?.();
    this.#cancelHealthy?.();
    this.#abort?.abort();
    this.#firstConnect?.reject(stoppedError());
    this.#pushes.clearQueue();
    const live = this.#live;
    this.#live = undefined;
    if (live && graceMs > 0) live.drain(graceMs);
    // Stopping must be quick: a peer that ignores our close frame is cut off after 200 ms.
    for (const s of this.#sockets) if (s !== live || graceMs <= 0) s.close(1000, 'client stopped', 200);
    await Promise.all([...this.#sockets].map((s) => s.closed));
    this.#timers.clearAll();
    const http = this.#http;
    this.#http = undefined;
    if (http) await http.destroy();
    this.#setState('stopped', { reason: 'stop() called' });
  }

  /** `replyText` with this client's fallback, HTTP agent, redactor and session-webhook origins. */
  replyText(msg: BotMessage, text: string, options: ReplyOptions = {}): Promise<ReplyResult> {
    return replyText(msg, text, this.#replyOptions(options));
  }

  /** `replyMarkdown` with this client's fallback, HTTP agent, redactor and session-webhook origins. */
  replyMarkdown(
    msg: BotMessage,
    title: string,
    text: string,
    options: ReplyOptions = {},
  ): Promise<ReplyResult> {
    return replyMarkdown(msg, title, text, this.#replyOptions(options));
  }

  #replyOptions(o: ReplyOptions): ReplyOptions {
    return {
      timeoutMs: this.#o.replyTimeoutMs,
      now: this.#o.now,
      redactor: this.#redactor,
      dispatcher: this.#userHttp ?? this.#http,
      replyFallback: this.#replyFallback,
      ...o,
      sessionWebhookOrigins: [...this.#o.sessionWebhookOrigins, ...(o.sessionWebhookOrigins ?? [])],
    };
  }

  async #connect(reason: string): Promise<void> {
    if (this.#connecting || this.#stopped || this.#live) return;
    this.#connecting = true;
    this.#cancelReconnect = undefined;
    this.#setState('connecting', { reason });
    const abort = new AbortController();
    this.#abort = abort;
    try {
      this.#stats.openCalls++;
      const opened = await openConnection({
        openApiBase: this.#o.openApiBase,
        clientId: this.#o.clientId,
        clientSecret: this.#o.clientSecret,
        subscriptions: this.subscriptions(),
        ua: this.#o.ua,
        localIp: this.#o.localIp,
        timeoutMs: this.#o.openTimeoutMs,
        maxResponseBytes: this.#o.maxOpenResponseBytes,
        redactor: this.#redactor,
        dispatcher: this.#userHttp ?? this.#http,
        signal: abort.signal,
      });
      if (this.#stopped) return;
      const socket = new StreamSocket({
        id: this.#nextSocketId++,
        url: socketUrl(opened),
        maxPayloadBytes: this.#o.maxPayloadBytes,
        handshakeTimeoutMs: this.#o.handshakeTimeoutMs,
        pingIntervalMs: this.#o.pingIntervalMs,
        userAgent: this.#o.ua,
        timers: this.#timers,
        onOpen: (s) => this.#promote(s),
        onMessage: (s, data, isBinary) => this.#onMessage(s, data, isBinary),
        onClose: (s, info) => this.#onSocketClose(s, info),
      });
      this.#sockets.add(socket);
      // `#promote` (the socket's onOpen) made it live; a close after that is `#onSocketClose`'s business.
      await socket.opened;
    } catch (e) {
      if (this.#stopped) return;
      this.#stats.connectFailures++;
      this.#fail();
      const detail = describeError(e);
      this.#log('warn', 'stream connect failed', { attempt: this.#failures, err: detail });
      if (!this.#everConnected && isDingTalkError(e) && !e.retryable && e.outcome === 'rejected') {
        // The very first open call was refused for good (bad credentials, bad subscriptions): fail `start()`
        // rather than retry a call that cannot succeed (fail closed at start-up).
        const first = this.#firstConnect;
        this.#firstConnect = undefined;
        this.#connecting = false;
        await this.stop();
        first?.reject(e);
        return;
      }
      this.#lastError = detail;
    } finally {
      this.#connecting = false;
      if (this.#abort === abort) this.#abort = undefined;
      // Whatever happened, if nothing is live now, the next attempt is scheduled (no-op when one already is).
      if (!this.#stopped && !this.#live) this.#scheduleReconnect(this.#lastError);
    }
  }

  /** Makes a freshly opened socket the live one (synchronously, before its first frame is routed). */
  #promote(socket: StreamSocket): void {
    if (this.#stopped || this.#live) {
      socket.close(1000, 'not needed', 200);
      return;
    }
    this.#live = socket;
    if (this.#everConnected) this.#stats.reconnects++;
    this.#everConnected = true;
    this.#stats.connects++;
    this.#cancelHealthy?.();
    this.#cancelHealthy = this.#timers.after(this.#o.healthyAfterMs, () => {
      if (this.#live !== socket) return;
      this.#proven = socket;
      this.#failures = 0;
      this.#stats.failureStreak = 0;
    });
    this.#setState('connected', { connectionId: socket.id });
    this.#firstConnect?.resolve();
  }

  #scheduleReconnect(reason: string): void {
    if (this.#stopped || this.#live || this.#connecting || this.#cancelReconnect) return;
    const delayMs = backoffDelay(this.#o.backoff, Math.max(this.#failures - 1, 0), this.#o.random);
    this.#setState('reconnecting', { reason, delayMs, attempt: this.#failures });
    this.#cancelReconnect = this.#timers.after(delayMs, () => {
      this.#cancelReconnect = undefined;
      void this.#connect('backoff elapsed');
    });
  }

  #onSocketClose(socket: StreamSocket, info: SocketCloseInfo): void {
    this.#sockets.delete(socket);
    if (info.halfOpen) this.#stats.halfOpenDetected++;
    // ws reports a message over `maxPayload` as this error and drops the socket (1009 sent, 1006 seen locally).
    if (info.errorCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#countMalformed('too_large');
    if (socket !== this.#live) return;
    this.#live = undefined;
    this.#cancelHealthy?.();
    if (this.#stopped) return;
    this.#fail();
    this.#log('info', 'stream socket closed', { connectionId: socket.id, reason: info.reason });
    this.#setState('disconnected', { reason: info.reason });
    this.#scheduleReconnect(info.reason);
  }

  #onMessage(socket: StreamSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const parsed = parseFrame(data, isBinary, this.#o.maxFrameBytes);
    if (!parsed.ok) {
      this.#countMalformed(parsed.reason);
      this.#log('debug', 'stream frame skipped', { connectionId: socket.id, reason: parsed.reason });
      return;
    }
    const frame = parsed.frame;
    this.#stats.frames[frame.type]++;
    if (frame.type === 'SYSTEM') {
      this.#onSystem(socket, frame);
      return;
    }
    if (socket !== this.#live) {
      // A replaced (draining) socket takes no new work; unacked, the push comes again on the new socket.
      this.#stats.droppedWhileDraining++;
      return;
    }
    this.#pushes.handle(socket, frame as StreamFrame & { type: 'EVENT' | 'CALLBACK'; messageId: string });
  }

  #onSystem(socket: StreamSocket, frame: StreamFrame): void {
    if (frame.topic === 'ping') {
      // Answered inline, whatever the handlers are doing. Same messageId, data echoed unchanged (§S5).
      if (socket.send(pingAck(frame))) this.#stats.pings++;
      return;
    }
    if (frame.topic === 'disconnect' && socket === this.#live) {
      // Rotation (§S1 step 7): this socket stops taking frames now and closes once its owed acks are out. Between
      // it and the next one there is no live socket, never two. After a healthy connection the rotation is planned
      // and the fresh open call starts at once. Before that, a `disconnect` counts as a failure and backs off like
      // a close: a gateway answering every connect with `disconnect` would otherwise get a connect per round trip
      // forever.
      const planned = this.#proven === socket;
      this.#stats.rotations++;
      this.#live = undefined;
      this.#cancelHealthy?.();
      socket.drain(this.#o.drainTimeoutMs);
      this.#log('info', 'stream rotation requested', { connectionId: socket.id, planned });
      this.#setState('disconnected', { reason: 'disconnect' });
      if (planned) {
        void this.#connect('disconnect');
      } else {
        this.#fail();
        this.#scheduleReconnect('disconnect before the connection proved healthy');
      }
    }
    // CONNECTED / REGISTERED / KEEPALIVE (§S6, unverified) need nothing: any frame already counts as traffic.
  }

  /** One more consecutive failure: the next reconnect waits longer. */
  #fail(): void {
    this.#failures++;
    this.#stats.failureStreak = this.#failures;
  }

  #countMalformed(reason: MalformedReason): void {
    this.#stats.malformed[reason] = (this.#stats.malformed[reason] ?? 0) + 1;
  }

  #setState(state: ConnectionState, extra: Omit<StateChange, 'state' | 'previous'> = {}): void {
    const previous = this.#stats.state;
    if (previous === 'stopped') return;
    this.#stats.state = state;
    const change: StateChange = { state, previous, ...extra };
    if (change.reason !== undefined) change.reason = this.#redactor.redact(change.reason);
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch {
        // A listener's bug must not break the connection loop.
      }
    }
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const safe: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields))
      safe[k] = typeof v === 'string' ? this.#redactor.redact(v) : v;
    try {
      this.#o.logger[level](safe, msg);
    } catch {
      // Same as listeners: logging never breaks the receiver.
    }
  }

  /** True once `start()` was called. */
  get started(): boolean {
    return this.#started;
  }
}
