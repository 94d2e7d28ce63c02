/** Deliveries: the queue as operators see it, dead letters, and redrive (admin only: it re-sends). */

import type { Hono } from 'hono';
import { ApiError } from '../api-error.js';
import { deliveryListQuery, limitOnlyQuery, opaqueIdParam, redriveBody } from '../contracts.js';
import { readJson, readParam, readQuery } from '../http-input.js';
import { type ApiEnv, actorOf, type RouteDeps } from './route-deps.js';

export function deliveryRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.get('/v1/deliveries', d.guard('read'), async (c) => {
    const q = readQuery(c, deliveryListQuery);
    return c.json({
      deliveries: await d.hub.listDeliveries({
        status: q.status,
        dropped: q.dropped === 'true',
        limit: q.limit ?? 100,
      }),
    });
  });

  app.get('/v1/deliveries/dead', d.guard('read'), async (c) => {
    const q = readQuery(c, limitOnlyQuery);
    return c.json({ deliveries: await d.hub.listDeliveries({ status: 'dead', limit: q.limit ?? 100 }) });
  });

  // After `/dead`: that path is not an id.
  app.get('/v1/deliveries/:id', d.guard('read'), async (c) => {
    const id = readParam(c.req.param('id'), opaqueIdParam, 'the delivery id');
    const found = await d.hub.getDelivery(id);
    if (!found) throw new ApiError(404, 'not_found', 'no delivery with this id');
    return c.json({ delivery: found });
  });

  app.post('/v1/deliveries/redrive', d.guard('admin'), async (c) => {
    const body = await readJson(c, redriveBody);
    // A redrive re-sends whatever was queued, to anyone: not for a token whose sends are limited (token-limits.ts).
    if (c.get('principal').limits) {
      throw new ApiError(403, 'token_limit', 'a token with limits may not redrive deliveries');
    }
    const moved = await d.hub.redrive('ids' in body ? body.ids : 'all-dead', actorOf(c));
    return c.json({ moved });
  });
}
