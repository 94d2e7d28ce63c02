import { describe, expect, it } from 'vitest';
import { DingTalkCore } from './client-core.js';
import { PlatformError, RateLimitedError, RobotSecurityError, TokenError } from './errors.js';
import type { RawRequest, RawResponse, Transport } from './transport.js';

type Reply = { status?: number; body: unknown; headers?: Record<string, string> } | Error;

/** A transport fake: records every raw request and answers from a script. */
function fakeTransport(script: (req: RawRequest, n: number) => Reply | Promise<Reply>) {
  const calls: RawRequest[] = [];
  const send: Transport = async (req) => {
    calls.push(req);
    const r = await script(req, calls.length);
    if (r instanceof Error) throw r;
    const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    return {
      status: r.status ?? 200,
      headers: r.headers ?? {},
      body: Buffer.from(body),
    } satisfies RawResponse;
  };
  return { send, calls };
}

const tokenReply = (token = 'tok-1', expireIn = 7200): Reply => ({ body: { accessToken: token, expireIn } });

function core(send: Transport, extra: Partial<ConstructorParameters<typeof DingTalkCore>[0]> = {}) {
  return new DingTalkCore({
    appKey: 'dingappkey',
    appSecret: 'app-secret-canary-123',
    transport: send,
    retry: { sleep: async () => {}, retries: 2 },
    env: {},
    ...extra,
  });
}

describe('host rules', () => {
  it('puts the token in the query on oapi and in the header on api', async () => {
    const t = fakeTransport((req) =>
      req.path.startsWith('/v1.0/oauth2') ? tokenReply() : { body: { errcode: 0 } },
    );
    const c = core(t.send);
    await c.request({
      operation: 'x.oapi',
      host: 'oapi',
      method: 'POST',
      path: '/topapi/x',
      auth: 'app',
      idempotent: true,
    });
    await c.request({
      operation: 'x.api',
      host: 'api',
      method: 'POST',
      path: '/v1.0/x',
      auth: 'app',
      idempotent: true,
    });
    expect(t.calls[1]!.path).toBe('/topapi/x?access_token=tok-1');
    expect(t.calls[1]!.headers['x-acs-dingtalk-access-token']).toBeUndefined();
    expect(t.calls[2]!.path).toBe('/v1.0/x');
    expect(t.calls[2]!.headers['x-acs-dingtalk-access-token']).toBe('tok-1');
    expect(t.calls[0]!.origin).toBe('https://api.dingtalk.com');
    expect(t.calls[1]!.origin).toBe('https://oapi.dingtalk.com');
  });

  it('treats HTTP 200 with a non-zero errcode as a failure', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 400002, errmsg: 'bad param' } }));
    const err = await core(t.send)
      .request({ operation: 'x', host: 'oapi', method: 'POST', path: '/x', auth: 'none', idempotent: false })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.errcode).toBe(400002);
    expect(err.outcome).toBe('rejected');
  });

  it('maps v1.0 status + code bodies, with the request id', async () => {
    const t = fakeTransport(() => ({
      status: 400,
      body: { code: 'invalidParameter.msgParam.invalid', message: 'msgParam is not json', requestid: 'R1' },
    }));
    const err = await core(t.send)
      .request({
        operation: 'x',
        host: 'api',
        method: 'POST',
        path: '/v1.0/x',
        auth: 'none',
        idempotent: false,
      })
      .catch((e) => e);
    expect(err.code).toBe('BAD_MSG_PARAM');
    expect(err.requestId).toBe('R1');
    expect(err.platformCode).toBe('invalidParameter.msgParam.invalid');
  });

  it.each([
    ['keywords not in content', 'keyword'],
    ['sign not match', 'sign'],
    ['invalid timestamp', 'timestamp'],
    ['ip 1.2.3.4 not in whitelist', 'ip'],
  ])('says which robot security check failed: %s', async (errmsg, check) => {
    const t = fakeTransport(() => ({ body: { errcode: 310000, errmsg } }));
    const err = await core(t.send)
      .request({
        operation: 'webhook.send',
        host: 'oapi',
        method: 'POST',
        path: '/robot/send',
        auth: 'none',
        idempotent: false,
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RobotSecurityError);
    expect(err.check).toBe(check);
    expect(t.calls).toHaveLength(1);
  });

  it('turns the per-IP ban page into an ip-scoped rate limit', async () => {
    const t = fakeTransport(() => ({ body: { status: 1111, wait: 5, source: 'x5', punish: 'deny' } }));
    const err = await core(t.send, { retry: false })
      .request({
        operation: 'x',
        host: 'api',
        method: 'GET',
        path: '/v1.0/x',
        auth: 'none',
        idempotent: true,
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.scope).toBe('ip');
    expect(err.retryAfterMs).toBe(300_000);
  });

  it('classifies an HTML 200 as an unknown outcome, not success', async () => {
    const t = fakeTransport(() => ({ body: '<html>gateway</html>' }));
    const err = await core(t.send)
      .request({ operation: 'x', host: 'oapi', method: 'POST', path: '/x', auth: 'none', idempotent: false })
      .catch((e) => e);
    expect(err.code).toBe('HTTP_ERROR');
    expect(err.outcome).toBe('unknown');
  });
});

