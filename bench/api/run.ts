/**
 * HTTP API throughput, side by side: the same requests in-process (`app.request`, no socket) and over a real
 * loopback socket (undici, keep-alive), against the FakeHub so the numbers are the HTTP layer's own cost (auth,
 * contract validation, JSON) rather than the store's. Run: node --import tsx bench/api/run.ts
 */

import { Agent, request } from 'undici';
import { createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { createApp } from '../../src/server/app.js';
import { FakeHub } from '../../test/support/fake-hub.js';

const N = Number(process.env['BENCH_N'] ?? 3_000);
const CONCURRENCY = 16;

async function timed(label: string, n: number, one: (i: number) => Promise<number>): Promise<string[]> {
  const lat: number[] = [];
  let next = 0;
  let bad = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const status = await one(i);
        lat.push(performance.now() - t);
        if (status >= 500) bad++;
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(2);
  return [label, String(n), (n / secs).toFixed(0), p(0.5), p(0.99), String(bad)];
}

const hub = new FakeHub();
const store = new MemoryApiTokenStore();
const token = (await createApiToken(store, 'bench', ['admin'])).token;
const tokens = new StoreTokenVerifier(store);
const { app } = createApp({ hub, tokens, events: hub.events });
const server = await createApiServer(hub, { tokens, events: hub.events });
const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });
const auth = { authorization: `Bearer ${token}` };
const body = (i: number) => JSON.stringify({ group: 'ops', text: `bench message ${i}` });

const rows = [
  await timed('in-process GET /v1/health', N, async () => (await app.request('/v1/health')).status),
  await timed(
    'in-process POST /v1/messages',
    N,
    async (i) =>
      (
        await app.request('/v1/messages', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: body(i),
        })
      ).status,
  ),
  await timed(
    'in-process POST invalid body (400)',
    N,
    async () =>
      (
        await app.request('/v1/messages', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: '{"group":1}',
        })
      ).status,
  ),
  await timed('socket GET /v1/health', N, async () => {
    const r = await request(`${server.url}/v1/health`, { dispatcher: agent });
    await r.body.dump();
    return r.statusCode;
  }),
  await timed('socket POST /v1/messages', N, async (i) => {
    const r = await request(`${server.url}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: { ...auth, 'content-type': 'application/json' },
      body: body(i),
    });
    await r.body.dump();
    return r.statusCode;
  }),
];
await agent.close();
await server.close();

const head = ['case', 'requests', 'req/s', 'p50 ms', 'p99 ms', '5xx'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(`(concurrency ${CONCURRENCY}, FakeHub, node ${process.version})`);
