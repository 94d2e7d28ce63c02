/**
 * Health (no token: load balancers and `dingkit doctor` call it) and Prometheus metrics (read scope: queue sizes
 * and target names are operational detail; Prometheus can send a bearer token).
 *
 * Without a token `/health` says only `{ ok }` (200 or 503): version, store kind, queue sizes and the emulator's
 * address are for operators, so they come with a token of the `read` scope. A token that is missing, bad or
 * cannot be checked gets the short answer, never a 401 (a probe must not depend on a token).
 */

import type { Context, Hono } from 'hono';
import type { ApiEnv, RouteDeps } from './route-deps.js';

export function healthRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  const mayRead = async (c: Context<ApiEnv>): Promise<boolean> => {
    if (!c.req.header('authorization') && c.req.query('access_token') === undefined) return false;
    let allowed = false;
    try {
      await d.guard('read')(c, async () => {
        allowed = true;
      });
    } catch {
      // Missing scope, bad token, or a token store that cannot answer: the short answer.
    }
    return allowed;
  };
  const health = async (c: Context<ApiEnv>) => {
    let report: Awaited<ReturnType<RouteDeps['hub']['health']>> | undefined;
    try {
      report = await d.hub.health();
    } catch {
      report = undefined;
    }
    const ok = report?.ok === true;
    c.header('cache-control', 'no-store');
    if (report && (await mayRead(c))) return c.json(report, ok ? 200 : 503);
    return c.json({ ok }, ok ? 200 : 503);
  };
  app.get('/health', health);
  app.get('/v1/health', health);

  app.get('/metrics', d.guard('read'), (c) =>
    c.body(d.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
}
