/**
 * The token store every app client of the hub uses (docs/hub.md "Tokens"): the store-backed one by default, so all
 * hub processes on one database share one token per app and make one fetch per token lifetime; none (each
 * client's own memory) with `tokens.store: memory`.
 */

import { ConfigError } from '../core/errors.js';
import type { TokenStore } from '../core/token-manager.js';
import type { Store } from '../store/open-store.js';
import { SharedTokenStore } from '../store/token-store.js';
import type { HubConfig } from './config.js';
import { TOKEN_LOCK_TTL_MS, type TokensConfig, tokenLockProblem } from './token-config.js';

const DEFAULTS: TokensConfig = { store: 'shared', lockTtlMs: TOKEN_LOCK_TTL_MS, lockWaitMs: 60_000 };

type TokenConfigView = Pick<HubConfig, 'apps'> & { tokens?: TokensConfig | undefined };

/** Throws a ConfigError when the shared store's lock cannot outlast a token call (`callTimeoutMs`). */
export function checkTokenConfig(config: TokenConfigView, callTimeoutMs: number): void {
  // A config built in code (tests, embedders) may lack the section parseConfig fills in.
  const t = config.tokens ?? DEFAULTS;
  const problem = t.store === 'shared' ? tokenLockProblem(t, callTimeoutMs) : undefined;
  if (problem) throw new ConfigError(problem);
}

/**
 * `callTimeoutMs`: the timeout of the clients' DingTalk calls, the token fetch included. `now`: the hub's clock, the
 * one its token managers compute expiries with, so a row's expiry is judged on the clock that wrote it.
 */
export function hubTokenStore(
  config: TokenConfigView,
  store: Store,
  callTimeoutMs: number,
  now: () => number = Date.now,
): TokenStore | undefined {
  const t = config.tokens ?? DEFAULTS;
  if (t.store === 'memory') return undefined;
  checkTokenConfig(config, callTimeoutMs);
  const secrets = new Map(Object.values(config.apps).map((a) => [a.appKey, a.appSecret]));
  return new SharedTokenStore(store, {
    secretOf: (appKey) => secrets.get(appKey),
    now,
    lockTtlMs: t.lockTtlMs,
    lockWaitMs: t.lockWaitMs,
  });
}
