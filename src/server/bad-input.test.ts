/**
 * Bad input to the service API: generated malformed requests — wrong types, missing and unknown
 * fields, strings over their bounds, broken JSON, deep nesting, wrong content types, broken multipart, unknown
 * routes and methods, bad ids and queries, garbage tokens — must each be answered with a 4xx carrying
 * `{ error: { code, message } }`; never a 5xx, and the server keeps serving. The twin runs the same corpus against
 * an app with one unvalidated route and shows the property catches the 5xx.
 */

import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { apiHarness } from '../../test/support/api-harness.js';
import { type BadRequest, malformedRequest } from '../../test/support/malformed-requests.js';

async function answer(app: { request: Hono['request'] }, r: BadRequest, token: string): Promise<Response> {
  const headers = new Headers(r.headers);
  if (r.token === undefined) headers.set('authorization', `Bearer ${token}`);
  return app.request(r.path, {
    method: r.method,
    headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
  });
}

async function isRefusedProperly(res: Response): Promise<boolean> {
  if (res.status < 400 || res.status >= 500) return false;
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
  return (
    typeof body.error?.code === 'string' &&
    typeof body.error.message === 'string' &&
    body.error.message !== ''
  );
}

describe('F2: malformed API requests', () => {
  it('answers 2,000 generated malformed requests with a 4xx and a reason, never a 5xx', async () => {
    const h = await apiHarness({ bodyLimitBytes: 200_000, fileLimitBytes: 50_000 });
    await h.app.request('/v1/tasks', h.json(h.tokens.send, { title: 'seed', assignees: ['Alice'] }));
    const statuses = new Map<number, number>();
    let total = 0;
    await fc.assert(
      fc.asyncProperty(malformedRequest, async (r) => {
        const res = await answer(h.app, r, h.tokens.admin);
        total++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const ok = await isRefusedProperly(res);
        if (!ok) throw new Error(`${r.label}: ${r.method} ${r.path.slice(0, 80)} → ${res.status}`);
      }),
      { numRuns: 2_000, seed: 20261125 },
    );
    expect(total).toBeGreaterThanOrEqual(2_000);
    expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
    // The corpus exercises the main refusal kinds, not just one.
    for (const s of [400, 401, 404, 413, 415]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(0);
    // No malformed request had an effect (well-formed but unknown names do reach the hub, which refuses them),
    // and the server still serves.
    expect(h.hub.messages.size + h.hub.shares.length + h.hub.deliveries.length).toBe(0);
    expect(h.hub.calls.filter((c) => c.method === 'redrive')).toEqual([]);
    expect((await h.app.request('/v1/health')).status).toBe(200);
    const good = await h.app.request(
      '/v1/messages',
      h.json(h.tokens.send, { group: 'ops', text: 'still up' }),
    );
    expect(good.status).toBe(202);
  }, 120_000);

  it('twin: the same corpus finds the 5xx of a route that trusts its input', async () => {
    const h = await apiHarness();
    // The real API, with POST /v1/messages replaced by a handler that skips the contract, as a careless new
    // route would; everything else falls through to the real app.
    const twin = new Hono();
    twin.post('/v1/messages', async (c) => {
      const body = (await c.req.json()) as { text: string };
      return c.json({ n: body.text.toUpperCase().length }, 202);
    });
    twin.route('/', h.app);
    twin.notFound((c) => c.json({ error: { code: 'not_found', message: 'no route' } }, 404));
    const result = await fc.check(
      fc.asyncProperty(malformedRequest, async (r) =>
        isRefusedProperly(await answer(twin, r, h.tokens.admin)),
      ),
      { numRuns: 2_000, seed: 20261125 },
    );
    expect(result.failed).toBe(true);
    expect(result.counterexample?.[0].path).toBe('/v1/messages');
  });
});
