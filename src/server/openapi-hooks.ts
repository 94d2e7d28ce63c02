/**
 * The hook doors in `/openapi.json`: `POST /hooks/{name}` (src/hub/gateways/gateways.ts, docs/gateways.md). Each
 * route has its own credentials instead of an API token, one of four schemes chosen in its config; the request
 * body is the route's kind, listed for every kind in the registry (kinds.ts) that has a schema, so a kind added
 * there appears here unchanged. Answers are the door's own, in the order a request meets its checks.
 */

import { z } from 'zod';
import { HOOK_KINDS } from '../hub/gateways/kinds.js';

type Json = Record<string, unknown>;

export const HOOK_SECURITY_SCHEMES: Json = {
  hookBearer: {
    type: 'http',
    scheme: 'bearer',
    description: "A hook route's own token (auth.type bearer), never an API token",
  },
  hookBasic: {
    type: 'http',
    scheme: 'basic',
    description: "A hook route's user and password (auth.type basic)",
  },
  hookToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-hook-token',
    description: "A hook route's token in the header its config names (auth.type token, auth.header)",
  },
  hookHmac: {
    type: 'apiKey',
    in: 'header',
    name: 'x-signature-256',
    description:
      'auth.type hmac: <prefix><hex or base64 HMAC of the raw body> in auth.header (default x-signature-256); with auth.timestampHeader, of "<epoch seconds>.<raw body>", refused outside auth.toleranceMs',
  },
};

const accepted = z.object({
  accepted: z.literal(true),
  duplicate: z.literal(false),
  items: z.number().int().describe('Items parsed (one per alert, one per generic event)'),
  routed: z.number().int().describe('Items stored for a conversation (an item may go to several)'),
  unrouted: z.number().int().describe('Items no rule matched and the route has no targets for'),
});
const duplicate = z.object({ accepted: z.literal(true), duplicate: z.literal(true), items: z.literal(0) });

/** The path item of `POST /hooks/{name}`; `schemaOf` converts and hoists as buildOpenApi does. */
export function hookPaths(schemaOf: (s: z.ZodType, io: 'input' | 'output') => Json): Record<string, Json> {
  const error = (description: string, retryAfter = false) => ({
    description,
    ...(retryAfter
      ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
      : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const bodies = Object.entries(HOOK_KINDS).flatMap(([, k]) =>
    k.schema ? [schemaOf(k.schema, 'input')] : [],
  );
  return {
    '/hooks/{name}': {
      post: {
        summary:
          "A monitoring system's delivery to a hook route (gateways.routes): committed to the store before the 202, routed by the route's rules, sent through the outbox",
        operationId: 'postHooksName',
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
          },
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              "Generic routes: the sender's delivery id (the header named by idempotencyHeader); absent, the body's SHA-256 dedupes",
            schema: { type: 'string', maxLength: 200 },
          },
        ],
        requestBody: {
          required: true,
          description: "The route's kind decides the body (Content-Type: application/json)",
          content: { 'application/json': { schema: bodies.length === 1 ? bodies[0] : { oneOf: bodies } } },
        },
        security: [{ hookBearer: [] }, { hookBasic: [] }, { hookToken: [] }, { hookHmac: [] }],
        responses: {
          '202': {
            description: 'Accepted: the delivery and its items are committed',
            content: { 'application/json': { schema: schemaOf(accepted, 'output') } },
          },
          '200': {
            description:
              'A delivery this route already took (a resend, a replay): nothing new stored or sent',
            content: { 'application/json': { schema: schemaOf(duplicate, 'output') } },
          },
          '400': error('invalid_json, or invalid_payload with the first bad field in the message'),
          '401': error(
            'missing_credentials, bad_credentials, missing_signature, bad_signature, bad_timestamp or stale_timestamp; nothing stored',
          ),
          '404': error('unknown_hook: no route of this name'),
          '413': error('payload_too_large: over the route maxBodyBytes (declared or while reading)'),
          '415': error('unsupported_media_type: not application/json'),
          '503': error(
            'store_unavailable: nothing was stored; retry after Retry-After (Alertmanager does)',
            true,
          ),
        },
      },
    },
  };
}
