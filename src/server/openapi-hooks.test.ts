/**
 * The hook doors and the hook listing in `/openapi.json`: `POST /hooks/{name}` with its four auth schemes, a body
 * per kind of the registry that has a schema, and the door's answers; listed only when the app mounts the doors.
 */

import { describe, expect, it } from 'vitest';
import { FakeHub } from '../../test/support/fake-hub.js';
import { HOOK_KINDS } from '../hub/gateways/kinds.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from './api-tokens.js';
import { createApp } from './app.js';
import { buildOpenApi } from './openapi.js';

type Doc = {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
};

describe('hook routes in the OpenAPI document', () => {
  it('lists POST /hooks/{name}: its auth schemes, a body per kind, 202/200/4xx/503', () => {
    const doc = buildOpenApi('1', { hooks: true }) as unknown as Doc;
    const op = doc.paths['/hooks/{name}']?.['post'] as {
      security: Array<Record<string, unknown>>;
      requestBody: { content: { 'application/json': { schema: { oneOf: Array<{ properties?: object }> } } } };
      responses: Record<string, { headers?: Record<string, unknown> }>;
    };
    expect(op.security.map((s) => Object.keys(s)[0])).toEqual([
      'hookBearer',
      'hookBasic',
      'hookToken',
      'hookHmac',
    ]);
    expect(doc.components.securitySchemes['hookBearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes['hookBasic']).toMatchObject({ type: 'http', scheme: 'basic' });
    const bodies = op.requestBody.content['application/json'].schema.oneOf;
    const withSchema = Object.values(HOOK_KINDS).filter((k) => k.schema).length;
    expect(bodies).toHaveLength(withSchema);
    // Alertmanager's contract, field by field.
    expect(bodies.some((b) => b.properties && 'alerts' in b.properties && 'groupKey' in b.properties)).toBe(
      true,
    );
    expect(Object.keys(op.responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '404',
      '413',
      '415',
      '503',
    ]);
    expect(op.responses['503']?.headers).toHaveProperty('Retry-After');
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
  });

  it('twin: without hook doors mounted they are not listed; the read-only listing always is', () => {
    const doc = buildOpenApi('1') as unknown as Doc;
    expect(doc.paths['/hooks/{name}']).toBeUndefined();
    expect(doc.components.securitySchemes['hookBearer']).toBeUndefined();
    expect(doc.paths['/v1/hooks']?.['get']).toMatchObject({ security: [{ bearer: ['read'] }] });
    expect(doc.paths['/v1/hooks/{name}/requests']?.['get']).toBeDefined();
  });

  it('the app serves it as it mounts the doors', async () => {
    const tokens = new MemoryApiTokenStore();
    const { token } = await createApiToken(tokens, 'r', ['read']);
    const read = async (hooks: boolean) => {
      const { app } = createApp({
        hub: new FakeHub(),
        tokens: new StoreTokenVerifier(tokens, { ttlMs: 0 }),
        ...(hooks ? { hooks: { fetch: async () => new Response(null, { status: 204 }) } } : {}),
      });
      const res = await app.request('/openapi.json', { headers: { authorization: `Bearer ${token}` } });
      return (await res.json()) as Doc;
    };
    expect((await read(true)).paths).toHaveProperty(['/hooks/{name}']);
    expect((await read(false)).paths).not.toHaveProperty(['/hooks/{name}']);
  });
});
