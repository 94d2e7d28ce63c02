/**
 * Listening: the API app on a real socket, loopback by default. `close()` ends open SSE streams first (they
 * would otherwise keep the server open forever), then stops accepting and waits for requests in flight.
 */

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { HubService } from '../hub/service.js';
import { type ApiAppOptions, createApp } from './app.js';

export interface ApiServerOptions extends Omit<ApiAppOptions, 'hub'> {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** How long `close()` waits for requests in flight before cutting connections. @default 5_000 */
  closeTimeoutMs?: number;
}

export interface ApiServer {
  /** e.g. `http://127.0.0.1:8787` (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function createApiServer(hub: HubService, opts: ApiServerOptions): Promise<ApiServer> {
  const { app, streams } = createApp({ ...opts, hub });
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? 0 }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        streams.closeAll();
        const timer = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, opts.closeTimeoutMs ?? 5_000);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      return closing;
    },
  };
}
