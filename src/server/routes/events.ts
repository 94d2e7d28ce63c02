/** The live change feed (SSE) and the recent-events snapshot the dashboard starts from. */

import type { Hono } from 'hono';
import { z } from 'zod';
import { ApiError } from '../api-error.js';
import { decimalInt, eventsQuery, lastEventIdHeader } from '../contracts.js';
import { readQuery } from '../http-input.js';
import type { SseOptions } from '../sse.js';
import type { ApiEnv, RouteDeps } from './route-deps.js';

export function eventRoutes(app: Hono<ApiEnv>, d: RouteDeps, sse: SseOptions): void {
  // The one route that takes `?access_token=` (EventSource sends no headers): it can only watch.
  app.get('/v1/events', d.guard('read', { queryToken: true }), (c) => {
    const q = readQuery(c, eventsQuery);
    const header = c.req.header('last-event-id');
    let after = q.lastEventId;
    if (header !== undefined && header.trim() !== '') {
      const r = lastEventIdHeader.safeParse(header.trim());
      if (!r.success) throw new ApiError(400, 'invalid_last_event_id', 'Last-Event-ID must be an event id');
      after = r.data;
    }
    // An id beyond anything this bus has published comes from before a hub restart (ids start again at 1):
    // replay the whole buffer rather than silently skipping everything up to the old id.
    const newest = d.events.recent(1)[0]?.id ?? 0;
    if (after !== undefined && after > newest) after = 0;
    return d.streams.open(d.events, after, sse, c.get('stillValid'));
  });

  app.get('/v1/events/recent', d.guard('read'), (c) => {
    const q = readQuery(c, z.object({ limit: decimalInt(1, 1_000).optional() }).strict());
    return c.json({ events: d.events.recent(q.limit ?? 100) });
  });
}
