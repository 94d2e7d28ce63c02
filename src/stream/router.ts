/**
 * `(ctx, next)` middleware (style.md "Inbound traffic"; hono's compose and bolt's middleware chain) ending in a
 * router that picks one handler per push.
 */

import type { PushContext, StreamContext } from './context.js';

export type StreamMiddleware = (ctx: StreamContext, next: () => Promise<void>) => unknown;

/** A routed handler. Its return value is the CALLBACK response when the ack is automatic. */
export type StreamHandler<T = unknown> = (ctx: StreamContext<T>) => unknown;

/** Runs `middlewares` in order, then `terminal`. `next()` may be awaited; calling it twice is a bug. */
export function composeChain(
  middlewares: readonly StreamMiddleware[],
  terminal: (ctx: PushContext) => Promise<void>,
): (ctx: PushContext) => Promise<void> {
  return (ctx) => {
    let last = -1;
    const run = async (i: number): Promise<void> => {
      if (i <= last) throw new Error('next() called more than once in a stream middleware');
      last = i;
      const mw = middlewares[i];
      if (mw === undefined) return terminal(ctx);
      await mw(ctx, () => run(i + 1));
    };
    return run(0);
  };
}

/**
 * Route keys, most specific first: the exact topic (a callback path such as `/v1.0/im/bot/messages/get`), then for
 * EVENTs the `eventType` header (`chat_update_title`), then the frame type (`EVENT`, `CALLBACK`), then `*`.
 * EVENT frames carry topic `*` (or `dingTalk` in one example, docs/dingtalk.md §S6), so events are routed by type or eventType.
 */
export class TopicRouter {
  readonly #routes = new Map<string, StreamHandler>();

  add(key: string, handler: StreamHandler): void {
    if (!key) throw new TypeError('route key must be a non-empty string');
    if (this.#routes.has(key)) throw new TypeError(`a handler is already registered for "${key}"`);
    this.#routes.set(key, handler);
  }

  /** Topics that need a CALLBACK subscription in the open call. */
  callbackTopics(): string[] {
    return [...this.#routes.keys()].filter((k) => k.startsWith('/'));
  }

  match(ctx: StreamContext): StreamHandler | undefined {
    const byTopic = this.#routes.get(ctx.topic);
    if (byTopic && (ctx.type === 'CALLBACK' || ctx.topic !== '*')) return byTopic;
    if (ctx.type === 'EVENT') {
      const eventType = ctx.headers['eventType'];
      const byEventType = eventType ? this.#routes.get(eventType) : undefined;
      if (byEventType) return byEventType;
    }
    return this.#routes.get(ctx.type) ?? this.#routes.get('*');
  }

  readonly terminal = async (ctx: PushContext): Promise<void> => {
    const handler = this.match(ctx);
    if (!handler) {
      ctx.notFound = true;
      return;
    }
    const result = await handler(ctx);
    if (result !== undefined) ctx.response = result;
  };
}
