import { describe, expect, it } from 'vitest';
import { apiHarness } from '../../test/support/api-harness.js';
import type { CallbackHttpHandler } from '../callback/http-io.js';

type ErrorBody = { error: { code: string; message: string } };

async function errorOf(res: Response): Promise<ErrorBody['error']> {
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toMatch(/^[a-z_]+$/);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

describe('health, metrics, openapi, dashboard', () => {
  it('serves health without a token, 503 when the hub cannot answer', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/v1/health');
    expect(res.status).toBe(200);
    // Without a token: ok or not, nothing about the internals.
    expect(await res.json()).toEqual({ ok: true });
    const detailed = await h.app.request('/v1/health', { headers: h.auth(h.tokens.read) });
    expect(await detailed.json()).toMatchObject({ ok: true, store: 'sqlite' });
    h.hub.failNext = { method: 'health', error: new Error('db down') };
    expect((await h.app.request('/health')).status).toBe(503);
  });

  it('serves Prometheus text with the HTTP counters, behind a token', async () => {
    const h = await apiHarness();
    await h.app.request('/v1/health');
    expect((await h.app.request('/metrics')).status).toBe(401);
    const res = await h.app.request('/metrics', { headers: h.auth(h.tokens.read) });
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('dingkit_http_requests_total{method="GET",route="/v1/health",status="200"} 1');
    expect(text).toContain('# TYPE dingkit_http_request_duration_seconds histogram');
  });

  it('labels unmatched routes as one series, so bad paths cannot blow up the metric', async () => {
    const h = await apiHarness();
    for (let i = 0; i < 5; i++) expect((await h.app.request(`/nope/${i}`)).status).toBe(404);
    const text = await (await h.app.request('/metrics', { headers: h.auth(h.tokens.read) })).text();
    expect(text).toContain('route="unmatched",status="404"} 5');
  });

  it('publishes an OpenAPI 3.1 document generated from the contracts, to token holders only', async () => {
    const h = await apiHarness();
    const refused = await h.app.request('/openapi.json');
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).code).toBe('unauthorized');
    const res = await h.app.request('/openapi.json', { headers: h.auth(h.tokens.read) });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/messages',
        '/v1/tasks/{id}/{action}',
        '/v1/files',
        '/v1/deliveries/redrive',
        '/v1/events',
      ]),
    );
    expect(doc.paths['/v1/messages']?.['post']?.requestBody).toBeDefined();
    expect(doc.paths['/v1/tasks/{id}']?.['patch']?.requestBody).toBeDefined();
    expect(doc.paths['/openapi.json']?.['get']).toMatchObject({
      security: [{ bearer: ['read'] }],
      responses: { '200': { content: { 'application/json': { schema: { type: 'object' } } } } },
    });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SendMessage', 'SendResult', 'Delivery', 'Task', 'UpdateTask', 'Error']),
    );
    expect(doc.paths['/v1/files']?.['post']).toMatchObject({
      responses: {
        '202': {},
        '413': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '429': {
          headers: { 'Retry-After': { schema: { type: 'integer' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    });
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
    // 409 idempotency_conflict and 403 token_limit where they can happen; the query token on SSE only.
    const ops = doc.paths as Record<
      string,
      Record<string, { responses: Record<string, unknown>; parameters: Array<{ name: string }> }>
    >;
    expect(Object.keys(ops['/v1/messages']!['post']!.responses)).toEqual(
      expect.arrayContaining(['403', '409']),
    );
    expect(Object.keys(ops['/v1/tasks']!['post']!.responses)).toEqual(expect.arrayContaining(['403', '409']));
    expect(Object.keys(ops['/v1/files']!['post']!.responses)).toContain('403');
    const withQueryToken = Object.entries(ops).flatMap(([path, methods]) =>
      Object.values(methods)
        .filter((o) => o.parameters.some((p) => p.name === 'access_token'))
        .map(() => path),
    );
    expect(withQueryToken).toEqual(['/v1/events']);
  });

  it('documents every route the app serves, and nothing it does not', async () => {
    const h = await apiHarness();
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL' && !['/', '/health'].includes(r.path))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const { OPERATIONS } = await import('./openapi.js');
    const documented = new Set(OPERATIONS.map((o) => `${o.method} ${o.path}`));
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it("documents DingTalk's callback routes when they are mounted, and marks them as taking no token", async () => {
    const answered: string[] = [];
    const stub = (name: string) =>
      ({
        fetch: async () => {
          answered.push(name);
          return new Response('{"msgtype":"empty"}', { headers: { 'content-type': 'application/json' } });
        },
      }) as unknown as CallbackHttpHandler;
    const h = await apiHarness({
      callbacks: { robot: stub('robot'), events: stub('events'), card: stub('card') },
    });
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== 'ALL' && !['/', '/health'].includes(r.path))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const { OPERATIONS, CALLBACK_OPERATIONS } = await import('./openapi.js');
    const documented = [...OPERATIONS, ...Object.values(CALLBACK_OPERATIONS)].map(
      (o) => `${o.method} ${o.path}`,
    );
    expect([...served].sort()).toEqual(documented.sort());
    // No token on the route itself (the stub answers), and the document says so.
    expect((await h.app.request('/callbacks/robot', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(answered).toEqual(['robot']);
    const doc = (await (await h.app.request('/openapi.json', { headers: h.auth(h.tokens.read) })).json()) as {
      paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>;
    };
    for (const path of ['/callbacks/robot', '/callbacks/events', '/callbacks/card']) {
      const op = doc.paths[path]!['post']!;
      expect(op.security, path).toEqual([]);
      expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['200', '401', '500']));
      expect(JSON.stringify(op.responses['401'])).toContain('CallbackError');
    }
    // Not mounted (inbound over Stream): not served, not documented.
    const plain = await apiHarness();
    const plainDoc = (await (
      await plain.app.request('/openapi.json', { headers: plain.auth(plain.tokens.read) })
    ).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(plainDoc.paths).filter((p) => p.startsWith('/callbacks/'))).toEqual([]);
  });

  it('leaves only health and the static login page open; the page holds no hub data and no secret', async () => {
    const h = await apiHarness();
    await h.hub.assignTask(
      { title: 'Secret launch plan', assignees: ['Alice'], group: 'ops' },
      { by: 'api:seed' },
    );
    for (const path of ['/openapi.json', '/metrics', '/v1/tasks', '/v1/people', '/v1/events/recent']) {
      expect((await h.app.request(path)).status, path).toBe(401);
    }
    const page = await (await h.app.request('/')).text();
    for (const leak of ['Secret launch plan', 'Alice', h.tokens.read, h.tokens.send, h.tokens.admin]) {
      expect(page.includes(leak), leak).toBe(false);
    }
    // Every data call in the page goes through api(), which sends the bearer token, or the SSE URL with it; the
    // only others ask the people's app (its session cookie, scoped to /app) for an operator's dashboard token.
    const script = page.slice(page.indexOf('<script>') + 8, page.lastIndexOf('</script>'));
    const fetches = script.match(/fetch\([^)]*\)/g) ?? [];
    expect(fetches.length).toBeGreaterThan(0);
    for (const f of fetches) {
      if (/^fetch\('\/app\/api\//.test(f)) expect(f).toMatch(/^fetch\('\/app\/api\/(me|operator-token)'/);
      else expect(f).toMatch(/headers/);
    }
    expect(script).toMatch(/EventSource\(url\)/);
    expect(script).toContain("'&access_token=' + encodeURIComponent(state.token)");
  });

  it('serves the dashboard page with a strict content security policy', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<!doctype html>');
    const script = html.slice(html.indexOf('<script>') + 8, html.lastIndexOf('</script>'));
    expect(script.length).toBeGreaterThan(1_000);
    expect(() => new Function(script)).not.toThrow();
  });
});

describe('auth', () => {
  it('refuses every protected route without a token, with a wrong token, and with a revoked one', async () => {
    const h = await apiHarness();
    const routes: Array<[string, string]> = [
      ['POST', '/v1/messages'],
      ['GET', '/v1/messages/msg_1'],
      ['POST', '/v1/tasks'],
      ['GET', '/v1/tasks'],
      ['GET', '/v1/tasks/1'],
      ['POST', '/v1/tasks/1/done'],
      ['DELETE', '/v1/tasks/1'],
      ['PATCH', '/v1/tasks/1'],
      ['POST', '/v1/files'],
      ['GET', '/v1/files'],
      ['GET', '/v1/deliveries'],
      ['GET', '/v1/deliveries/dead'],
      ['POST', '/v1/deliveries/redrive'],
      ['GET', '/v1/people'],
      ['GET', '/v1/events'],
      ['GET', '/v1/events/recent'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
    ];
    await h.store.revoke('root', new Date().toISOString());
    for (const [method, path] of routes) {
      for (const headers of [{}, h.auth('dk_wrongwrongwrongwrong'), h.auth(h.tokens.admin)]) {
        const res = await h.app.request(path, { method, headers });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect((await errorOf(res)).code).toBe('unauthorized');
      }
    }
    expect(h.hub.calls.filter((c) => c.method !== 'health')).toHaveLength(0);
  });

  it('refuses a route above the token scope with 403', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/v1/messages', h.json(h.tokens.read, { group: 'ops', text: 'x' }));
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('forbidden');
    const task = await h.app.request('/v1/tasks/1/done', { method: 'POST', headers: h.auth(h.tokens.read) });
    expect(task.status).toBe(403);
    expect(h.hub.calls).toHaveLength(0);
  });

  it('accepts ?access_token= on the SSE route only (EventSource cannot set headers), without it breaking the query contract', async () => {
    const h = await apiHarness();
    const sse = await h.app.request(`/v1/events?lastEventId=0&access_token=${h.tokens.read}`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    const list = await h.app.request(`/v1/tasks?state=open&access_token=${h.tokens.read}`);
    expect(list.status).toBe(401);
    expect(await list.text()).toContain('only by GET /v1/events');
    const post = await h.app.request(`/v1/messages?access_token=${h.tokens.admin}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'ops', text: 'x' }),
    });
    expect(post.status).toBe(401);
    expect(h.hub.calls).toHaveLength(0);
  });
});

describe('token store failures', () => {
  it('answers 503 (not 401, not 500) when the token store cannot answer, and logs it redacted', async () => {
    const { createApp } = await import('./app.js');
    const { FakeHub } = await import('../../test/support/fake-hub.js');
    const logs: string[] = [];
    const log = (o: Record<string, unknown>, m?: string) => logs.push(`${m} ${JSON.stringify(o)}`);
    const { app } = createApp({
      hub: new FakeHub(),
      tokens: {
        verify: async () => {
          throw new Error('SQLITE_BUSY: database is locked');
        },
      },
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const res = await app.request('/v1/people', { headers: { authorization: 'Bearer dk_whatever_token_1' } });
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe('unavailable');
    expect(logs.some((l) => l.includes('token check failed') && l.includes('SQLITE_BUSY'))).toBe(true);
    expect((await app.request('/v1/health')).status).toBe(200);
  });
});

describe('body limits and content types', () => {
  it('refuses JSON bodies over server.bodyLimitBytes with 413, declared or streamed', async () => {
    const h = await apiHarness({ bodyLimitBytes: 2_000 });
    const text = 'x'.repeat(3_000);
    const declared = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text }, 'POST', { 'content-length': '3100' }),
    );
    expect(declared.status).toBe(413);
    const streamed = await h.app.request('/v1/messages', h.json(h.tokens.send, { group: 'ops', text }));
    expect(streamed.status).toBe(413);
    expect((await errorOf(streamed)).code).toBe('payload_too_large');
    const fits = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'x'.repeat(1_500) }),
    );
    expect(fits.status).toBe(202);
  });

  it('wants application/json, and says so', async () => {
    const h = await apiHarness();
    const res = await h.app.request('/v1/messages', {
      method: 'POST',
      headers: h.auth(h.tokens.send, { 'content-type': 'text/plain' }),
      body: '{"group":"ops","text":"x"}',
    });
    expect(res.status).toBe(415);
    const bad = await h.app.request('/v1/messages', h.json(h.tokens.send, '{"group":'));
    expect((await errorOf(bad)).code).toBe('invalid_json');
  });
});

describe('unexpected failures', () => {
  it('answers 500 without internals and logs the failure redacted, with the request id', async () => {
    const h = await apiHarness();
    h.hub.failNext = { method: 'listPeople', error: new Error(`pool exploded; token ${h.tokens.admin}`) };
    const res = await h.app.request('/v1/people', { headers: h.auth(h.tokens.read) });
    expect(res.status).toBe(500);
    const rid = res.headers.get('x-request-id');
    const text = await res.text();
    expect(text).not.toContain('pool exploded');
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal', message: `internal error (request id ${rid})` },
    });
    const line = h.logs.find((l) => l.level === 'error');
    expect(line?.obj['rid']).toBe(rid);
    expect(String(line?.obj['err'])).toContain('pool exploded');
    expect(JSON.stringify(h.logs)).not.toContain(h.tokens.admin);
  });

  it('answers a platform failure from the hub with 502 and the redacted reason', async () => {
    const { PlatformError } = await import('../core/errors.js');
    const h = await apiHarness();
    h.hub.failNext = {
      method: 'sendMessage',
      error: new PlatformError('PLATFORM', 'robot 400102 disabled', { status: 200, errcode: 400102 }),
    };
    const res = await h.app.request('/v1/messages', h.json(h.tokens.send, { group: 'ops', text: 'x' }));
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe('dingtalk_error');
  });
});
