/**
 * Refused uploads must get their answer to the client, and a refusal must not leave the client a connection
 * that the server is about to close.
 *
 * Found with the upload flood (bench/hub/upload-flood.ts, 30 uploads at files.maxConcurrentUploads 8 on a loaded
 * machine): 9 of 30 uploads died with EPIPE, every one a retry after a 429. The hub's trace showed each of those
 * sockets had carried exactly one request (its 429, answered after the whole body was read), then sat idle in
 * the server's view until Node's keep-alive timeout (5 s) closed it, while the client, seconds late under load,
 * was writing its retry into it. A first defence (Connection: close on the 429 only) left 1 EPIPE in 117 retries
 * in the bench: the pool handed the retry another idle socket, one that had carried a 202. Defence: every answer
 * of `POST /v1/files` says `Connection: close`, so no upload leaves a pooled socket behind.
 *
 * Second door: an answer sent before the body has arrived (401 from the token check, 413, 415, 400) made
 * @hono/node-server close the connection 500 ms later unless the rest of the body had come by then; a client
 * still sending failed with EPIPE or a reset instead of reading its 4xx. Defence: the route reads what is left of
 * the body (bounded, nothing kept) before the answer leaves.
 */

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubService } from '../../src/hub/service.js';
import { createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { backends, type HubFixture, startTestHub } from '../e2e/hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const BOUNDARY = 'dingkit-test-boundary';

function multipart(fileBytes: number): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="group"\r\n\r\nengineering\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n` +
        'Content-Type: application/pdf\r\n\r\n',
    ),
    Buffer.alloc(fileBytes, 0x61),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** One raw HTTP/1.1 request on its own socket: the answer's head, and whether the server then closed. */
function rawPost(
  url: string,
  token: string,
  body: Buffer,
): Promise<{ head: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let text = '';
    let head = '';
    let settled = false;
    const done = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ head, closedByServer });
    };
    // A kept-alive connection stays open; 1 s is far more than the server needs to close one it means to close.
    const timer = setTimeout(() => done(false), 1_000);
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!head && text.includes('\r\n\r\n')) head = text.slice(0, text.indexOf('\r\n\r\n'));
    });
    sock.on('end', () => done(true));
    sock.write(
      `POST /v1/files HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n` +
        'Connection: keep-alive\r\n\r\n',
    );
    sock.write(body);
  });
}

/**
 * A client that writes its whole body, one 64 KiB chunk every `everyMs`, and reads the answer only then (as
 * simple clients do): whether every write went through, and the status it read.
 */
function slowPost(url: string, token: string, chunks: number, everyMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  const body = multipart(chunks * 64 * 1024);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let text = '';
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    const write = (b: Buffer | string) =>
      new Promise<void>((ok, fail) => sock.write(b, (e) => (e ? fail(e) : ok())));
    void (async () => {
      await write(
        `POST /v1/files HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      for (let off = 0; off < body.length; off += 64 * 1024) {
        await new Promise((r) => setTimeout(r, everyMs));
        await write(body.subarray(off, off + 64 * 1024));
      }
      const deadline = Date.now() + 2_000;
      while (!text.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      sock.destroy();
      resolve(text.slice(0, text.indexOf('\r\n')));
    })().catch(reject);
  });
}

describe('refused uploads', () => {
  let fx: HubFixture;
  let server: Awaited<ReturnType<typeof createApiServer>>;
  let token = '';
  let release = () => {};
  let holding: Promise<void> = Promise.resolve();
  let entered = () => {};

  beforeAll(async () => {
    fx = await startTestHub(sqlite);
    const tokens = new MemoryApiTokenStore();
    token = (await createApiToken(tokens, 'sec', ['admin'])).token;
    // The real hub, except that a share waits for `release()`: an upload that holds the one slot.
    const real = fx.hub as unknown as HubService;
    const hub = new Proxy(real, {
      get(t, k) {
        if (k === 'shareFile') {
          return async (...args: Parameters<HubService['shareFile']>) => {
            entered();
            await holding;
            return t.shareFile(...args);
          };
        }
        const v = Reflect.get(t, k) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    server = await createApiServer(hub, {
      port: 0,
      tokens: new StoreTokenVerifier(tokens),
      events: fx.hub.events,
      maxConcurrentUploads: 1,
    });
  }, 60_000);

  afterAll(async () => {
    release();
    await server?.close();
    await fx?.cleanup();
  });

  it('a 429 and a 202 close their connection after the answer: no pooled upload socket meets a keep-alive close', async () => {
    holding = new Promise<void>((r) => {
      release = r;
    });
    const inShare = new Promise<void>((r) => {
      entered = r;
    });
    const form = new FormData();
    form.append('group', 'engineering');
    form.append('file', new Blob([Buffer.from('%PDF-1.4 held')]), 'held.pdf');
    const held = fetch(`${server.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    await inShare;

    const refused = await rawPost(server.url, token, multipart(256 * 1024));
    expect(refused.head).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.head).toMatch(/\r\nretry-after: 2\r\n/i);
    expect(refused.head).toMatch(/\r\nconnection: close\r\n/i);
    expect(refused.closedByServer).toBe(true);

    release();
    expect((await held).status).toBe(202);
    // An accepted upload's connection is not kept either: the client's next request opens its own.
    const accepted = await rawPost(server.url, token, multipart(256 * 1024));
    expect(accepted.head).toMatch(/^HTTP\/1\.1 202 /);
    expect(accepted.head).toMatch(/\r\nconnection: close\r\n/i);
    expect(accepted.closedByServer).toBe(true);
  });

  it('a 401 to a client still sending its body is read by that client, not cut off', async () => {
    // ~1 s of body: longer than the 500 ms @hono/node-server waited for the rest before closing.
    const status = await slowPost(server.url, 'not-a-token-at-all', 25, 40);
    expect(status).toBe('HTTP/1.1 401 Unauthorized');
  });
});
