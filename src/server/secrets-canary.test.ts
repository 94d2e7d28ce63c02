/**
 * Secrets canary for the HTTP API: unique canary values for the app secret, the robot token and sign secret
 * and the API tokens, pushed through every path that could echo them — upstream errors carrying them by value
 * (502, 500, 400), tokens in headers and in the SSE query string, secret-named body fields — and then searched,
 * with their URL-encoded and base64 forms, in every answer and every log line. The twin runs the same traffic
 * without the config's secrets registered and shows the scan finds a leak.
 */

import { describe, expect, it } from 'vitest';
import { FakeHub } from '../../test/support/fake-hub.js';
import { configRedactor } from '../cli/secrets.js';
import { PlatformError, ValidationError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';
import { Redactor as BareRedactor } from '../core/redact.js';
import { parseConfig } from '../hub/config.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from './api-tokens.js';
import { createApp } from './app.js';

const CANARY = {
  appSecret: 'canaryAppSecret7Q2xZ9vLm4Kp8Rt1',
  robotToken: 'c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77',
  robotSecret: 'SECcanary0123456789abcdef0123456789abcdef0123456789abcdef01234567',
};

const config = parseConfig({
  apps: { main: { appKey: 'dingcanaryapp', appSecret: CANARY.appSecret } },
  robots: {
    ops: {
      webhook: `https://oapi.dingtalk.com/robot/send?access_token=${CANARY.robotToken}`,
      secret: CANARY.robotSecret,
    },
  },
  groups: { ops: { robot: 'ops' } },
});

function forms(s: string): string[] {
  const b64 = Buffer.from(s).toString('base64');
  return [s, encodeURIComponent(s), b64, b64.replace(/=+$/, '')];
}

async function traffic(redactorFor: (apiTokens: string[]) => Redactor) {
  const hub = new FakeHub();
  const store = new MemoryApiTokenStore();
  const admin = (await createApiToken(store, 'canary-admin', ['admin'])).token;
  const reader = (await createApiToken(store, 'canary-reader', ['read'])).token;
  const logs: string[] = [];
  const log = (obj: Record<string, unknown>, msg?: string) => logs.push(JSON.stringify({ obj, msg }));
  const { app } = createApp({
    hub,
    tokens: new StoreTokenVerifier(store),
    events: hub.events,
    logger: { debug: log, info: log, warn: log, error: log },
    redactor: redactorFor([admin, reader]),
  });
  const answers: string[] = [];
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await app.request(path, init);
    const text =
      res.body && res.headers.get('content-type')?.includes('event-stream') ? '' : await res.text();
    answers.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}:${v}`).join(' ')} ${text}`);
    return res;
  };
  const auth = { authorization: `Bearer ${admin}` };
  const json = { ...auth, 'content-type': 'application/json' };

  hub.failNext = {
    method: 'sendMessage',
    error: new PlatformError(
      'PLATFORM',
      `robot ${CANARY.robotToken} refused; sign secret ${CANARY.robotSecret}`,
      {
        status: 200,
        errcode: 310000,
      },
    ),
  };
  expect(
    (await call('/v1/messages', { method: 'POST', headers: json, body: '{"group":"ops","text":"x"}' }))
      .status,
  ).toBe(502);
  hub.failNext = { method: 'listPeople', error: new Error(`db said appsecret is ${CANARY.appSecret}`) };
  expect((await call('/v1/people', { headers: auth })).status).toBe(500);
  hub.failNext = {
    method: 'assignTask',
    error: new ValidationError(`cannot use ${CANARY.appSecret} as a name`, 'assignees'),
  };
  expect(
    (await call('/v1/tasks', { method: 'POST', headers: json, body: '{"title":"t","assignees":["a"]}' }))
      .status,
  ).toBe(400);
  // Secret-named fields and values in bad input are refused without being echoed.
  await call('/v1/messages', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ group: 'ops', text: 'x', secret: CANARY.robotSecret }),
  });
  await call('/v1/messages', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ group: CANARY.robotSecret, text: 'x' }),
  });
  await call(`/v1/tasks?assignee=${CANARY.appSecret}&state=${CANARY.robotToken}`, { headers: auth });
  // Tokens in the query (SSE) and in headers, good and bad.
  const sse = await app.request(`/v1/events?access_token=${reader}`);
  await sse.body?.cancel();
  await call(`/v1/tasks?access_token=${reader}`);
  await call('/v1/people', { headers: { authorization: `Bearer ${admin}x` } });
  await call('/metrics', { headers: auth });
  return { answers: answers.join('\n'), logs: logs.join('\n'), tokens: [admin, reader] };
}

describe('S1: secrets canary over the HTTP API', () => {
  it('no canary, API token or their encodings appear in any answer or log line', async () => {
    const out = await traffic((tokens) => {
      const r = configRedactor(config);
      for (const t of tokens) r.add(t);
      return r;
    });
    expect(out.logs).toContain('request failed');
    for (const secret of [...Object.values(CANARY), ...out.tokens]) {
      for (const f of forms(secret)) {
        expect(out.answers, `answer leaks ${f.slice(0, 8)}…`).not.toContain(f);
        expect(out.logs, `log leaks ${f.slice(0, 8)}…`).not.toContain(f);
      }
    }
  });

  it('twin: without the config secrets registered, the same traffic leaks and the scan sees it', async () => {
    const out = await traffic(() => new BareRedactor());
    const all = out.answers + out.logs;
    expect(Object.values(CANARY).some((s) => all.includes(s))).toBe(true);
  });
});
