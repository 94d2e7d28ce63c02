/**
 * The hook routes as operators see them (`dingkit hooks list`): each route without its secret, and its last
 * accepted deliveries with what they became. Read scope, like the deliveries they lead to. The hook doors
 * themselves (`POST /hooks/<name>`) are mounted by app.ts with their own credentials, not here.
 */

import type { Hono } from 'hono';
import { z } from 'zod';
import { ApiError } from '../api-error.js';
import { readParam, readQuery } from '../http-input.js';
import type { ApiEnv, RouteDeps } from './route-deps.js';

export const hookListQuery = z
  .object({
    /** Deliveries shown per route, newest first. @default 5 */
    recent: z.coerce.number().int().min(0).max(50).optional(),
  })
  .strict();

/** A delivery by the dedupe key its sender's payload gives (`hooks test` computes it from the config's route). */
export const hookRequestQuery = z.object({ key: z.string().min(1).max(300) }).strict();

export const hookNameParam = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a hook route name');

export function hookRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.get('/v1/hooks', d.guard('read'), async (c) => {
    const q = readQuery(c, hookListQuery);
    return c.json({ routes: (await d.hub.hookRoutes?.list(q.recent ?? 5)) ?? [] });
  });

  app.get('/v1/hooks/:name/requests', d.guard('read'), async (c) => {
    const name = readParam(c.req.param('name'), hookNameParam, 'the hook route name');
    const q = readQuery(c, hookRequestQuery);
    const found = await d.hub.hookRoutes?.request(name, q.key);
    if (!found) throw new ApiError(404, 'not_found', `no delivery with this key on hook route ${name}`);
    return c.json(found);
  });
}
