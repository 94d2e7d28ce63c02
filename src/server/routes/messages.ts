/** Messages: send (202, durably queued before the answer) and look one up by id. */

import type { Hono } from 'hono';
import { ApiError } from '../api-error.js';
import { opaqueIdParam, sendMessageBody } from '../contracts.js';
import { idempotencyKey, readJson, readParam } from '../http-input.js';
import { type ApiEnv, actorOf, type RouteDeps, withinLimits } from './route-deps.js';

export function messageRoutes(app: Hono<ApiEnv>, d: RouteDeps): void {
  app.post('/v1/messages', d.guard('send'), async (c) => {
    const body = await readJson(c, sendMessageBody);
    const key = idempotencyKey(c, body.idempotencyKey);
    await withinLimits(c, d, {
      groups: body.group === undefined ? [] : [body.group],
      people: body.to,
      mentionAll: body.mentionAll,
    });
    const result = await d.hub.sendMessage({ ...body, idempotencyKey: key }, actorOf(c));
    return c.json(result, 202);
  });

  app.get('/v1/messages/:id', d.guard('read'), async (c) => {
    const id = readParam(c.req.param('id'), opaqueIdParam, 'the message id');
    const found = await d.hub.getMessage(id);
    if (!found) throw new ApiError(404, 'not_found', 'no message with this id');
    return c.json(found);
  });
}