describe('tokens', () => {
  it('makes one fetch for 10,000 concurrent callers', async () => {
    let fetches = 0;
    const t = fakeTransport(async (req) => {
      if (req.path.startsWith('/v1.0/oauth2')) {
        fetches++;
        await new Promise((r) => setTimeout(r, 5));
        return tokenReply();
      }
      return { body: { errcode: 0 } };
    });
    const c = core(t.send, { rateLimit: false });
    await Promise.all(
      Array.from({ length: 10_000 }, () =>
        c.request({ operation: 'x', host: 'oapi', method: 'GET', path: '/x', auth: 'app', idempotent: true }),
      ),
    );
    expect(fetches).toBe(1);
    expect(c.tokens?.fetchCount).toBe(1);
  });

  it('refreshes once and replays once on an invalid token, never loops', async () => {
    let n = 0;
    const t = fakeTransport((req) => {
      if (req.path.startsWith('/v1.0/oauth2')) return tokenReply(`tok-${++n}`);
      return { body: { errcode: 40014, errmsg: 'invalid access_token' } };
    });
    const c = core(t.send);
    const err = await c
      .request({ operation: 'x', host: 'oapi', method: 'POST', path: '/x', auth: 'app', idempotent: false })
      .catch((e) => e);
    expect(err.code).toBe('TOKEN_INVALID');
    const calls = t.calls.filter((r) => r.path.startsWith('/x'));
    expect(calls.map((r) => r.path)).toEqual(['/x?access_token=tok-1', '/x?access_token=tok-2']);
    expect(n).toBe(2);
  });

  it('refreshes in the background before expiry and keeps serving the old token meanwhile', async () => {
    let now = 1_000_000;
    let n = 0;
    const t = fakeTransport((req) =>
      req.path.startsWith('/v1.0/oauth2') ? tokenReply(`tok-${++n}`, 7200) : { body: { errcode: 0 } },
    );
    const c = core(t.send, { now: () => now });
    const call = () =>
      c.request({ operation: 'x', host: 'oapi', method: 'GET', path: '/x', auth: 'app', idempotent: true });
    await call();
    now += 7200_000 - 240_000; // 4 minutes before expiry: inside the 5-minute refresh window
    await call();
    expect(t.calls.at(-1)!.path).toContain('tok-1');
    await new Promise((r) => setImmediate(r));
    await call();
    expect(t.calls.at(-1)!.path).toContain('tok-2');
    expect(n).toBe(2);
  });

  it('uses a shared store so a second client does not fetch', async () => {
    const { MemoryTokenStore } = await import('./token-manager.js');
    const store = new MemoryTokenStore();
    let fetches = 0;
    const t = fakeTransport((req) => {
      if (req.path.startsWith('/v1.0/oauth2')) {
        fetches++;
        return tokenReply();
      }
      return { body: { errcode: 0 } };
    });
    const a = core(t.send, { token: { store } });
    const b = core(t.send, { token: { store } });
    await a.request({
      operation: 'x',
      host: 'oapi',
      method: 'GET',
      path: '/x',
      auth: 'app',
      idempotent: true,
    });
    await b.request({
      operation: 'x',
      host: 'oapi',
      method: 'GET',
      path: '/x',
      auth: 'app',
      idempotent: true,
    });
    expect(fetches).toBe(1);
  });

  it('reports bad credentials as a TokenError without the secret', async () => {
    const t = fakeTransport(() => ({
      status: 400,
      body: { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret' },
    }));
    const err = await core(t.send)
      .request({ operation: 'x', host: 'api', method: 'GET', path: '/v1.0/x', auth: 'app', idempotent: true })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TokenError);
    expect(JSON.stringify(err)).not.toContain('app-secret-canary-123');
    expect(String(err.message)).not.toContain('app-secret-canary-123');
  });
});

