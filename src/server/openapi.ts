/**
 * `/openapi.json`, generated from the zod contracts the routes validate with (contracts.ts), so the document and
 * the server cannot disagree. Request schemas are rendered as inputs (what a client may send: defaults optional,
 * strings before coercion), answers as outputs. DingTalk's callback routes are listed only when the app mounts
 * them (`buildOpenApi`'s `callbacks`), with no token and their own answers.
 */

import { z } from 'zod';
import { hookRequestViewSchema, hookRouteViewSchema } from '../hub/gateways/overview.js';
import { EVENT_NAMES } from '../observe/event-map.js';
import type { Scope } from './auth.js';
import * as C from './contracts.js';
import { HOOK_SECURITY_SCHEMES, hookPaths } from './openapi-hooks.js';
import { hookListQuery, hookNameParam, hookRequestQuery } from './routes/hooks.js';

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  /** Absent = no token needed. */
  scope?: Scope;
  json?: z.ZodType;
  multipart?: z.ZodType;
  query?: z.ZodType;
  params?: Record<string, z.ZodType>;
  idempotent?: boolean;
  /** Sends to groups or people: a limited token may be refused (403 token_limit, token-limits.ts). */
  limited?: boolean;
  /** Also takes the token as `?access_token=` (the SSE route only: EventSource sends no headers). */
  queryToken?: boolean;
  /** Request headers the route reads (DingTalk's signature headers). */
  headers?: Record<string, z.ZodType>;
  /** A DingTalk callback: signed instead of a token, answers in DingTalk's shapes and `{ error, reason }`. */
  signed?: boolean;
  status: number;
  answer?: z.ZodType;
  answerType?: string;
  /** Refusals worth naming on their own (the rest are the generic 4XX): status → when. */
  refusals?: Record<number, { description: string; retryAfter?: boolean }>;
}

const list = <K extends string>(key: K, item: z.ZodType) => z.object({ [key]: z.array(item) });

