/**
 * Shared pieces of the security tests: a logger that keeps every line, a TCP proxy in front of PostgreSQL that a
 * test can cut and restore (a store outage the hub cannot tell from a dead server), and a hub with its HTTP API
 * on loopback wired as `dingkit serve` wires it.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { launchHub } from '../../src/cli/launch-hub.js';
import type { Logger } from '../../src/core/logger.js';
import type { Emulator } from '../../src/emulator/emulator.js';
import type { HubConfig } from '../../src/hub/config.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { type ApiServer, createApiServer } from '../../src/server/api-server.js';
import { createApiToken, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { StoreApiTokens } from '../../src/server/store-tokens.js';

export interface LogLine {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
  /** The whole line as text, for searching. */
  text: string;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg = ''): void => {
      lines.push({ level, msg, obj, text: `${level} ${msg} ${JSON.stringify(obj)}` });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A TCP forwarder to `target`; `cut()` kills every connection and refuses new ones until `restore()`. */
export async function cuttableProxy(target: { host: string; port: number }): Promise<{
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const { connect } = await import('node:net');
  let down = false;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface HubWithApi {
  hub: RunningHub<Emulator>;
  api: ApiServer;
  token: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    auth?: string | null,
    // biome-ignore lint/suspicious/noExplicitAny: the tests read answers field by field and assert on them
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** A hub and its HTTP API on 127.0.0.1, wired as `dingkit serve` wires them (cli/serve.ts). */
export async function hubWithApi(config: HubConfig, logger: Logger): Promise<HubWithApi> {
  const hub = await launchHub({ config, logger, emulator: { port: 0 } });
  const tokens = new StoreApiTokens(hub.store);
  const api = await createApiServer(hub, {
    host: '127.0.0.1',
    port: 0,
    tokens: new StoreTokenVerifier(tokens, {
      onError: (e) => {
        if (!hub.storeFaults.report(e, 'token last-use update'))
          logger.warn({ err: String(e) }, 'token last-use update failed');
      },
    }),
    events: hub.events,
    metrics: hub.metrics,
    logger,
    storeFaults: hub.storeFaults,
  });
  const { token } = await createApiToken(tokens, 'security-test', ['admin']);
  return {
    hub,
    api,
    token,
    async call(method, path, body, auth) {
      const headers: Record<string, string> = {};
      const bearer = auth === undefined ? token : auth;
      if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed };
    },
    async stop() {
      await api.close();
      await hub.stop();
    },
  };
}
