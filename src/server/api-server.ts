/**
 * Listening: the API app on a real socket, loopback by default. `close()` ends open SSE streams first (they
 * would otherwise keep the server open forever), then stops accepting and waits for requests in flight.
 */

import type { Server } from 'node:http';
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
  // Requests being answered (an SSE stream counts only until its headers are out: closeAll() ends it).
  let inflight = 0;
  const counted = async (req: Request, env: unknown) => {
    inflight++;
    try {
      return await app.fetch(req, env);
    } finally {
      inflight--;
    }
  };
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: counted, hostname: host, port: opts.port ?? 0 }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const http = server as Server;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        streams.closeAll();
        // Once nothing is being answered, the remaining sockets are idle keep-alives or connections that never
        // sent a request (closeIdleConnections() leaves those, and server.close() would wait for them): cut them.
        // Requests still running get until the deadline.
        const sweep = setInterval(() => {
          http.closeIdleConnections();
          if (inflight === 0) http.closeAllConnections();
        }, 25);
        const deadline = setTimeout(() => http.closeAllConnections(), opts.closeTimeoutMs ?? 5_000);
        deadline.unref();
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve();
        });
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}
