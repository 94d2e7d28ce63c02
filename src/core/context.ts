/**
 * What a domain API module (src/api/<domain>) receives from the client: the composed request handler and the
 * app identity. Domain modules build `DingTalkRequest`s and interpret answers; they never touch sockets,
 * tokens, retries or limits.
 */

import type { Handler } from './pipeline.js';
import type { Redactor } from './redact.js';

export interface AppIdentity {
  /** The app's Client ID (AppKey). */
  appKey?: string | undefined;
  /** Organisation id (`ding...`), when known. */
  corpId?: string | undefined;
  /** Numeric AgentId, needed by work notifications. */
  agentId?: number | string | undefined;
  /** Robot code of the app robot; for internal apps usually equal to the AppKey (docs/dingtalk.md §3). */
  robotCode?: string | undefined;
}

export interface ApiContext {
  request: Handler;
  app: AppIdentity;
  redactor: Redactor;
  /** Clock in epoch ms; injectable for tests. */
  now: () => number;
}
