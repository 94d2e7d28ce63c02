/**
 * Streamed multipart uploads over a real socket (core transport + media): the server sees an exact
 * content-length and the whole body; a connection reset in the middle of the upload is `not_sent` (DingTalk
 * cannot act on a truncated multipart body) and the retry re-reads the file from the start.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingTalk } from '../../src/client.js';
import { NetworkError } from '../../src/core/errors.js';

let server: Server;
let base: string;
let dir: string;
let mode: 'ok' | 'reset-once' | 'reset-always' = 'ok';
let resets = 0;
const seen: Array<{ length: number; declared: number; body: Buffer }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dingkit-upload-'));
  server = createServer((req, res) => {
    if (req.url?.startsWith('/v1.0/oauth2/accessToken')) {
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ accessToken: 'tok', expireIn: 7200 })));
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if ((mode === 'reset-always' || (mode === 'reset-once' && resets === 0)) && n > 64 * 1024) {
        resets++;
        req.socket.destroy();
      }
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ length: body.length, declared: Number(req.headers['content-length']), body });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ errcode: 0, errmsg: 'ok', type: 'file', media_id: '@streamed', created_at: 1 }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function client(): DingTalk {
  return new DingTalk({
    appKey: 'k',
    appSecret: 'app-secret-value',
    oapiBase: base,
    apiBase: base,
    env: {},
    retry: { minDelayMs: 1, maxDelayMs: 2, retries: 2 },
  });
}

describe('streamed upload over a socket', () => {
  it('sends the whole file with an exact content-length', async () => {
    mode = 'ok';
    seen.length = 0;
    const path = join(dir, 'big.zip');
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    await writeFile(path, data);
    const dt = client();
    const r = await dt.media.upload({ type: 'file', source: path });
    expect(r.mediaId).toBe('@streamed');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.length).toBe(seen[0]!.declared);
    expect(seen[0]!.body.includes(data)).toBe(true);
    await dt.close();
  });

  it('a reset mid-upload is not_sent and the retry re-reads the file from the start', async () => {
    mode = 'reset-once';
    resets = 0;
    seen.length = 0;
    const path = join(dir, 'retry.pdf');
    const data = Buffer.alloc(512 * 1024, 0x41);
    await writeFile(path, data);
    const errors: unknown[] = [];
    const dt = new DingTalk({
      appKey: 'k',
      appSecret: 'app-secret-value',
      oapiBase: base,
      apiBase: base,
      env: {},
      retry: { minDelayMs: 1, maxDelayMs: 2, retries: 2, onRetry: ({ error }) => errors.push(error) },
    });
    await dt.media.upload({ type: 'file', source: path });
    expect(resets).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NetworkError);
    expect((errors[0] as NetworkError).outcome).toBe('not_sent');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body.includes(data)).toBe(true);
    await dt.close();
  });

  it('resets on every attempt end in a not_sent NetworkError after the retries', async () => {
    mode = 'reset-always';
    resets = 0;
    const path = join(dir, 'never.pdf');
    await writeFile(path, Buffer.alloc(256 * 1024, 0x42));
    const dt = client();
    const err = await dt.media.upload({ type: 'file', source: path }).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.outcome).toBe('not_sent');
    expect(resets).toBe(3);
    await dt.close();
  });
});
