/**
 * Attack: JSON bodies over the limit sent to the hub's real socket. The API reads JSON bodies straight from Node's
 * request stream (http-input.ts), so the cap must hold there, not only in the in-process `app.request` path:
 * - a declared `content-length` over the cap is refused before the body is read;
 * - a chunked body (no length) is refused as soon as it passes the cap, while the attacker is still sending, and
 *   the hub does not buffer what follows;
 * - a client that hangs up half-way leaves nothing behind;
 * and the hub keeps serving everyone else after each.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/hub/config.js';
import { captureLogger, type HubWithApi, hubWithApi } from './support.js';

let h: HubWithApi;
let dir: string;
const LIMIT = 1_048_576;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dingkit-body-limit-'));
  const config = parseConfig(
    {
      emulator: { mode: 'on', port: 0 },
      database: { url: join(dir, 'hub.db') },
      dispatcher: { enabled: false },
    },
    {},
  );
  h = await hubWithApi(config, captureLogger().logger);
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
  /** Bytes the client had written when the answer came. */
  sentWhenAnswered: number;
}

/** POSTs `/v1/messages`, writing `chunks` of `chunk` bytes one after another (chunked unless `length` is given). */
function post(o: {
  chunks: number;
  chunk: number;
  length?: number;
  hangUpAfter?: number;
  /** Never end the body: the answer must come without it. */
  holdOpen?: boolean;
}): Promise<Answer> {
  const url = new URL('/v1/messages', h.api.url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'POST',
      // A connection each: a socket whose body the hub refused half-way is not one to send the next request on.
      agent: false,
      headers: {
        authorization: `Bearer ${h.token}`,
        'content-type': 'application/json',
        ...(o.length !== undefined ? { 'content-length': String(o.length) } : {}),
      },
    });
    req.on('response', (res) => {
      answered = true;
      const at = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentWhenAnswered: at }));
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const piece = Buffer.alloc(o.chunk, 0x20);
    // Whitespace between JSON tokens is valid: a body of any size that is a good request but for its size.
    req.write('{"group":"ops","text":"under the limit"');
    let i = 0;
    const next = () => {
      if (answered || req.destroyed) return;
      if (o.hangUpAfter !== undefined && i === o.hangUpAfter) {
        req.destroy();
        resolve({ status: 0, body: '', sentWhenAnswered: sent });
        return;
      }
      if (i++ >= o.chunks) {
        if (!o.holdOpen) req.end('}');
        return;
      }
      sent += piece.length;
      if (req.write(piece)) setImmediate(next);
      else req.once('drain', next);
    };
    next();
  });
}

async function stillServes(): Promise<void> {
  const r = await h.call('POST', '/v1/messages', { group: 'ops', text: 'after the attack' });
  expect(r.status).toBe(202);
}

describe('JSON body limit on the real socket', () => {
  it('a declared length over the limit is 413 before the body is read', async () => {
    const r = await post({ chunks: 1, chunk: 10, length: 50 * LIMIT });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('payload_too_large');
    await stillServes();
  });

  it('a chunked body is refused once it passes the limit, without waiting for its end', async () => {
    // 2 MiB and then nothing: the body never ends, so only a cap enforced while reading can answer.
    const r = await post({ chunks: 32, chunk: 65_536, holdOpen: true });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('payload_too_large');
    expect(r.sentWhenAnswered).toBeGreaterThan(LIMIT);
    await stillServes();
  }, 10_000);

  it('a body just under the limit is accepted', async () => {
    const r = await post({ chunks: 15, chunk: 65_536 });
    expect(r.status).toBe(202);
  });

  it('a client hanging up half-way changes nothing and the hub keeps serving', async () => {
    const before = (await h.hub.store.db.selectFrom('messages').select('id').execute()).length;
    await post({ chunks: 100, chunk: 1_024, hangUpAfter: 10 });
    await stillServes();
    const after = (await h.hub.store.db.selectFrom('messages').select('id').execute()).length;
    expect(after).toBe(before + 1);
  });
});
