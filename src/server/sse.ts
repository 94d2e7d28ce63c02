/**
 * The server-sent-events stream of hub changes (`GET /v1/events`). Each connection subscribes to the EventBus,
 * first replaying what the client missed after `Last-Event-ID` (the bus keeps a bounded buffer), then live
 * events. Comment lines keep idle proxies from closing the connection.
 *
 * A client that stops reading is cut off once its backlog passes `maxBacklog` events rather than growing memory
 * without bound; EventSource reconnects on its own and resumes from its last id. The open streams are tracked
 * per app instance so a graceful stop can end them (an open stream would otherwise hold the server open).
 */

import { type EventBus, formatSse } from './events.js';

export interface SseOptions {
  /** Interval of `: ping` comment lines. @default 15_000 */
  heartbeatMs?: number;
  /** Undelivered events allowed before a slow client is disconnected. @default 1_000 */
  maxBacklog?: number;
  /** Reconnect delay suggested to EventSource. @default 2_000 */
  retryMs?: number;
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

  open(bus: EventBus, afterId: number | undefined, opts: SseOptions = {}): Response {
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
          const close = () => {
            if (closed) return;
            closed = true;
            unsubscribe();
            if (timer) clearInterval(timer);
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
          unsubscribe = bus.subscribe((e) => push(formatSse(e)), afterId);
          timer = setInterval(() => push(': ping\n\n'), heartbeatMs);
          timer.unref();
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
