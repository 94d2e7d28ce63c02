/**
 * The HTTP API's contracts: one zod schema per request body, query and answer. Routes validate with them and
 * `/openapi.json` is generated from the very same objects (openapi.ts), so the document cannot drift from what the
 * server accepts. Shapes mirror `src/hub/service.ts`; the bounds here are the API's own (a request the hub would
 * choke on is refused at the door with a 400 that names the field).
 */

import { z } from 'zod';
import { isStorableText, STORABLE_TEXT_MESSAGE } from '../core/text.js';

/**
 * Every text field a request carries: no NUL and no lone surrogate (src/core/text.ts), so nothing reaches a store
 * that PostgreSQL would refuse (a 500) or that both stores would silently alter.
 */
const text = () => z.string().refine(isStorableText, STORABLE_TEXT_MESSAGE);
const shortText = (max: number) => text().min(1).max(max);

/** Group aliases and robot/app names in the config use this alphabet (src/hub/config.ts). */
export const aliasSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a group alias: letters, digits, _ . - (max 64)');

export const personNameSchema = shortText(128);

const destinationShape = {
  group: aliasSchema.optional(),
  to: z.array(personNameSchema).min(1).max(100).optional(),
  via: z.enum(['robot', 'app', 'notice']).optional(),
};

function oneDestination(d: { group?: string | undefined; to?: readonly string[] | undefined }): boolean {
  return (d.group === undefined) !== (d.to === undefined);
}
const ONE_DESTINATION = { message: 'give exactly one of "group" or "to"', path: ['group'] };

const varValue = z.union([text().max(10_000), z.number(), z.boolean(), z.null()]);

export const sendMessageBody = z
  .object({
    ...destinationShape,
    text: shortText(100_000),
    format: z.enum(['text', 'markdown']).optional(),
    title: shortText(256).optional(),
    vars: z
      .record(text().min(1).max(64), varValue)
      .refine((v) => Object.keys(v).length <= 200, 'at most 200 variables')
      .optional(),
    mention: z.array(personNameSchema).max(50).optional(),
    mentionAll: z.boolean().optional(),
    idempotencyKey: shortText(200).optional(),
    ordered: z
      .boolean()
      .optional()
      .meta({
        description:
          "Deliver in acceptance order with the conversation's other ordered messages, one at a time. Default: " +
          'the conversation setting (groups.<alias>.ordered, ordering.groups / ordering.people). The parts of a ' +
          'split message stay in order either way.',
      }),
  })
  .strict()
  .refine(oneDestination, ONE_DESTINATION)
  .meta({ id: 'SendMessage' });

export const deliveryStatusSchema = z.enum(['queued', 'sending', 'sent', 'parked', 'dead', 'cancelled']);

export const deliverySchema = z
  .object({
    id: z.string(),
    status: deliveryStatusSchema,
    channel: z.enum(['robot', 'app', 'notice']),
    target: z.string(),
    part: z.object({ index: z.number().int(), count: z.number().int() }).optional(),
    attempts: z.number().int(),
    lastError: z.string().optional(),
    remoteId: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    recipients: z
      .object({
        pending: z.number().int(),
        delivered: z.number().int(),
        read: z.number().int(),
        dropped: z.number().int(),
      })
      .optional()
      .describe('What DingTalk reported for the people of a sent work notice or app-robot 1:1 message'),
  })
  .meta({ id: 'Delivery' });

/** What DingTalk reported for each person of one sent delivery (docs/hub.md "Send results"). */
const deliveryRecipientsFields = {
  people: z.array(
    z.object({
      userId: z.string(),
      outcome: z.enum(['pending', 'delivered', 'read', 'dropped']),
      reasonCode: z.string().optional().describe('Of a drop: 143106, 143105, invalid_user, failed, ...'),
      reason: z.string().optional(),
      updatedAt: z.string(),
      fallbackDeliveryId: z.string().optional(),
    }),
  ),
  check: z
    .object({
      kind: z.enum(['notice', 'oto', 'group']),
      asked: z.number().int(),
      nextAt: z.string().optional(),
      doneAt: z.string().optional(),
      lastError: z.string().optional(),
    })
    .optional()
    .describe('Where the send-result questions stand; absent where DingTalk offers no result'),
};

export const sendResultSchema = z
  .object({ messageId: z.string(), duplicate: z.boolean(), deliveries: z.array(deliverySchema) })
  .meta({ id: 'SendResult' });

