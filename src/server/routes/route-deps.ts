/**
 * What every route module is given: the hub (through its service contract only), the auth guard, and the live
 * parts (event bus, metrics). Route modules register on one Hono app; none keeps state of its own.
 */

import type { Context, MiddlewareHandler } from 'hono';
import type { Actor, HubService } from '../../hub/service.js';
import type { AuthVariables, Scope } from '../auth.js';
import type { EventBus } from '../events.js';
import type { Registry } from '../metrics.js';
import type { SseStreams } from '../sse.js';

export type ApiEnv = { Variables: AuthVariables };

export interface RouteDeps {
  hub: HubService;
  guard: (scope: Scope) => MiddlewareHandler<ApiEnv>;
  events: EventBus;
  metrics: Registry;
  streams: SseStreams;
  bodyLimitBytes: number;
  fileLimitBytes: number;
  /** Uploads handled at once; more are answered 429 (config `files.maxConcurrentUploads`). */
  maxConcurrentUploads: number;
}

/** API callers act as `api:<token name>` in task history and audit. */
export function actorOf(c: Context<ApiEnv>): Actor {
  return { by: `api:${c.get('principal').name}` };
}
