/**
 * Deliveries: the queue as operators see it, dead letters, one delivery's evidence, redrive and the resolution of
 * parked ones (admin only: they re-send or settle what DingTalk may have).
 */

import type { Hono } from 'hono';
import { ApiError } from '../api-error.js';
import {
  deliveryIdParam,
  deliveryListQuery,
  limitOnlyQuery,
  redriveBody,
  resolveBody,
} from '../contracts.js';
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

  app.post('/v1/deliveries/redrive', d.guard('admin'), async (c) => {
    const body = await readJson(c, redriveBody);
    // A redrive re-sends whatever was queued, to anyone: not for a token whose sends are limited (token-limits.ts).
    if (c.get('principal').limits) {
      throw new ApiError(403, 'token_limit', 'a token with limits may not redrive deliveries');
    }
    const moved = await d.hub.redrive('ids' in body ? body.ids : 'all-dead', actorOf(c));
    return c.json({ moved });
  });

  // After `/dead`: that path is not an id. One delivery: its evidence (what was sent, failed attempts, decisions) and
  // each recipient's outcome (docs/hub.md "Send results").
  app.get('/v1/deliveries/:id', d.guard('read'), async (c) => {
    const id = readParam(c.req.param('id'), deliveryIdParam, 'the delivery id');
    const e = await d.hub.deliveryEvidence(String(id));
    if (!e) throw new ApiError(404, 'not_found', `no delivery ${id}`);
    return c.json(e);
  });

  app.post('/v1/deliveries/:id/resolve', d.guard('admin'), async (c) => {
    const id = readParam(c.req.param('id'), deliveryIdParam, 'the delivery id');
    const body = await readJson(c, resolveBody);
    // As redrive: settling a delivery (or sending it again) is beyond a token whose sends are limited.
    if (c.get('principal').limits) {
      throw new ApiError(403, 'token_limit', 'a token with limits may not resolve deliveries');
    }
    const r = await d.hub.resolveDelivery(String(id), body.action, actorOf(c), body.note);
    if (!r) throw new ApiError(404, 'not_found', `no delivery ${id}`);
    return c.json(r);
  });
}
