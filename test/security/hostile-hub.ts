/**
 * The set-up the "text from people, shown to operators" attacks share: a real hub (SQLite store, dispatcher,
 * Stream receiver) against the real emulator, its HTTP API on a loopback socket with an admin token, and helpers
 * that put hostile text where a person in the org can put it.
 */

import { request } from 'node:http';
import type { LaunchHubOptions } from '../../src/cli/launch-hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { TOPIC_BOT_MESSAGE as BOT_TOPIC } from '../../src/stream/index.js';
import { backends, type HubFixture, OPS, startTestHub, testConfig } from '../e2e/hub-helpers.js';

export interface HostileHub {
  f: HubFixture;
  server: ApiServer;
  /** An admin token for the API. */
  token: string;
  close(): Promise<void>;
}

export async function startHostileHub(
  config: Record<string, unknown> = {},
  opts: Partial<LaunchHubOptions> = {},
): Promise<HostileHub> {
  const sqlite = backends.find((b) => b.name === 'sqlite')!;
  const f = await startTestHub(sqlite, { ...opts, config: testConfig(config) });
  const tokens = new MemoryApiTokenStore();
  const token = (await createApiToken(tokens, 'operator', ['admin'])).token;
  const server = await createApiServer(f.hub, {
    tokens: new StoreTokenVerifier(tokens, { ttlMs: 0 }),
    events: f.hub.events,
    metrics: f.hub.metrics,
    allowedHosts: f.hub.config.server.allowedHosts,
    ...(f.hub.callbacks ? { callbacks: f.hub.callbacks } : {}),
    sse: { heartbeatMs: 1_000 },
  });
  return {
    f,
    server,
    token,
    async close() {
      await server.close();
      await f.cleanup();
    },
  };
}

/**
 * A chat message from someone outside the directory (DingTalk leaves `senderStaffId` empty for external users,
 * docs/dingtalk.md §9a): the nick is theirs to choose and becomes the `by` of the `inbound.command` event. Stored in the
 * inbox as the Stream receiver would store it, then processed.
 */
export async function chatFromStranger(h: HostileHub, nick: string, text: string, id: string): Promise<void> {
  await h.f.hub.inbox.commit(`bot:${id}`, 'stream', BOT_TOPIC, {
    msgtype: 'text',
    text: { content: text },
    msgId: id,
    conversationType: '2',
    conversationId: OPS,
    conversationTitle: 'ops',
    senderNick: nick,
    senderStaffId: '',
    robotCode: 'dingdemoappkey000001',
  });
  await h.f.hub.drainInbox();
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with a Host header of our choosing (fetch would not let us forge it). */
export function rawRequest(
  url: string,
  o: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: o.method ?? 'GET',
        setHost: o.host === undefined,
        headers: { ...(o.host !== undefined ? { host: o.host } : {}), ...o.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}
