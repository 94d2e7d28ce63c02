/**
 * The change feed behind the server-sent-events stream: every state change the hub makes (a job delivered, a task
 * moved, a file shared, a command received) is published here once, and live views subscribe. A bounded replay
 * buffer serves `Last-Event-ID`, so a dashboard that reconnects misses nothing recent. One bus per hub instance.
 */

import type { HubEventName, HubEvents } from './event-map.js';

/** One published event; without a name, the union of all of them, which narrows on `type`. */
export type HubEvent<K extends HubEventName = HubEventName> = {
  [N in K]: {
    /** Monotonic per bus; the SSE `id`. */
    id: number;
    type: N;
    at: number;
    data: HubEvents[N];
  };
}[K];

export type Listener = (e: HubEvent) => void;

export class EventBus {
  readonly #listeners = new Set<Listener>();
  readonly #buffer: HubEvent[] = [];
  readonly #capacity: number;
  readonly #now: () => number;
  #nextId = 1;

  constructor(opts: { capacity?: number; now?: () => number } = {}) {
    this.#capacity = opts.capacity ?? 1_000;
    this.#now = opts.now ?? Date.now;
  }

  publish<K extends HubEventName>(type: K, data: HubEvents[K]): HubEvent<K> {
    // The union cannot see that one K picks one member; the parameters already tie `data` to `type`.
    const e = { id: this.#nextId++, type, at: this.#now(), data } as HubEvent;
    this.#buffer.push(e);
    if (this.#buffer.length > this.#capacity) this.#buffer.shift();
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // A broken subscriber must not stop the others or the publisher.
      }
    }
    return e as HubEvent<K>;
  }

  /** Subscribes; events after `afterId` still in the buffer are replayed first. Returns the unsubscribe. */
  subscribe(listener: Listener, afterId?: number): () => void {
    if (afterId !== undefined) for (const e of this.#buffer) if (e.id > afterId) listener(e);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  recent(limit = 50): HubEvent[] {
    return this.#buffer.slice(-limit);
  }
}

/** One event in the SSE wire format. */
export function formatSse(e: HubEvent): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ at: e.at, ...e.data })}\n\n`;
}
