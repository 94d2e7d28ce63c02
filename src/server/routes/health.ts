/**
 * Health (no token: load balancers and `dingkit doctor` call it) and Prometheus metrics (read scope: queue sizes
 * and target names are operational detail; Prometheus can send a bearer token).
 */

import type { Context, Hono } from 'hono';
import type { ApiEnv, RouteDeps } from './route-deps.js';

export function healthRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  const health = async (c: Context<ApiEnv>) => {
    try {
      const report = await d.hub.health();
      return c.json(report, report.ok ? 200 : 503);
    } catch {
      return c.json({ ok: false }, 503);
    }
  };
  app.get('/health', health);
  app.get('/v1/health', health);

  app.get('/metrics', d.guard('read'), (c) =>
    c.body(d.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
}
