/** People: the directory the hub resolves names against (never secrets; mobiles only as configured). */

import type { Hono } from 'hono';
import { z } from 'zod';
import { readQuery } from '../http-input.js';
import type { ApiEnv, RouteDeps } from './route-deps.js';

export function peopleRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.get('/v1/people', d.guard('read'), async (c) => {
    readQuery(c, z.object({}).strict());
    return c.json({ people: await d.hub.listPeople() });
  });
}
