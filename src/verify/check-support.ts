/**
 * What the checks share: the made-up values of a probe, reading a refusal, the texts sent, the reasons a check
 * cannot run with this config, the operator's ids, and the recalls that remove app-robot messages.
 */

import { createHash } from 'node:crypto';
import { HttpError, isPlatformError, type PlatformError, RateLimitedError } from '../core/errors.js';
import { StreamClient } from '../stream/client.js';
import type { Subscription } from '../stream/types.js';
import type { VerifyEnv } from './types.js';

export const needApp = (env: VerifyEnv) => (env.appKey ? undefined : 'no app in the config');

/** A value for this run that cannot name anything in DingTalk. */
export function madeUp(env: VerifyEnv, what: string): string {
  return createHash('sha256').update(`dingkit-verify:${env.runId}:${what}`).digest('hex');
}

/** `404 InvalidAction.NotFound`: the status and DingTalk's code, as the fact registry writes v1.0 answers. */
export function v1Answer(e: PlatformError): string {
  return `${e.status} ${e.platformCode ?? e.errcode ?? e.code}`;
}

/**
 * Runs a probe that DingTalk must refuse; resolves to the refusal (a call that succeeded is itself a finding). A 5xx,
 * a throttle (90018, 403 Qps…: a RateLimitedError) or a network failure is no answer about the probe: it throws, and
 * the check could not run, rather than record the throttle's code as the fact.
 */
export async function refusal(call: () => Promise<unknown>): Promise<PlatformError | HttpError | 'accepted'> {
  try {
    await call();
    return 'accepted';
  } catch (e) {
    if (e instanceof RateLimitedError) throw e;
    if ((isPlatformError(e) || e instanceof HttpError) && e.status < 500) return e;
    throw e;
  }
}

export const TEXT = (env: VerifyEnv, what: string) =>
  `dingkit verify ${env.runId}: ${what}. 测试消息，请忽略 / test message, please ignore.`;

export const groupName = (env: VerifyEnv) => `group ${env.group?.alias}`;

export const meName = (env: VerifyEnv) => `the operator ${env.me?.label}`;

export function needGroupApp(env: VerifyEnv): string | undefined {
  if (!env.group) return 'no --group';
  if (!env.appKey) return 'no app in the config';
  if (!env.group.app) return `group ${env.group.alias} has no app robot (groups.${env.group.alias}.app)`;
  if (!env.group.openConversationId) return `group ${env.group.alias} has no openConversationId`;
  return undefined;
}

export function needMe(env: VerifyEnv, agent = false): string | undefined {
  if (!env.me) return 'no --me';
  if (!env.appKey) return 'no app in the config';
  if (agent && env.agentId === undefined) return 'the app has no agentId';
  return undefined;
}

/** The operator's ids, learnt by the users-lookup check; a check cannot run without them. */
export function myIds(env: VerifyEnv): { userId: string; unionId: string } {
  const { userId, unionId } = env.me ?? {};
  if (!userId || !unionId)
    throw new Error("the operator's userId / unionId are unknown (users-lookup did not run)");
  return { userId, unionId };
}

export async function recallGroup(env: VerifyEnv, openConversationId: string, key: string): Promise<void> {
  const r = await env.dt.robot.recallGroup({ openConversationId, processQueryKeys: [key] });
  const why = r.failedResult[key];
  if (why !== undefined || !r.successResult.includes(key))
    throw new Error(`recall refused: ${why ?? 'not listed'}`);
}

export async function recallUsers(env: VerifyEnv, key: string): Promise<void> {
  const r = await env.dt.robot.recallUsers({ processQueryKeys: [key] });
  const why = r.failedResult[key];
  if (why !== undefined || !r.successResult.includes(key))
    throw new Error(`recall refused: ${why ?? 'not listed'}`);
}

/** A Stream client of the configured app with the run's timeouts, subscribed to `subscriptions` only. */
export function verifyStreamClient(env: VerifyEnv, subscriptions: Subscription[]): StreamClient {
  return new StreamClient({
    clientId: env.appKey!,
    clientSecret: env.appSecret!,
    openApiBase: env.apiBase,
    env: env.env,
    subscriptions,
    openTimeoutMs: env.timeoutMs,
    handshakeTimeoutMs: env.timeoutMs,
  });
}
