/**
 * What every route module is given: the hub (through its service contract only), the auth guard, and the live
 * parts (event bus, metrics). Route modules register on one Hono app; none keeps state of its own.
 */

import type { Context, MiddlewareHandler } from 'hono';
import type { Actor, HubService } from '../../hub/service.js';
import type { EventBus } from '../../observe/events.js';
import type { Registry } from '../../observe/metrics.js';
import type { AuthVariables, GuardOptions, Scope } from '../auth.js';
import type { SseStreams } from '../sse.js';
import { enforceLimits, type SendTargets } from '../token-limits.js';

export type ApiEnv = { Variables: AuthVariables };

export interface RouteDeps {
  hub: HubService;
  guard: (scope: Scope, o?: GuardOptions) => MiddlewareHandler<ApiEnv>;
  events: EventBus;
  metrics: Registry;
  streams: SseStreams;
  bodyLimitBytes: number;
  fileLimitBytes: number;
  /** Uploads handled at once; more are answered 429 (config `files.maxConcurrentUploads`). */
  maxConcurrentUploads: number;
}

/**
 * API callers act as `api:<token name>` in task history and audit; their idempotency keys live in the scope
 * `token:<name>`, so no other token's key can answer for them (src/store/idempotency.ts).
 */
export function actorOf(c: Context<ApiEnv>): Actor {
  const name = c.get('principal').name;
  return { by: `api:${name}`, idempotencyScope: `token:${name}` };
}

/** Refuses (403 `token_limit`) a send beyond the token's limits, before the hub is called (token-limits.ts). */
export function withinLimits(c: Context<ApiEnv>, d: RouteDeps, t: SendTargets): Promise<void> {
  return enforceLimits(c.get('principal').limits, t, () => d.hub.listPeople());
}
