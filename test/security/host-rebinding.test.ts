/**
 * DNS rebinding: a page on `evil.example` whose DNS answer is switched to 127.0.0.1 talks to the hub
 * or the emulator on loopback as if it were its own origin, so the browser sends `Host: evil.example:<port>` and
 * lets the page read the answers. The forged Host header is sent here directly; every answer must be a 403 that
 * carries nothing: not the dashboard, not /v1/health, not the emulator's org (which holds app secrets), and no
 * control call may change anything. Loopback names, IP literals and the configured `server.allowedHosts` still work.
 */

import { connect } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliContext } from '../../src/cli/context.js';
import { emulatorVerb } from '../../src/cli/emulator.js';
import { hostAllowed } from '../../src/core/allowed-hosts.js';
import { waitFor } from '../e2e/hub-helpers.js';
import { type HostileHub, rawRequest, startHostileHub } from './hostile-hub.js';

let h: HostileHub;
let api = '';
let emu = '';

beforeAll(async () => {
  h = await startHostileHub({ server: { allowedHosts: ['hub.example.com'] } });
  api = h.server.url;
  emu = h.f.hub.emulator!.url;
}, 60_000);
afterAll(async () => h?.close());

const evil = (url: string) => `evil.example:${new URL(url).port}`;

describe('the hub API refuses a rebound Host', () => {
  it('attack: GET / (the dashboard) and /v1/health with Host evil.example → 403, no page, no health', async () => {
    for (const path of ['/', '/v1/health', '/openapi.json']) {
      const r = await rawRequest(`${api}${path}`, { host: evil(api) });
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body)).toEqual({
        error: { code: 'host_not_allowed', message: 'this Host is not served here (server.allowedHosts)' },
      });
    }
  });

  it('attack: a bearer-token POST sent with a rebound Host (token from elsewhere) → 403, nothing queued', async () => {
    const before = (await h.f.hub.listDeliveries({ limit: 1000 })).length;
    const r = await rawRequest(`${api}/v1/messages`, {
      method: 'POST',
      host: evil(api),
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'ops', text: 'rebound' }),
    });
    expect(r.status).toBe(403);
    expect((await h.f.hub.listDeliveries({ limit: 1000 })).length).toBe(before);
  });

  it('attack: variants of the name (upper case, trailing dot, no port, a sub-domain of localhost look-alike)', async () => {
    for (const host of [
      'EVIL.EXAMPLE',
      'evil.example.',
      'localhost.evil.example',
      '127.0.0.1.evil.example',
    ]) {
      const r = await rawRequest(`${api}/v1/health`, { host });
      expect(r.status, host).toBe(403);
    }
    // A malformed Host never reaches the app: the Node adapter answers 400 first.
    expect((await rawRequest(`${api}/v1/health`, { host: 'x@evil' })).status).toBe(400);
  });

  it('still served: 127.0.0.1, localhost, [::1], *.localhost and the configured public host', async () => {
    const port = new URL(api).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      `app.localhost:${port}`,
      'hub.example.com',
      `hub.example.com:${port}`,
    ]) {
      const r = await rawRequest(`${api}/v1/health`, { host });
      expect(r.status, host).toBe(200);
    }
  });
});

describe('DingTalk’s callbacks reach their signature check whatever the Host', () => {
  it('a callback to the public name DingTalk was given is judged by its signature, not refused as rebinding', async () => {
    const cb = await startHostileHub({ inbound: { mode: 'http' } });
    try {
      const post = (host?: string) =>
        rawRequest(`${cb.server.url}/callbacks/robot`, {
          method: 'POST',
          ...(host ? { host } : {}),
          headers: {
            'content-type': 'application/json',
            timestamp: String(Date.now()),
            sign: 'bm90IGEgc2lnbg==',
          },
          body: JSON.stringify({ msgtype: 'text', text: { content: 'tasks' } }),
        });
      const local = await post();
      const publicName = await post('callbacks.example.com');
      expect(local.status).toBeGreaterThanOrEqual(400);
      expect(publicName.status).toBe(local.status);
      expect(publicName.body).toBe(local.body);
      expect(publicName.body).not.toContain('host_not_allowed');
      // Only the callback routes: the API under the same name is still refused, also through dot segments.
      for (const path of [
        '/v1/health',
        '/callbacks/../v1/health',
        '/callbacks/%2e%2e/v1/health',
        '/callbacks/..%2fv1/health',
      ]) {
        const r = await rawRequest(`${cb.server.url}${path}`, { host: 'callbacks.example.com' });
        expect(r.status, path).not.toBe(200);
        expect(r.body, path).not.toContain('"ok"');
      }
    } finally {
      await cb.close();
    }
  }, 60_000);
});

