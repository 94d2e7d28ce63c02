import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { ApiError, toResponse } from './api-error.js';
import { type ApiTokenVerifier, type AuthVariables, requireScope } from './auth.js';

const verifier: ApiTokenVerifier = {
  async verify(raw) {
    if (raw === 'reader-token-1') return { name: 'ci', scopes: ['read'] };
    if (raw === 'admin-token-1') return { name: 'ops', scopes: ['admin'] };
    return undefined;
  },
};

function app() {
  const a = new Hono<{ Variables: AuthVariables }>();
  a.onError((e, c) => toResponse(c, e));
  a.get('/r', requireScope(verifier, 'read'), (c) => c.json({ who: c.get('principal').name }));
  a.post('/s', requireScope(verifier, 'send'), async (c) => {
    const body = z.object({ text: z.string().min(1) }).parse(await c.req.json());
    return c.json(body);
  });
  a.get('/v', () => {
    throw new ValidationError('too big', 'file');
  });
  a.get('/boom', () => {
    throw new Error('secret internals access_token=abc');
  });
  a.get('/gone', () => {
    throw new ApiError(404, 'not_found', 'no such task');
  });
  return a;
}

const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

describe('API auth and errors', () => {
  it('refuses requests without a valid token', async () => {
    const res = await app().request('/r');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await app().request('/r', bearer('nope-nope-nope'))).status).toBe(401);
  });

  it('enforces scopes, with admin including send and read', async () => {
    expect((await app().request('/r', bearer('reader-token-1'))).status).toBe(200);
    const res = await app().request('/s', {
      method: 'POST',
      body: '{"text":"x"}',
      ...bearer('reader-token-1'),
    });
    expect(res.status).toBe(403);
    const ok = await app().request('/s', {
      method: 'POST',
      body: '{"text":"x"}',
      ...bearer('admin-token-1'),
    });
    expect(ok.status).toBe(200);
  });

  it('answers malformed bodies with a 400 and the path of the bad field', async () => {
    const bad = await app().request('/s', {
      method: 'POST',
      body: '{"text":""}',
      ...bearer('admin-token-1'),
    });
    expect(bad.status).toBe(400);
    const j = (await bad.json()) as { error: { code: string; message: string } };
    expect(j.error.code).toBe('invalid_request');
    expect(j.error.message).toMatch(/^text:/);
    const notJson = await app().request('/s', { method: 'POST', body: '{', ...bearer('admin-token-1') });
    expect(notJson.status).toBe(400);
  });

  it('maps library validation errors to 400 and hides internals of unexpected ones', async () => {
    expect((await app().request('/v')).status).toBe(400);
    const boom = await app().request('/boom');
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('abc');
    expect((await app().request('/gone')).status).toBe(404);
  });
});