export const taskStateSchema = z.enum(['open', 'in_progress', 'done', 'cancelled']);
export const prioritySchema = z.enum(['low', 'normal', 'high', 'urgent']);

export const isoTimeSchema = z.iso.datetime({ offset: true });
/**
 * A task's due time: an ISO time with its offset, or a wall time `YYYY-MM-DD HH:mm` read in the hub's `timeZone`
 * (hub/zoned-time.ts; a time the zone's clocks skip is a 400).
 */
const dueSchema = z
  .union([isoTimeSchema, z.string().regex(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/)])
  .meta({
    description:
      "An ISO time with offset (`2026-12-05T18:00:00+08:00`), or `YYYY-MM-DD HH:mm` in the hub's configured " +
      '`timeZone` (`2026-12-05 18:00`).',
  });
/** Task create and edit: the opt-in for a due time in the past. */
const allowPastDueSchema = z
  .boolean()
  .optional()
  .meta({
    description:
      'Accept a `due` more than 60 s in the past (an import of old work). Without it such a due time is a 400 ' +
      '`due_in_past`.',
  });

export const createTaskBody = z
  .object({
    title: shortText(200),
    description: text().max(4_000).optional(),
    assignees: z.array(personNameSchema).min(1).max(50),
    group: aliasSchema.optional(),
    due: dueSchema.optional(),
    priority: prioritySchema.optional(),
    idempotencyKey: shortText(200).optional(),
    allowPastDue: allowPastDueSchema,
  })
  .strict()
  .meta({ id: 'CreateTask' });

/** PATCH /v1/tasks/{id}: absent fields stay, `null` removes an optional one; at least one field. */
export const updateTaskBody = z
  .object({
    title: shortText(200).optional(),
    description: text().max(4_000).nullable().optional(),
    due: dueSchema.nullable().optional(),
    group: aliasSchema.nullable().optional(),
    addAssignees: z.array(personNameSchema).min(1).max(50).optional(),
    removeAssignees: z.array(personNameSchema).min(1).max(50).optional(),
    allowPastDue: allowPastDueSchema,
  })
  .strict()
  .refine(({ allowPastDue: _, ...b }) => Object.values(b).some((v) => v !== undefined), {
    message: 'give at least one field to change',
  })
  .meta({ id: 'UpdateTask' });

export const taskActionSchema = z.enum(['start', 'done', 'cancel', 'reopen']);

export const taskActionBody = z
  .object({ note: text().max(1_000).optional() })
  .strict()
  .meta({ id: 'TaskAction' });

export const taskSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    description: z.string().optional(),
    state: taskStateSchema,
    assignees: z.array(z.object({ name: z.string(), todoId: z.string().optional() })),
    group: z.string().optional(),
    due: z.string().optional(),
    priority: prioritySchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    history: z.array(
      z.object({ at: z.string(), kind: z.string(), by: z.string(), note: z.string().optional() }),
    ),
  })
  .meta({ id: 'Task' });

/** A decimal integer written plainly in a path or query: no spaces, signs, exponents or hex (`z.coerce` takes those). */
export const decimalInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const limitQuery = decimalInt(1, 1_000).optional();

export const taskListQuery = z
  .object({
    state: taskStateSchema.optional(),
    assignee: personNameSchema.optional(),
    group: aliasSchema.optional(),
    overdue: z.enum(['true', 'false']).optional(),
    limit: limitQuery,
  })
  .strict();

/** Task ids are positive integers; anything else in the path is a 400, not a lookup. */
export const taskIdParam = decimalInt(1, Number.MAX_SAFE_INTEGER);

/** Message and delivery ids are opaque strings minted by the hub. */
export const opaqueIdParam = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'not a valid id');

/** Text fields of the multipart upload (the file part is `file`). */
export const fileShareFields = z
  .object({
    ...destinationShape,
    to: text()
      .min(1)
      .max(4_000)
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0),
      )
      .pipe(z.array(personNameSchema).min(1).max(100))
      .optional(),
    comment: text().max(2_000).optional(),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .max(2_000)
      .refine(isStorableText, STORABLE_TEXT_MESSAGE)
      .optional(),
    fileName: shortText(255).optional(),
  })
  .strict()
  .refine(oneDestination, ONE_DESTINATION);

