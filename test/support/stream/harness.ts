/**
 * Test helpers shared by the stream integration tests: a client wired to a FakeGateway with windows scaled down to
 * tens of milliseconds, a gate (a promise released by hand) and a bounded wait.
 */

import { StreamClient } from '../../../src/stream/client.js';
import type { StreamClientOptions } from '../../../src/stream/options.js';
import type { FakeGateway } from './fake-gateway.js';

export const TEST_SECRET = 'canary-client-secret-7f3a9c';

export function fastClient(gw: FakeGateway, extra: Partial<StreamClientOptions> = {}): StreamClient {
  return new StreamClient({
    clientId: 'dingtestapp',
    clientSecret: TEST_SECRET,
    openApiBase: gw.base,
    pingIntervalMs: 0,
    backoff: { initialMs: 20, maxMs: 160, jitter: 0 },
    healthyAfterMs: 150,
    handshakeTimeoutMs: 1_000,
    openTimeoutMs: 1_000,
    drainTimeoutMs: 300,
    ...extra,
  });
}

export interface Gate {
  promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts of active handles that matter for leaks (timers and TCP sockets). */
export function activeHandles(): { timers: number; sockets: number } {
  const info = process.getActiveResourcesInfo();
  return {
    timers: info.filter((t) => t === 'Timeout').length,
    sockets: info.filter((t) => t === 'TCPSocketWrap').length,
  };
}
