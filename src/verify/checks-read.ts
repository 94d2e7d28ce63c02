/**
 * Read-only checks: they send nothing anyone sees and create nothing. Each probe that observes a fact uses a value
 * made up for this run (a robot token, a 免登 code, a path, a downloadCode) that cannot name anything real, so
 * DingTalk can only refuse it, and the refusal is the fact (docs/verify.md "Read-only checks").
 */

import { createHash } from 'node:crypto';
import { HttpError, isPlatformError, type PlatformError } from '../core/errors.js';
import { StreamClient } from '../stream/client.js';
import type { VerifyCheck, VerifyEnv } from './types.js';

const needApp = (env: VerifyEnv) => (env.appKey ? undefined : 'no app in the config');

/** A value for this run that cannot name anything in DingTalk. */
export function madeUp(env: VerifyEnv, what: string): string {
  return createHash('sha256').update(`dingkit-verify:${env.runId}:${what}`).digest('hex');
}

/** `404 InvalidAction.NotFound`: the status and DingTalk's code, as the fact registry writes v1.0 answers. */
function v1Answer(e: PlatformError): string {
  return `${e.status} ${e.platformCode ?? e.errcode ?? e.code}`;
}

/**
 * Runs a probe that DingTalk must refuse; resolves to the refusal (a call that succeeded is itself a finding). A 5xx
 * or a network failure is no answer about the probe: it throws, and the check could not run.
 */
async function refusal(call: () => Promise<unknown>): Promise<PlatformError | HttpError | 'accepted'> {
  try {
    await call();
    return 'accepted';
  } catch (e) {
    if ((isPlatformError(e) || e instanceof HttpError) && e.status < 500) return e;
    throw e;
  }
}

const token: VerifyCheck = {
  id: 'token',
  family: 'auth',
  title: 'token endpoints (v1.0 oauth2/accessToken and legacy gettoken)',
  facts: ['token.lifetime'],
  skip: needApp,
  async run(env, rec) {
    const v1 = await env.dt.request<{ accessToken?: unknown; expireIn?: unknown }>({
      operation: 'verify.token',
      host: 'api',
      method: 'POST',
      path: '/v1.0/oauth2/accessToken',
      body: { appKey: env.appKey, appSecret: env.appSecret },
      auth: 'none',
      idempotent: true,
    });
    const t = v1.data;
    if (typeof t.accessToken === 'string') env.redactor.add(t.accessToken);
    if (typeof t.expireIn !== 'number' || typeof t.accessToken !== 'string')
      return { failed: 'v1.0 oauth2/accessToken answered without accessToken / expireIn' };
    rec.observe('token.lifetime', t.expireIn, `v1.0 oauth2/accessToken answered expireIn ${t.expireIn}`);
    const legacy = await env.dt.request<{ access_token?: unknown; expires_in?: unknown }>({
      operation: 'verify.gettoken',
      host: 'oapi',
      method: 'GET',
      path: '/gettoken',
      query: { appkey: env.appKey ?? '', appsecret: env.appSecret ?? '' },
      auth: 'none',
      idempotent: true,
    });
    const l = legacy.data;
    if (typeof l.access_token === 'string') env.redactor.add(l.access_token);
    if (typeof l.access_token !== 'string') return { failed: 'gettoken answered without access_token' };
    // Both hosts share one token per app (§0.1, §12): a different one would be a finding of its own.
    const shared = l.access_token === t.accessToken ? 'the same token' : 'a different token';
    return `both endpoints answered; gettoken gave ${shared}, expires_in ${String(l.expires_in)}`;
  },
};

const robotUnknownToken: VerifyCheck = {
  id: 'robot-unknown-token',
  family: 'custom robot',
  title: 'webhook call with a made-up access_token',
  facts: ['robot.unknownTokenErrcode'],
  async run(env, rec) {
    // No robot has this token, so nothing can be posted whatever DingTalk checks first (§2.6).
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.robotUnknownToken',
        host: 'oapi',
        method: 'POST',
        path: '/robot/send',
        query: { access_token: madeUp(env, 'robot-token') },
        body: { msgtype: 'text', text: { content: 'dingkit verify' } },
        auth: 'none',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk accepted a made-up robot token' };
    if (!isPlatformError(r) || r.errcode === undefined) {
      rec.unobserved('robot.unknownTokenErrcode', `answered HTTP ${r.status} without an errcode`);
      return { failed: `answered HTTP ${r.status} without an errcode` };
    }
    rec.observe('robot.unknownTokenErrcode', r.errcode, `answered errcode ${r.errcode}`);
    return `refused with errcode ${r.errcode}`;
  },
};

