import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, TimeoutError } from './errors.js';
import { createHttpTransport, type RawRequest } from './transport.js';

let server: Server;
let origin: string;
const transport = createHttpTransport({ connections: 8 });

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/ok')) {
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ errcode: 0, path: url })));
    } else if (url.startsWith('/hang')) {
      req.resume(); // never answers
    } else if (url.startsWith('/reset-after-read')) {
      req.resume();
      req.on('end', () => req.socket.destroy());
    } else if (url.startsWith('/big')) {
      res.end(Buffer.alloc(64 * 1024, 97));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function req(path: string, extra: Partial<RawRequest> = {}): RawRequest {
  return {
    origin,
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
    timeoutMs: 2_000,
    maxResponseBytes: 1024 * 1024,
    operation: 'test.op',
    ...extra,
  };
}

describe('transport', () => {
  it('returns status, lower-cased headers and the whole body', async () => {
    const res = await transport.send(req('/ok?x=1'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ errcode: 0, path: '/ok?x=1' });
    expect(typeof res.headers['content-length']).toBe('string');
  });

  it('classifies a refused connection as not_sent', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await transport.send(req('/ok', { origin: `http://127.0.0.1:${port}` })).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.outcome).toBe('not_sent');
    expect(err.retryable).toBe(true);
  });

  it('classifies a hang after the request was written as an unknown-outcome timeout', async () => {
    const err = await transport.send(req('/hang', { timeoutMs: 150 })).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.outcome).toBe('unknown');
    expect(err.retryable).toBe(false);
  });

  it('classifies a reset after the request was read as unknown', async () => {
    const err = await transport.send(req('/reset-after-read')).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.outcome).toBe('unknown');
  });

  it('refuses bodies over the cap with outcome unknown', async () => {
    const err = await transport.send(req('/big', { maxResponseBytes: 1024 })).catch((e) => e);
    expect(err.code).toBe('RESPONSE_TOO_LARGE');
    expect(err.outcome).toBe('unknown');
  });

  it('aborts on the caller signal', async () => {
    const ac = new AbortController();
    const p = transport.send(req('/hang', { signal: ac.signal, timeoutMs: 5_000 }));
    setTimeout(() => ac.abort(), 20);
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.retryable).toBe(false);
  });
});