const taskId = { id: z.number().int().min(1) };
const opaqueId = { id: C.opaqueIdParam };

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/health',
    summary: 'Health of the hub: { ok } without a token (503 when not ok); the report with a read token',
    status: 200,
    answer: C.healthSchema,
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition 0.0.4)',
    scope: 'read',
    status: 200,
    answerType: 'text/plain',
  },
  {
    method: 'post',
    path: '/v1/messages',
    limited: true,
    summary: 'Send a message to a group or people; durably queued before the answer',
    scope: 'send',
    json: C.sendMessageBody,
    idempotent: true,
    status: 202,
    answer: C.sendResultSchema,
  },
  {
    method: 'get',
    path: '/v1/messages/{id}',
    summary: 'A sent message and its deliveries',
    scope: 'read',
    params: opaqueId,
    status: 200,
    answer: C.sendResultSchema,
  },
  {
    method: 'post',
    path: '/v1/tasks',
    limited: true,
    summary: 'Assign a task (group announcement with @mentions, a DingTalk Todo per assignee)',
    scope: 'send',
    json: C.createTaskBody,
    idempotent: true,
    status: 201,
    answer: C.taskSchema,
  },
  {
    method: 'get',
    path: '/v1/tasks',
    summary: 'Tasks, filtered',
    scope: 'read',
    query: C.taskListQuery,
    status: 200,
    answer: list('tasks', C.taskSchema),
  },
  {
    method: 'get',
    path: '/v1/tasks/{id}',
    summary: 'One task with its history',
    scope: 'read',
    params: taskId,
    status: 200,
    answer: C.taskSchema,
  },
  {
    method: 'post',
    path: '/v1/tasks/{id}/{action}',
    limited: true,
    summary: 'Move a task: start, done, cancel or reopen (409 when its state forbids it)',
    scope: 'send',
    params: { ...taskId, action: C.taskActionSchema },
    json: C.taskActionBody,
    status: 200,
    answer: C.taskSchema,
  },
  {
    method: 'patch',
    path: '/v1/tasks/{id}',
    limited: true,
    summary:
      'Edit an open or in-progress task: title, description, due, group, assignees (409 when it is done or cancelled)',
    scope: 'send',
    params: taskId,
    json: C.updateTaskBody,
    status: 200,
    answer: C.taskSchema,
  },
  {
    method: 'delete',
    path: '/v1/tasks/{id}',
    limited: true,
    summary: 'Cancel a task (its history is kept)',
    scope: 'send',
    params: taskId,
    status: 200,
    answer: C.taskSchema,
  },
  {
    method: 'post',
    path: '/v1/files',
    limited: true,
    summary: 'Share a file (multipart: a "file" part plus destination fields)',
    scope: 'send',
    multipart: C.fileShareFields,
    status: 202,
    answer: C.fileShareSchema,
    refusals: {
      413: {
        description:
          'payload_too_large: the file is over files.maxBytes (DingTalk: 20 MB), or the text fields over 64 KiB; ' +
          'refused as soon as the declared length or the bytes read pass the cap',
      },
      429: {
        description:
          'too_many_uploads: files.maxConcurrentUploads uploads are already in progress; retry after ' +
          'Retry-After seconds (the connection is closed after this answer)',
        retryAfter: true,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/files',
    summary: 'File share history',
    scope: 'read',
    query: C.limitOnlyQuery,
    status: 200,
    answer: list('shares', C.fileShareSchema),
  },
  {
    method: 'get',
    path: '/v1/deliveries',
    summary: 'Deliveries, optionally by status or only those with dropped recipients (`dropped=true`)',
    scope: 'read',
    query: C.deliveryListQuery,
    status: 200,
    answer: list('deliveries', C.deliverySchema),
  },
  {
    method: 'get',
    path: '/v1/deliveries/dead',
    summary: 'Dead letters',
    scope: 'read',
    query: C.limitOnlyQuery,
    status: 200,
    answer: list('deliveries', C.deliverySchema),
  },
  {
    method: 'post',
    path: '/v1/deliveries/redrive',
    summary: 'Put dead or parked deliveries back in the queue',
    scope: 'admin',
    json: C.redriveBody,
    status: 200,
    answer: z.object({ moved: z.number().int() }),
  },
  {
    method: 'get',
    path: '/v1/deliveries/{id}',
    summary:
      'One delivery with its evidence (the payload as stored, secrets redacted; every failed attempt; when it was parked; the decisions taken) and what DingTalk reported for each recipient (delivered, read, dropped and why)',
    scope: 'read',
    params: { id: C.deliveryIdParam },
    status: 200,
    answer: C.deliveryEvidenceSchema,
  },
  {
    method: 'post',
    path: '/v1/deliveries/{id}/resolve',
    summary:
      'Settle a parked delivery (mark-sent, redrive or drop), recording who, when and the note; the same decision again by the same token is answered with duplicate: true',
    scope: 'admin',
    params: { id: C.deliveryIdParam },
    json: C.resolveBody,
    status: 200,
    answer: C.resolveResultSchema,
    refusals: {
      409: {
        description:
          'already_resolved: another operator decided first (error.details.decision is the decision that stands); ' +
          'not_parked: the delivery is not parked (error.details.status)',
      },
    },
  },
  {
    method: 'get',
    path: '/v1/people',
    summary: 'The people directory',
    scope: 'read',
    status: 200,
    answer: list('people', C.personSchema),
  },
  {
    method: 'get',
    path: '/v1/hooks',
    summary:
      "The hook routes (gateways.routes): kind, auth type (never the secret), rules, the URL for the sender, and each one's last accepted deliveries with what became of them",
    scope: 'read',
    query: hookListQuery,
    status: 200,
    answer: list('routes', hookRouteViewSchema),
  },
  {
    method: 'get',
    path: '/v1/hooks/{name}/requests',
    summary:
      'One accepted delivery of a hook route by its dedupe key, and what became of it (404 when unknown)',
    scope: 'read',
    params: { name: hookNameParam },
    query: hookRequestQuery,
    status: 200,
    answer: hookRequestViewSchema,
  },
  {
    method: 'get',
    path: '/v1/events',
    summary:
      'Server-sent events of hub changes; honours Last-Event-ID (or ?lastEventId=). Ends when its token is revoked or expires (within 1 s)',
    scope: 'read',
    queryToken: true,
    query: C.eventsQuery,
    status: 200,
    answerType: 'text/event-stream',
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    scope: 'read',
    status: 200,
    answerType: 'application/json',
  },
  {
    method: 'get',
    path: '/v1/events/recent',
    summary: 'The most recent events (the SSE replay buffer)',
    scope: 'read',
    status: 200,
    answer: z.object({
      events: z.array(
        z.object({
          id: z.number(),
          type: z.enum(EVENT_NAMES),
          at: z.number(),
          data: z.record(z.string(), z.unknown()),
        }),
      ),
    }),
  },
];

/** What a callback receiver answers to bad input (src/callback/receiver.ts), not the API's `{ error: {…} }`. */
const callbackError = z
  .object({ error: z.string(), reason: z.string().optional() })
  .meta({ id: 'CallbackError' });

/** DingTalk's HTTP callbacks (src/hub/inbound/http.ts), served only with `inbound.mode` http or both. */
export const CALLBACK_OPERATIONS = {
  robot: {
    method: 'post',
    path: '/callbacks/robot',
    summary:
      'DingTalk robot message in HTTP mode (no token: signed with the app secret); stored in the inbox before the answer, a replay is answered the same and not applied',
    signed: true,
    headers: {
      timestamp: z.string().describe('Epoch ms, within one hour'),
      sign: z
        .string()
        .describe('Base64 HMAC-SHA256 of timestamp + "\n" + appSecret, keyed with the app secret'),
    },
    json: z.looseObject({ msgId: z.string().optional(), sessionWebhook: z.string().optional() }),
    status: 200,
    answer: z.looseObject({ msgtype: z.string().describe('"empty": no inline reply') }),
  },
  events: {
    method: 'post',
    path: '/callbacks/events',
    summary:
      'DingTalk encrypted event push (no token: signed with the subscription token); stored in the inbox before the encrypted success',
    signed: true,
    query: z.object({ msg_signature: z.string(), timestamp: z.string(), nonce: z.string() }),
    json: z.object({ encrypt: z.string() }),
    status: 200,
    answer: z
      .object({ msg_signature: z.string(), timeStamp: z.string(), nonce: z.string(), encrypt: z.string() })
      .describe('The encrypted "success" envelope'),
  },
  card: {
    method: 'post',
    path: '/callbacks/card',
    summary:
      'DingTalk task-card click (no token: signed with the apiSecret registered with the callback URL); stored in the inbox before the answer, applied once',
    signed: true,
    headers: {
      'x-ddpaas-signature-timestamp': z.string().describe('Epoch ms, within one hour'),
      'x-ddpaas-signature': z
        .string()
        .describe('Base64 HMAC-SHA256 of the timestamp, keyed with the apiSecret'),
    },
    json: z.looseObject({
      outTrackId: z.string(),
      userId: z.string().optional(),
      content: z.string().optional(),
    }),
    status: 200,
    answer: z.looseObject({}).describe('{} or a card update, as `tasks.cards.answer` says'),
  },
} as const satisfies Record<'robot' | 'events' | 'card', Operation>;

type Json = Record<string, unknown>;

/** Converts one schema; named sub-schemas (`.meta({ id })`) are hoisted into `components.schemas`. */
function schemaOf(s: z.ZodType, io: 'input' | 'output', components: Json): Json {
  const json = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  const defs = (json['$defs'] ?? {}) as Record<string, Json>;
  delete json['$defs'];
  delete json['$schema'];
  for (const [name, def] of Object.entries(defs)) components[name] = rewriteRefs(def);
  return rewriteRefs(json);
}

function rewriteRefs(v: Json): Json {
  return JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}

/** The document; `callbacks` says which of DingTalk's callback routes the app mounts. */
export function buildOpenApi(
  version: string,
  o: { callbacks?: { robot?: boolean; events?: boolean; card?: boolean }; hooks?: boolean } = {},
): Json {
  const components: Json = {};
  const paths: Record<string, Json> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  components['Error'] = schemaOf(C.errorSchema, 'output', components);
  const callbacks = (['robot', 'events', 'card'] as const)
    .filter((k) => o.callbacks?.[k])
    .map((k) => CALLBACK_OPERATIONS[k]);
  for (const op of [...OPERATIONS, ...callbacks] as readonly Operation[]) {
    const parameters: Json[] = [];
    for (const [name, s] of Object.entries(op.params ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: schemaOf(s, 'input', components) });
    }
    if (op.query) {
      const q = schemaOf(op.query, 'input', components);
      const props = (q['properties'] ?? {}) as Record<string, Json>;
      const required = new Set((q['required'] ?? []) as string[]);
      for (const [name, schema] of Object.entries(props)) {
        parameters.push({ name, in: 'query', required: required.has(name), schema });
      }
    }
    for (const [name, s] of Object.entries(op.headers ?? {})) {
      parameters.push({ name, in: 'header', required: true, schema: schemaOf(s, 'input', components) });
    }
    if (op.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          "Scoped to the API token: another token's key never matches. The same key with the same request within 24 h returns the first result and sends nothing new; with a different request it is 409 idempotency_conflict and nothing is sent. Same as the body's idempotencyKey (both must agree).",
        schema: { type: 'string', maxLength: 200 },
      });
    }
    if (op.queryToken) {
      parameters.push({
        name: 'access_token',
        in: 'query',
        required: false,
        description:
          'The API token, for EventSource (which cannot send headers). Accepted on this route only: everywhere else a query token is 401.',
        schema: { type: 'string' },
      });
    }
    const responses: Json = op.signed
      ? callbackResponses(op, components)
      : {
          [String(op.status)]: {
            description: 'OK',
            content: op.answer
              ? { 'application/json': { schema: schemaOf(op.answer, 'output', components) } }
              : {
                  [op.answerType ?? 'text/plain']: {
                    schema: { type: op.answerType === 'application/json' ? 'object' : 'string' },
                  },
                },
          },
          '401': {
            description:
              'No token, or a token that is unknown, revoked, expired, or a demo token on a hub with real credentials',
            content: { 'application/json': { schema: errorRef } },
          },
          ...(op.limited
            ? {
                '403': {
                  description:
                    'error.code forbidden: the token lacks the scope; token_limit: the token is limited (dingkit token create --groups/--people/--no-at-all) and this request sends beyond it; nothing was sent',
                  content: { 'application/json': { schema: errorRef } },
                },
              }
            : {}),
          ...(op.idempotent
            ? {
                '409': {
                  description:
                    'error.code idempotency_conflict: this token already used the Idempotency-Key for a different request; nothing was sent',
                  content: { 'application/json': { schema: errorRef } },
                },
              }
            : {}),
          '4XX': {
            description: 'Refused: the reason is in error.code and error.message',
            content: { 'application/json': { schema: errorRef } },
          },
        };
    for (const [status, r] of Object.entries(op.refusals ?? {})) {
      responses[status] = {
        description: r.description,
        ...(r.retryAfter
          ? {
              headers: {
                'Retry-After': {
                  description: 'Seconds to wait before retrying',
                  schema: { type: 'integer' },
                },
              },
            }
          : {}),
        content: { 'application/json': { schema: errorRef } },
      };
    }
    const operation: Json = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[/_-](\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      parameters,
      responses,
      security: op.scope
        ? [{ bearer: [op.scope] }, ...(op.queryToken ? [{ accessTokenQuery: [op.scope] }] : [])]
        : [],
    };
    if (op.json) {
      operation['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: schemaOf(op.json, 'input', components) } },
      };
    }
    if (op.multipart) {
      const fields = schemaOf(op.multipart, 'input', components);
      const props = { ...((fields['properties'] ?? {}) as Json), file: { type: 'string', format: 'binary' } };
      operation['requestBody'] = {
        required: true,
        content: { 'multipart/form-data': { schema: { ...fields, properties: props, required: ['file'] } } },
      };
    }
    paths[op.path] = { ...paths[op.path], [op.method]: operation };
  }
  if (o.hooks)
    Object.assign(
      paths,
      hookPaths((s, io) => schemaOf(s, io, components)),
    );
  return {
    openapi: '3.1.0',
    info: {
      title: 'dingkit hub API',
      version,
      description:
        'Send messages, assign tasks and share files through DingTalk. Bearer API tokens with scopes read < send < admin (dingkit token create), an optional expiry, and optional limits on where a send token may send. Idempotency keys are scoped to the token.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'dingkit API token' },
        accessTokenQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'access_token',
          description: 'The API token in the URL: GET /v1/events only (EventSource)',
        },
        ...(o.hooks ? HOOK_SECURITY_SCHEMES : {}),
      },
    },
  };
}

/** A callback's answers: DingTalk's success shape, or the receiver's `{ error, reason }` (src/callback/receiver.ts). */
function callbackResponses(op: Operation, components: Json): Json {
  const problem = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/CallbackError' } } },
  });
  schemaOf(callbackError, 'output', components);
  return {
    [String(op.status)]: {
      description:
        'Stored in the inbox (applied once from there), or a replay of an accepted callback: the same answer',
      content: { 'application/json': { schema: schemaOf(op.answer!, 'output', components) } },
    },
    '400': problem(
      'error bad_request (body not a JSON object, not UTF-8, sessionWebhook not allowed) or decrypt',
    ),
    '401': problem('error signature: missing, stale or wrong signature; nothing stored'),
    '403': {
      description: 'host_not_allowed: the Host is not in server.allowedHosts',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
    '413': problem('Body over 1 MiB'),
    '500': problem("error internal: not stored; nothing was claimed, so DingTalk's retry is taken"),
  };
}