describe('retry rules', () => {
  const send = (idempotent: boolean, first: Reply) => {
    const t = fakeTransport((_req, n) => (n === 1 ? first : { body: { errcode: 0 } }));
    const p = core(t.send, { rateLimit: false }).request({
      operation: 'x',
      host: 'oapi',
      method: 'POST',
      path: '/x',
      auth: 'none',
      idempotent,
    });
    return { p, t };
  };

  it('retries a not_sent failure of a non-idempotent send', async () => {
    const { NetworkError } = await import('./errors.js');
    const { p, t } = send(false, new NetworkError('refused', { outcome: 'not_sent' }));
    await expect(p).resolves.toBeDefined();
    expect(t.calls).toHaveLength(2);
  });

  it('never retries an unknown outcome of a non-idempotent send', async () => {
    const { TimeoutError } = await import('./errors.js');
    const { p, t } = send(false, new TimeoutError('hang', 100, { outcome: 'unknown' }));
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    expect(t.calls).toHaveLength(1);
  });

  it('retries an unknown outcome of an idempotent request', async () => {
    const { TimeoutError } = await import('./errors.js');
    const { p, t } = send(true, new TimeoutError('hang', 100, { outcome: 'unknown' }));
    await expect(p).resolves.toBeDefined();
    expect(t.calls).toHaveLength(2);
  });

  it('retries "system busy" (-1) because DingTalk said it did not act', async () => {
    const { p, t } = send(false, { body: { errcode: -1, errmsg: 'busy' } });
    await expect(p).resolves.toBeDefined();
    expect(t.calls).toHaveLength(2);
  });

  it('does not retry a plain rejection', async () => {
    const { p, t } = send(false, { body: { errcode: 40035, errmsg: 'missing json' } });
    await expect(p).rejects.toBeInstanceOf(PlatformError);
    expect(t.calls).toHaveLength(1);
  });
});

describe('config', () => {
  it('takes base URLs from the environment', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 0 } }));
    const c = new DingTalkCore({
      transport: t.send,
      env: { DINGTALK_OAPI_BASE: 'http://127.0.0.1:9/base/', DINGTALK_API_BASE: 'http://127.0.0.1:10' },
    });
    await c.request({
      operation: 'x',
      host: 'oapi',
      method: 'GET',
      path: '/gettoken',
      auth: 'none',
      idempotent: true,
    });
    expect(t.calls[0]!.origin).toBe('http://127.0.0.1:9');
    expect(t.calls[0]!.path).toBe('/base/gettoken');
  });

  it('fails closed without credentials when a call needs a token', async () => {
    const t = fakeTransport(() => ({ body: { errcode: 0 } }));
    const c = new DingTalkCore({ transport: t.send, env: {} });
    const err = await c
      .request({ operation: 'x', host: 'api', method: 'GET', path: '/v1.0/x', auth: 'app', idempotent: true })
      .catch((e) => e);
    expect(err.code).toBe('CONFIG');
    expect(t.calls).toHaveLength(0);
  });
});