export const fileShareSchema = z
  .object({
    id: z.string(),
    fileName: z.string(),
    size: z.number().int(),
    mediaId: z.string().optional(),
    target: z.string(),
    channel: z.enum(['app', 'notice', 'robot-link']),
    status: deliveryStatusSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'FileShare' });

export const deliveryListQuery = z
  .object({
    status: deliveryStatusSchema.optional(),
    /** `true`: only deliveries with a recipient DingTalk dropped. */
    dropped: z.enum(['true', 'false']).optional(),
    limit: limitQuery,
  })
  .strict();
export const limitOnlyQuery = z.object({ limit: limitQuery }).strict();

export const redriveBody = z
  .union([
    z.object({ ids: z.array(opaqueIdParam).min(1).max(1_000) }).strict(),
    z.object({ allDead: z.literal(true) }).strict(),
  ])
  .meta({ id: 'Redrive' });

/** Delivery ids are the store's integers (the API shows them as strings). */
export const deliveryIdParam = decimalInt(1, Number.MAX_SAFE_INTEGER);

export const resolveActionSchema = z.enum(['mark-sent', 'redrive', 'drop']);

export const resolveBody = z
  .object({
    action: resolveActionSchema.meta({
      description:
        'mark-sent: it did arrive (becomes sent); redrive: send it again (queued now); drop: never send it (cancelled)',
    }),
    note: text().max(1_000).optional(),
  })
  .strict()
  .meta({ id: 'ResolveDelivery' });

export const deliveryDecisionSchema = z
  .object({
    action: resolveActionSchema,
    by: z.string(),
    at: z.string(),
    note: z.string().optional(),
    previousStatus: deliveryStatusSchema,
  })
  .meta({ id: 'DeliveryDecision' });

export const deliveryEvidenceSchema = deliverySchema
  .extend({
    messageId: z.string(),
    kind: z.string(),
    via: z.string().meta({ description: 'robot:<name> (custom robot) or app:<name>' }),
    payload: z.unknown().meta({ description: 'The payload as stored; secret-named fields redacted' }),
    parkedAt: z.string().optional(),
    failures: z.array(
      z.object({
        attempt: z.number().int(),
        at: z.string(),
        action: z.enum(['retry', 'park', 'dead']),
        code: z.string().optional(),
        outcome: z.string().optional(),
        reason: z.string(),
      }),
    ),
    decisions: z.array(deliveryDecisionSchema),
    ...deliveryRecipientsFields,
  })
  .meta({ id: 'DeliveryEvidence' });

export const resolveResultSchema = z
  .object({ delivery: deliverySchema, decision: deliveryDecisionSchema, duplicate: z.boolean() })
  .meta({ id: 'ResolveResult' });

export const personSchema = z
  .object({
    name: z.string(),
    mobile: z.string().optional(),
    userId: z.string().optional(),
    unionId: z.string().optional(),
  })
  .meta({ id: 'Person' });

export const healthSchema = z
  .object({
    ok: z.boolean(),
    // The rest only for a token with the `read` scope (routes/health.ts); without one the answer is `{ ok }`.
    version: z.string().optional(),
    store: z.enum(['sqlite', 'postgres']).optional(),
    storeError: z.string().optional(),
    emulator: z.object({ url: z.string() }).optional(),
    stream: z.enum(['connected', 'connecting', 'off']).optional(),
    /** Each receiver of `inbound.mode`: Stream and/or HTTP callbacks (with the paths DingTalk posts to). */
    receivers: z
      .array(
        z.object({
          name: z.enum(['stream', 'http']),
          state: z.enum(['connected', 'connecting', 'ready', 'off']),
          routes: z.array(z.string()).optional(),
        }),
      )
      .optional(),
    queue: z.object({ queued: z.number(), parked: z.number(), dead: z.number() }).optional(),
    /** The IANA zone the hub shows times in (config `timeZone`). */
    timeZone: z.string().optional(),
  })
  .meta({ id: 'Health' });

export const errorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' });

export const eventsQuery = z
  .object({
    /** For clients that cannot set `Last-Event-ID` on the first connection (replays the buffer after it). */
    lastEventId: decimalInt(0, Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

/** The last id a client saw: the `Last-Event-ID` header wins over the query; garbage is a 400. */
export const lastEventIdHeader = decimalInt(0, Number.MAX_SAFE_INTEGER);
