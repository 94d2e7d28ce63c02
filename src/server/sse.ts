/**
 * The server-sent-events stream of hub changes (`GET /v1/events`). Each connection subscribes to the EventBus,
 * first replaying what the client missed after `Last-Event-ID` (the bus keeps a bounded buffer), then live
 * events. Comment lines keep idle proxies from closing the connection.
 *
 * A client that stops reading is cut off once its backlog passes `maxBacklog` events rather than growing memory
 * without bound; EventSource reconnects on its own and resumes from its last id. The open streams are tracked
 * per app instance so a graceful stop can end them (an open stream would otherwise hold the server open).
 *
 * A stream outlives the token check that opened it, so it asks again every `authRecheckMs`, past the verifier's
 * cache: a token revoked (by this process or by `dingkit token revoke` on the same store) or expired ends its
 * streams within that period. A check that cannot be answered (store down) ends the stream too; EventSource
 * reconnects and is told why.
 */

import { type EventBus, formatSse, type HubEvent } from '../observe/events.js';

export interface SseOptions {
  /** Interval of `: ping` comment lines. @default 15_000 */
  heartbeatMs?: number;
  /** Undelivered events allowed before a slow client is disconnected. @default 1_000 */
  maxBacklog?: number;
  /** Reconnect delay suggested to EventSource. @default 2_000 */
  retryMs?: number;
  /** How often an open stream re-checks its token. @default 500 */
  authRecheckMs?: number;
}

export class SseStreams {
  readonly #open = new Set<() => void>();

  get size(): number {
    return this.#open.size;
  }

  /** Ends every open stream (graceful shutdown). */
  closeAll(): void {
    for (const close of [...this.#open]) close();
  }

  /**
   * `stillValid` is asked every `authRecheckMs`; false (or a failure) ends the stream. `select`, when given, is
   * asked of each event in turn (in order: one answer at a time) and only the events it keeps are sent; a failing
   * answer drops the event.
   */
  open(
    bus: EventBus,
    afterId: number | undefined,
    opts: SseOptions = {},
    stillValid?: () => Promise<boolean>,
    select?: (e: HubEvent) => Promise<boolean>,
  ): Response {
    const encoder = new TextEncoder();
    const heartbeatMs = opts.heartbeatMs ?? 15_000;
    const maxBacklog = opts.maxBacklog ?? 1_000;
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          let closed = false;
          let unsubscribe = () => {};
          let timer: NodeJS.Timeout | undefined;
          let authTimer: NodeJS.Timeout | undefined;
          const close = () => {
            if (closed) return;
            closed = true;
            unsubscribe();
            if (timer) clearInterval(timer);
            if (authTimer) clearInterval(authTimer);
            this.#open.delete(close);
            try {
              controller.close();
            } catch {
              // Already closed or errored by the client going away.
            }
          };
          cleanup = close;
          const push = (text: string) => {
            if (closed) return;
            if ((controller.desiredSize ?? 0) < -maxBacklog) {
              close();
              return;
            }
            controller.enqueue(encoder.encode(text));
          };
          this.#open.add(close);
          push(`retry: ${opts.retryMs ?? 2_000}\n: connected\n\n`);
          let chain = Promise.resolve();
          const send = select
            ? (e: HubEvent) => {
                chain = chain
                  .then(() => (closed ? false : select(e)))
                  .then(
                    (keep) => {
                      if (keep) push(formatSse(e));
                    },
                    () => {},
                  );
              }
            : (e: HubEvent) => push(formatSse(e));
          unsubscribe = bus.subscribe(send, afterId);
          timer = setInterval(() => push(': ping\n\n'), heartbeatMs);
          timer.unref();
          if (stillValid) {
            let asking = false;
            authTimer = setInterval(() => {
              if (asking || closed) return;
              asking = true;
              stillValid()
                .then((ok) => {
                  if (!ok) close();
                })
                .catch(() => close())
                .finally(() => {
                  asking = false;
                });
            }, opts.authRecheckMs ?? 500);
            authTimer.unref();
          }
        },
        cancel: () => cleanup(),
      },
      { highWaterMark: 1 },
    );
    return new Response(stream, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  }
}