describe('the emulator refuses a rebound Host', () => {
  it('attack: GET /_emulator/org (app secrets) and /_emulator/messages → 403 with nothing of the org', async () => {
    for (const path of ['/_emulator/org', '/_emulator/messages', '/gettoken?appkey=x&appsecret=y']) {
      const r = await rawRequest(`${emu}${path}`, { host: evil(emu) });
      expect(r.status, path).toBe(403);
      expect(r.body).toBe('{"error":"host not allowed"}');
    }
    const honest = await rawRequest(`${emu}/_emulator/org`);
    expect(honest.status).toBe(200);
    expect(honest.body).toContain('appSecret');
  });

  it('attack: a control POST (post a chat message as someone) with a rebound Host changes nothing', async () => {
    const count = async () =>
      JSON.parse((await rawRequest(`${emu}/_emulator/messages`)).body).length as number;
    const before = await count();
    const r = await rawRequest(`${emu}/_emulator/users/alice/messages`, {
      method: 'POST',
      host: evil(emu),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'tasks' }),
    });
    expect(r.status).toBe(403);
    expect(await count()).toBe(before);
  });

  it('attack: a WebSocket upgrade (the Stream gateway) with a rebound Host → HTTP 403, no 101', async () => {
    const port = Number(new URL(emu).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(
          `GET /connect?ticket=x HTTP/1.1\r\nHost: evil.example:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let got = '';
      s.on('data', (c) => {
        got += c.toString('latin1');
      });
      s.on('end', () => resolve(got));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
  });
});

describe('`dingkit emulator --allow-host`', () => {
  it('answers DingTalk routes under the names given (another container’s name for it), refuses the rest', async () => {
    let out = '';
    const stdout = new Writable({
      write(c, _e, cb) {
        out += String(c);
        cb();
      },
    });
    const io = {
      stdout,
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      stdin: Readable.from([]),
      env: {},
      cwd: '/',
    };
    let stop = () => {};
    const until = new Promise<void>((r) => {
      stop = r;
    });
    const ctx = new CliContext(io, {
      json: true,
      url: undefined,
      token: undefined,
      config: undefined,
      help: false,
    });
    const running = emulatorVerb(['--port', '0', '--allow-host', 'emulator, dingtalk.internal'], ctx, {
      until,
    });
    try {
      const url = await waitFor(() =>
        out.includes('"url"') ? (JSON.parse(out) as { url: string }).url : undefined,
      );
      // DingTalk's routes answer the listed names (oapi answers 200 with an errcode for a wrong key) ...
      const gettoken = (host: string) => rawRequest(`${url}/gettoken?appkey=x&appsecret=y`, { host });
      expect((await gettoken('emulator:8788')).status).toBe(200);
      expect((await gettoken('dingtalk.internal')).status).toBe(200);
      expect((await gettoken('evil.example')).status).toBe(403);
      // ... while the control API stays on loopback names and IP literals (src/emulator/control/guard.ts).
      expect((await rawRequest(`${url}/_emulator/health`, { host: 'emulator:8788' })).status).toBe(403);
      expect((await rawRequest(`${url}/_emulator/health`)).status).toBe(200);
    } finally {
      stop();
      expect(await running).toBe(0);
    }
  });
});

describe('hostAllowed (the rule both servers use)', () => {
  it.each([
    ['127.0.0.1:8787', [], true],
    ['127.1.2.3', [], true],
    ['[::1]:8787', [], true],
    ['[::1]x', [], false],
    ['localhost', [], true],
    ['dash.localhost:1', [], true],
    ['10.0.0.5:8787', [], true],
    ['999.0.0.1', [], false],
    ['evil.example:8787', [], false],
    ['evil.example:8787', ['evil.example'], true],
    ['hub.example.com', ['HUB.example.com:443'], true],
    ['localhostevil.com', [], false],
    ['a b', [], false],
    ['', [], true],
    [undefined, [], true],
  ] as const)('%s with %j → %s', (host, allowed, ok) => {
    expect(hostAllowed(host, allowed)).toBe(ok);
  });
});
