/** Builds the API app over a FakeHub with one token per scope, for route tests. */

import { Redactor } from '../../src/core/redact.js';
import { Registry } from '../../src/observe/metrics.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { type ApiAppOptions, createApp } from '../../src/server/app.js';
import { FakeHub } from './fake-hub.js';

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export async function apiHarness(
  opts: {
    bodyLimitBytes?: number;
    fileLimitBytes?: number;
    callbacks?: NonNullable<ApiAppOptions['callbacks']>;
  } = {},
) {
  const hub = new FakeHub();
  const store = new MemoryApiTokenStore();
  const read = (await createApiToken(store, 'reader', ['read'])).token;
  const send = (await createApiToken(store, 'sender', ['send'])).token;
  const admin = (await createApiToken(store, 'root', ['admin'])).token;
  const verifier = new StoreTokenVerifier(store, { ttlMs: 0 });
  const logs: LogLine[] = [];
  const log =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      logs.push({ level, obj, msg });
    };
  const metrics = new Registry();
  const { app, streams } = createApp({
    hub,
    tokens: verifier,
    events: hub.events,
    metrics,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    redactor: new Redactor([read, send, admin]),
    version: '0.1.0-test',
    sse: { heartbeatMs: 20 },
    ...opts,
  });
  const auth = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });
  const json = (token: string, body: unknown, method = 'POST', extra: Record<string, string> = {}) => ({
    method,
    headers: auth(token, { 'content-type': 'application/json', ...extra }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { hub, store, tokens: { read, send, admin }, app, streams, logs, metrics, auth, json };
}