const authCode: VerifyCheck = {
  id: 'auth-code',
  family: 'sign-in',
  title: 'getuserinfo with a made-up 免登 code',
  facts: ['auth.codeErrcode'],
  skip: needApp,
  async run(env, rec) {
    // A made-up code names no person: DingTalk can only refuse it (§13.2).
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.authCode',
        host: 'oapi',
        method: 'POST',
        path: '/topapi/v2/user/getuserinfo',
        body: { code: madeUp(env, 'auth-code').slice(0, 32) },
        auth: 'app',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk accepted a made-up 免登 code' };
    if (!isPlatformError(r) || r.errcode === undefined) {
      rec.unobserved('auth.codeErrcode', `answered HTTP ${r.status} without an errcode`);
      return { failed: `answered HTTP ${r.status} without an errcode` };
    }
    const sub = r.subCode ? ` (sub_code ${r.subCode})` : '';
    rec.observe('auth.codeErrcode', r.errcode, `answered errcode ${r.errcode}${sub}`);
    return `refused with errcode ${r.errcode}${sub}`;
  },
};

const unknownRoute: VerifyCheck = {
  id: 'api-unknown-route',
  family: 'api',
  title: 'GET of a made-up /v1.0 path',
  facts: ['api.unknownRoute'],
  skip: needApp,
  async run(env, rec) {
    const r = await refusal(() =>
      env.dt.request({
        operation: 'verify.unknownRoute',
        host: 'api',
        method: 'GET',
        path: `/v1.0/dingkit-verify/${madeUp(env, 'route').slice(0, 12)}`,
        auth: 'app',
        idempotent: true,
      }),
    );
    if (r === 'accepted') return { failed: 'DingTalk answered 2xx to a made-up path' };
    const value = isPlatformError(r) ? v1Answer(r) : `${r.status} (no DingTalk error body)`;
    rec.observe('api.unknownRoute', value, `answered ${value}`);
    return `answered ${value}`;
  },
};

const downloadCode: VerifyCheck = {
  id: 'robot-download-code',
  family: 'app robot',
  title: 'messageFiles/download with a made-up downloadCode',
  facts: ['robot.unknownDownloadCode'],
  skip: needApp,
  async run(env, rec) {
    const r = await refusal(() => env.dt.robot.downloadUrl({ downloadCode: madeUp(env, 'download') }));
    if (r === 'accepted') return { failed: 'DingTalk gave a download URL for a made-up code' };
    const value = isPlatformError(r) ? v1Answer(r) : `${r.status} (no DingTalk error body)`;
    rec.observe('robot.unknownDownloadCode', value, `answered ${value}`);
    return `answered ${value}`;
  },
};

const lookupMe: VerifyCheck = {
  id: 'users-lookup',
  family: 'users',
  title: 'the operator looked up (mobile → userId → unionId)',
  skip: (env) => needApp(env) ?? (env.me ? undefined : 'no --me'),
  async run(env) {
    const me = env.me!;
    const steps: string[] = [];
    if (!me.userId && me.mobile) {
      me.userId = await env.dt.users.userIdByMobile(me.mobile);
      steps.push('mobile → userId');
    }
    if (!me.userId) return { failed: 'the operator has neither a mobile nor a userId' };
    if (!me.unionId) {
      me.unionId = await env.dt.users.unionIdOf(me.userId);
      steps.push('userId → unionId');
    }
    return `${me.label} found${steps.length ? ` (${steps.join(', ')})` : ''}`;
  },
};

const stream: VerifyCheck = {
  id: 'stream',
  family: 'stream',
  title: 'Stream connection opened and closed',
  skip: needApp,
  async run(env) {
    // Subscribed to a topic nothing is sent on: the connection cannot take a push meant for a running hub
    // (DingTalk hands each push to one of an app's connections, §S6).
    const client = new StreamClient({
      clientId: env.appKey!,
      clientSecret: env.appSecret!,
      openApiBase: env.apiBase,
      env: env.env,
      subscriptions: [{ type: 'CALLBACK', topic: '/dingkit/verify/none' }],
      openTimeoutMs: env.timeoutMs,
      handshakeTimeoutMs: env.timeoutMs,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not connected within ${env.timeoutMs} ms`)),
            env.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await client.stop();
    }
    return 'opened (open call, ticket, WebSocket) and closed';
  },
};

export const READ_CHECKS: readonly VerifyCheck[] = [
  token,
  robotUnknownToken,
  authCode,
  unknownRoute,
  downloadCode,
  lookupMe,
  stream,
];
