/**
 * The hub's `tokens` config section: where app access tokens live (docs/hub.md "Tokens"). Its own file so the main
 * schema (config.ts) stays readable; the check against the send timeout runs in `startHub`, where both are known.
 */

import { z } from 'zod';

export const TOKEN_LOCK_TTL_MS = 30_000;

export const tokensSchema = z
  .object({
    /**
     * `shared`: one token per app for every hub process on this database, kept sealed in the store (one fetch per
     * token lifetime across all processes). `memory`: each process keeps its own and fetches its own; no token
     * is ever written to the database.
     * @default 'shared'
     */
    store: z.enum(['shared', 'memory']).default('shared'),
    /**
     * How long a refresh may hold the store lock; a process killed mid-refresh blocks the others this long at most.
     * Must exceed `dispatcher.sendTimeoutMs` (the token call's timeout), or a slow but live refresh is overtaken.
     * @default 30_000
     */
    lockTtlMs: z.number().int().positive().max(600_000).default(TOKEN_LOCK_TTL_MS),
    /** How long a caller waits for another process's refresh before its call fails (`not_sent`, retried). */
    lockWaitMs: z.number().int().positive().max(600_000).default(60_000),
  })
  .strict()
  .default({ store: 'shared', lockTtlMs: TOKEN_LOCK_TTL_MS, lockWaitMs: 60_000 });

export type TokensConfig = z.infer<typeof tokensSchema>;

/** Why a lock ttl cannot work with a given token call timeout, or undefined when it can. */
export function tokenLockProblem(t: { lockTtlMs: number }, callTimeoutMs: number): string | undefined {
  if (t.lockTtlMs > callTimeoutMs) return undefined;
  return `tokens.lockTtlMs (${t.lockTtlMs} ms) must exceed the DingTalk call timeout (${callTimeoutMs} ms): a refresh still waiting for its answer would lose the lock and a second process would fetch too`;
}
