/**
 * Hub configuration: one file (`dingkit.config.json` / `.yaml` / `.yml`) plus environment variables.
 *
 * Secrets may be written as `${ENV_NAME}` so the file itself can be committed. Errors name the bad key
 * (`robots.ops.webhook: ...`) and never echo a value. With no DingTalk credentials at all, the hub runs
 * against the built-in emulator (`emulator: 'auto'`).
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseWebhookUrl } from '../api/robot/webhook-url.js';
import { ConfigError } from '../core/errors.js';
import { readConfigSource, showPath } from './config-source.js';
import { gatewaysSchema } from './gateways/config.js';
import { LOCALES } from './locale.js';
import { tokensSchema } from './token-config.js';
import { isTimeZone } from './zoned-time.js';

const DAY_MS = 86_400_000;

/** Where the demo keeps its database (`npm start` in a fresh checkout): the one path created without being asked. */
const DEFAULT_DATABASE_URL = './data/dingkit.db';

/**
 * Why the sender's timeout must stay below the lease: the lease is what tells other workers "this delivery is
 * being sent". If a call may run longer than the lease, a stalled renewal (a slow store) lets another worker
 * re-claim the delivery while the first call is still in flight, and DingTalk may get it twice.
 */
export function sendTimeoutProblem(d: {
  leaseMs: number;
  sendTimeoutMs?: number | undefined;
}): string | undefined {
  const t = d.sendTimeoutMs;
  if (t === undefined || t < d.leaseMs) return undefined;
  return `must be less than dispatcher.leaseMs (${d.leaseMs} ms), got ${t} ms: a send still in flight when its lease runs out can be claimed and sent again by another worker`;
}

/**
 * The sender's HTTP timeout: the configured one, or 10 s capped at 80 % of the lease (the rest is room for the
 * worker to record the outcome before anyone may take the delivery over).
 */
export function sendTimeoutOf(d: { leaseMs: number; sendTimeoutMs?: number | undefined }): number {
  return d.sendTimeoutMs ?? Math.max(1, Math.min(10_000, Math.floor(d.leaseMs * 0.8)));
}

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (max 64)');

const budget = z
  .object({
    limit: z.number().int().positive(),
    windowMs: z.number().int().positive(),
  })
  .strict();

const app = z
  .object({
    appKey: z.string().min(1),
    appSecret: z.string().min(1),
    agentId: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    robotCode: z.string().min(1).optional(),
    corpId: z.string().min(1).optional(),
  })
  .strict();

const robot = z
  .object({
    /** Full webhook URL or just its access token, read by the library's one parser (docs/dingtalk.md §2.1). */
    webhook: z.string().superRefine((v, ctx) => {
      try {
        parseWebhookUrl(v, 'config');
      } catch (e) {
        // The parser's refusal names what is wrong and never the token.
        ctx.addIssue({
          code: 'custom',
          message: e instanceof Error ? e.message.replace(/^webhook: /, '') : 'invalid',
        });
      }
    }),
    /** Sign secret (`SEC...`) when the robot uses signing. */
    secret: z.string().startsWith('SEC').optional(),
    /** Keywords configured on the robot: every message must contain one. */
    keywords: z.array(z.string().min(1)).max(10).optional(),
    budget: budget.optional(),
  })
  .strict();

const group = z
  .object({
    openConversationId: z.string().min(1).optional(),
    chatId: z.string().min(1).optional(),
    /** App whose robot is in the group (sends files, cards, app-robot messages). */
    app: name.optional(),
    /** Custom robot of the group (webhook sends). */
    robot: name.optional(),
    /**
     * Deliver this group's messages strictly in the order they were accepted (one at a time, a parked message
     * holds back the later ones). Off: messages go out in parallel within the robot's budget, and only the
     * parts of one split message keep their order. @default ordering.groups
     */
    ordered: z.boolean().optional(),
  })
  .strict()
  .refine(
    (g) => g.app !== undefined || g.robot !== undefined,
    'a group needs an app or a robot to send with',
  );

const person = z
  .object({
    name: z.string().min(1).optional(),
    mobile: z.string().min(5).max(20).optional(),
    userId: z.string().min(1).optional(),
    unionId: z.string().min(1).optional(),
    /**
     * Their GitHub login: GitHub hook routes @mention them for a review and give them a task's Todo for an issue
     * (docs/gateways.md "GitHub"). Unique across `people` (case-insensitive, as GitHub's logins are).
     * @example 'octocat'
     */
    github: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'a GitHub login (letters, digits, -; at most 39)')
      .optional(),
  })
  .strict()
  .refine(
    (p) => p.mobile !== undefined || p.userId !== undefined || p.unionId !== undefined,
    'a person needs a mobile, userId or unionId',
  );

const personRef = z.string().min(1).max(128);

/**
 * Who may start, finish or cancel a task from a chat (and, later, the people's pages). Assignees, the task's
 * creator, `admins` and the `leads` of its group always may; the policy widens that to people writing from the
 * task's group (`group`) or to everyone in `people` (`org`). Names are keys, display names or userIds.
 * @default { policy: 'assignees', admins: [], leads: {} }
 * @example { policy: 'group', admins: ['张三'], leads: { ops: ['alice'] } }
 */
const taskAccess = z
  .object({
    policy: z.enum(['assignees', 'group', 'org']).default('assignees'),
    /** People who may change every task. */
    admins: z.array(personRef).max(1_000).default([]),
    /** Per group alias: people who may change that group's tasks. */
    leads: z.record(name, z.array(personRef).max(1_000)).default({}),
  })
  .strict()
  .default({ policy: 'assignees', admins: [], leads: {} });

/**
 * Inbound transport. DingTalk pushes an app's robot messages and events either over Stream or to HTTP callback
 * URLs, per app (docs/dingtalk.md §9, §S1). `http` serves `POST /callbacks/robot` (signed with the app secret, §9a) and,
 * when `events` is set, `POST /callbacks/events` (encrypted, §9b) on the hub's own server; `both` does both (a
 * message that comes both ways is one inbox entry: same msgId). Write the token and AES key as `${ENV}`.
 * @default { mode: 'stream', http: { robot: true, sessionWebhookOrigins: [] } }
 * @example { mode: 'http', http: { events: { token: '${DING_CB_TOKEN}', aesKey: '${DING_CB_AES_KEY}' } } }
 */
const inboundSchema = z
  .object({
    mode: z.enum(['stream', 'http', 'both']).default('stream'),
    http: z
      .object({
        /** Serve `POST /callbacks/robot` (the default app's robot, §9a). */
        robot: z.boolean().default(true),
        /**
         * The event subscription's token and aes_key (§9b: 3-32 letters or digits; 43 of [A-Za-z0-9]); absent or
         * `false`: no events route. In demo mode the emulator's app subscription is used when absent.
         */
        events: z
          .union([
            z.literal(false),
            z
              .object({
                token: z.string().regex(/^[A-Za-z0-9]{1,128}$/, 'letters and digits only'),
                aesKey: z.string().regex(/^[A-Za-z0-9]{43}$/, 'exactly 43 letters or digits'),
              })
              .strict(),
          ])
          .optional(),
        /**
         * Origins a robot callback's `sessionWebhook` may name besides DingTalk's and the configured
         * `dingtalk.oapiBase` / `apiBase` (the built-in emulator's in demo mode); any other is refused with 400.
         */
        sessionWebhookOrigins: z.array(z.string().url()).max(20).default([]),
      })
      .strict()
      .default({ robot: true, sessionWebhookOrigins: [] }),
  })
  .strict()
  .default({ mode: 'stream', http: { robot: true, sessionWebhookOrigins: [] } });

/**
 * Interactive task cards (src/hub/tasks/cards.ts, docs/hub.md "Task cards", docs/dingtalk.md §10): in a group served by
 * its app robot (an `app` and no custom `robot`), a task is announced as a card with Start / Done / Open that is
 * updated in place. On where a template is known: `templateId` here (one built in DingTalk's card platform with the
 * variables of tasks/card-view.ts), or the built-in emulator's in demo mode. Groups with a custom robot keep the
 * text announcement. Clicks come back over Stream, or over HTTP (`POST /callbacks/card`) when `inbound.mode` is
 * `http`, which needs the `apiSecret` registered with the callback URL (§10).
 * @default { enabled: true, answer: 'empty', http: { routeKey: 'dingkit-tasks' } }
 * @example { templateId: '3f0c…1a.schema', http: { apiSecret: '${DING_CARD_SECRET}' } }
 */
const taskCards = z
  .object({
    enabled: z.boolean().default(true),
    /** The card template's id (`cardTemplateId`, §10); unset outside demo mode: no cards. */
    templateId: z.string().min(1).max(255).optional(),
    /**
     * What a click is answered with before the hub has applied it (the answer's shape is unverified, §10 / §S8):
     * `empty` answers `{}` and the card changes by the update that follows; `privateData` also tells the clicker
     * "received" on their own view of the card; `cardData` tells everyone.
     */
    answer: z.enum(['empty', 'privateData', 'cardData']).default('empty'),
    http: z
      .object({
        /** The `callbackRouteKey` the callback URL is registered under and the cards are created with. */
        routeKey: z.string().min(1).max(128).default('dingkit-tasks'),
        /** The apiSecret registered with the callback URL (§10); the HTTP route is not served without it. */
        apiSecret: z.string().min(1).max(256).optional(),
      })
      .strict()
      .default({ routeKey: 'dingkit-tasks' }),
  })
  .strict()
  .default({ enabled: true, answer: 'empty', http: { routeKey: 'dingkit-tasks' } });

const configSchema = z
  .object({
    apps: z.record(name, app).default({}),
    robots: z.record(name, robot).default({}),
    groups: z.record(name, group).default({}),
    people: z
      .record(name, person)
      .default({})
      .superRefine((ps, ctx) => {
        // One login, one person: a GitHub mention or Todo must never reach whichever of two came first.
        const seen = new Map<string, string>();
        for (const [key, p] of Object.entries(ps)) {
          const login = p.github?.toLowerCase();
          if (login === undefined) continue;
          const other = seen.get(login);
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [key, 'github'],
              message: `also the GitHub login of "${other}"`,
            });
          }
          seen.set(login, key);
        }
      }),
    /** Default app for work notifications, users and todos. */
    defaultApp: name.optional(),
    /**
     * Language of what the hub says without being asked: task announcements, reminders, escalations. A chat reply
     * is in the language of the command it answers (docs/hub.md "Language and time").
     * @default 'en'
     * @example 'zh-CN'
     */
    locale: z.enum(LOCALES, { message: `one of ${LOCALES.map((l) => `"${l}"`).join(', ')}` }).default('en'),
    /**
     * IANA zone every time a person reads is shown in (chat, reminders, the CLI, the dashboard), always marked
     * with its offset; a zone-less due time (`2026-12-05 18:00`) is read in it too.
     * Unset, the zone of the hub's system (TZ); the demo (the built-in emulator's org) uses Asia/Shanghai.
     * @default the system's zone
     * @example 'Asia/Shanghai'
     */
    timeZone: z
      .string()
      .superRefine((v, ctx) => {
        if (!isTimeZone(v)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown time zone "${v.slice(0, 64)}" (an IANA name such as "Asia/Shanghai" or "UTC")`,
          });
        }
      })
      .optional(),
    /**
     * Per-conversation ordering defaults (docs/hub.md "Ordering"): `groups` for groups without their own
     * `ordered`, `people` for 1:1 messages and work notifications. A request's `ordered` overrides both.
     */
    ordering: z
      .object({ groups: z.boolean().default(false), people: z.boolean().default(false) })
      .strict()
      .default({ groups: false, people: false }),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        /** Largest request body accepted by the HTTP API (files have their own cap). */
        bodyLimitBytes: z.number().int().positive().default(1_048_576),
        /**
         * Host names the API answers to besides loopback names and IP literals (a reverse proxy's public name);
         * any other `Host` header is refused as DNS rebinding (docs/security.md).
         */
        allowedHosts: z.array(z.string().min(1).max(253)).max(100).default([]),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8787, bodyLimitBytes: 1_048_576, allowedHosts: [] }),
    /**
     * The hub's address as DingTalk and people's phones reach it (https in production): the people's web app lives
     * under `<publicUrl>/app`, each Todo links to `<publicUrl>/app/tasks/<id>` (docs/dingtalk.md §13.4), and
     * DingTalk's browser login comes back to `<publicUrl>/app/login/callback` (§13.3). Absent: the address the
     * hub listens on, which only works on this machine (`dingkit doctor` warns).
     * @example 'https://hub.example.com'
     */
    publicUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** The people's web app (docs/people-app.md). */
    peopleApp: z
      .object({
        /** How long a sign-in lasts. @default 43_200_000 (12 h) */
        sessionTtlMs: z
          .number()
          .int()
          .min(60_000)
          .max(30 * DAY_MS)
          .default(12 * 3_600_000),
        /**
         * Open Todo links on the PC client in its side panel (`pc_slide=true`, §13.4); false: in a browser tab.
         * @default true
         */
        pcSlide: z.boolean().default(true),
        /**
         * SameSite of the session cookie. `lax` is sent on the top-level navigations DingTalk makes; if DingTalk's
         * PC side panel frames the pages from its own site, a Lax cookie is not sent there and `none` (https only,
         * so always `Secure`) is needed; the CSRF token and the Origin check guard changes either way.
         * @default 'lax'
         */
        cookieSameSite: z.enum(['lax', 'none']).default('lax'),
        /**
         * The org's DingTalk administrators (`sys_level` 1 main admin, 2 sub-admin, as the 免登 exchange reports it,
         * docs/dingtalk.md §13.2) may open the operator views from the app, like the admins named in
         * `tasks.access.admins`. Off: only those.
         * @default false
         */
        dingtalkAdmins: z.boolean().default(false),
      })
      .strict()
      .default({ sessionTtlMs: 12 * 3_600_000, pcSlide: true, cookieSameSite: 'lax', dingtalkAdmins: false }),
    database: z
      .object({
        url: z.string().min(1).default(DEFAULT_DATABASE_URL),
        /**
         * Create the SQLite file's directory (0700) when it is missing. Off, a missing directory stops the start
         * with an error: a mistyped path must not start a new, empty database elsewhere. The default path
         * (`./data/dingkit.db`, the demo's) is always created. `dingkit serve --create-db` sets it. @default false
         */
        create: z.boolean().optional(),
        /** PostgreSQL schema to work in (created when missing). @default the connection's current schema */
        schema: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'letters, digits and _ only (max 63)')
          .optional(),
      })
      .strict()
      .default({ url: DEFAULT_DATABASE_URL }),
    dingtalk: z
      .object({
        oapiBase: z.string().url().optional(),
        apiBase: z.string().url().optional(),
        /** Host of DingTalk's browser sign-in page (docs/dingtalk.md §13.3); the emulator's in demo mode. */
        loginBase: z.string().url().optional(),
      })
      .strict()
      .default({}),
    /** `auto`: start the built-in emulator when no app or robot is configured. */
    emulator: z
      .object({
        mode: z.enum(['auto', 'on', 'off']).default('auto'),
        port: z.number().int().min(0).max(65535).default(8788),
      })
      .strict()
      .default({ mode: 'auto', port: 8788 }),
    /** How DingTalk's pushes reach the hub (docs/hub.md "Inbound"): Stream, HTTP callbacks, or both. */
    inbound: inboundSchema,
    /** Task reminders and escalation (docs/hub.md "Tasks"); windows scale down for tests. */
    tasks: z
      .object({
        /** A reminder goes to the assignees this long before the due time (0 = none). */
        remindBeforeMs: z.number().int().min(0).default(3_600_000),
        /** Escalation to the group this long after the due time when the task is still open. */
        escalateAfterMs: z.number().int().min(0).default(0),
        /**
         * Who is told of an overdue task besides its group, each in a 1:1 message: the person who created it (from
         * the people's app), the leads (`leads`: its group's `tasks.access.leads` and the `escalationLeads`), and the
         * assignees' managers (`manager`: DingTalk's `manager_userid`, docs/dingtalk.md §7). The assignees hear it in
         * the group and are never told again. [] = the group only.
         * @default ['creator', 'leads']
         * @example ['creator', 'leads', 'manager']
         */
        escalateTo: z.array(z.enum(['creator', 'leads', 'manager'])).default(['creator', 'leads']),
        /**
         * People (names or directory keys) told of every overdue task with `leads` in `escalateTo`, whatever its
         * group, also a task with none (a group's own leads are `tasks.access.leads`).
         * @default []
         * @example ['张三']
         */
        escalationLeads: z.array(personRef).max(100).default([]),
        /**
         * How the people of `escalateTo` are told: the app robot's 1:1 chat (`app-robot`) or a work notification
         * (`notice`, docs/dingtalk.md §5: needs the app's agentId; without one, the app robot is used and the hub
         * logs why).
         * @default 'app-robot'
         */
        escalateVia: z.enum(['app-robot', 'notice']).default('app-robot'),
        /** How often due reminders and escalations are looked for. */
        pollMs: z.number().int().positive().default(1_000),
        /**
         * Poll the open tasks' Todos this often as a safety net for the Todo-change event, whose name is unverified
         * (docs/dingtalk.md §12). Each poll reads one Todo per open assignee and counts against the org's API quota
         * (§0.2), so it is off by default (0).
         */
        todoPollMs: z.number().int().min(0).default(0),
        /**
         * How assignees are reached in a group whose messages go through the app robot, which cannot @ anyone
         * (docs/dingtalk.md §3.1): the group text names them, and each also gets it 1:1 from the app robot (`app`),
         * as a work notification (`notice`, needs the app's agentId), or not at all (`none`). A group with a custom
         * robot @mentions them for real and needs none of this.
         */
        mentionFallback: z.enum(['app', 'notice', 'none']).default('app'),
        /** Link in each Todo (`detailUrl`, docs/dingtalk.md §8.2); `{id}` is the task id. Default: the hub's own API. */
        detailUrl: z.string().url().optional(),
        /** Who may change a task on a person's behalf (src/hub/tasks/access.ts, docs/security.md). */
        access: taskAccess,
        /** Interactive task cards in app-robot groups. */
        cards: taskCards,
      })
      .strict()
      .default({
        remindBeforeMs: 3_600_000,
        escalateAfterMs: 0,
        escalateTo: ['creator', 'leads'],
        escalationLeads: [],
        escalateVia: 'app-robot',
        pollMs: 1_000,
        todoPollMs: 0,
        mentionFallback: 'app',
        access: { policy: 'assignees', admins: [], leads: {} },
        cards: { enabled: true, answer: 'empty', http: { routeKey: 'dingkit-tasks' } },
      }),
    /**
     * Send results (docs/hub.md "Send results"): after DingTalk accepts a work notice or an app-robot message, the
     * hub asks what became of it (docs/dingtalk.md §5.1 getsendresult, §3.1 read status) and records each
     * recipient's outcome. Each question is one DingTalk call and counts against the org's quota (§0.2).
     */
    notices: z
      .object({
        /** Ask for send results at all. Off: deliveries stay `sent` with no recipient outcomes. */
        checkResults: z.boolean().default(true),
        /** The first question this long after the send (DingTalk delivers asynchronously, §5.1). */
        firstCheckMs: z.number().int().positive().default(60_000),
        /** Each later question waits twice as long as the one before, up to this. */
        maxIntervalMs: z
          .number()
          .int()
          .positive()
          .default(4 * 3_600_000),
        /** DingTalk answers about a send for 24 h (§5.1, §3.1); no question is asked after this. */
        windowMs: z.number().int().positive().max(DAY_MS).default(DAY_MS),
        /**
         * Keep asking until each recipient has read it (or the window ends). Off: stop once every recipient is
         * delivered or dropped, which costs one or two questions per send.
         */
        trackReads: z.boolean().default(true),
        /** Also ask who read app-robot group messages (the readers only: DingTalk lists no group's drops). */
        groupReads: z.boolean().default(false),
        /** Questions per app, shared by every hub process (below DingTalk's 20 per second per API, §0.2). */
        budget: budget.default({ limit: 10, windowMs: 1_000 }),
        /** How often due questions are looked for. */
        pollMs: z.number().int().positive().default(1_000),
        /**
         * A work notice DingTalk dropped for a person (a daily cap, the same content twice a day, a failure; not an
         * unknown user) is sent to them once more 1:1 by the app robot (`app-robot`), or not (`none`).
         */
        droppedFallback: z.enum(['app-robot', 'none']).default('none'),
      })
      .strict()
      .default({
        checkResults: true,
        firstCheckMs: 60_000,
        maxIntervalMs: 4 * 3_600_000,
        windowMs: DAY_MS,
        trackReads: true,
        groupReads: false,
        budget: { limit: 10, windowMs: 1_000 },
        pollMs: 1_000,
        droppedFallback: 'none',
      }),
    /** File shares (docs/dingtalk.md §6). */
    files: z
      .object({
        /** Upload cap (§6.1: file ≤ 20 MB). */
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(20 * 1024 * 1024),
        /** Work-notification file cap (§5.3 says ≤ 10 MB; §12 lists the discrepancy). */
        noticeMaxBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        /** Accepted extensions (§6.1 file types). */
        types: z
          .array(z.string().regex(/^[a-z0-9]{1,8}$/))
          .default(['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar']),
        /**
         * HTTP uploads handled at once; one more is answered 429 with Retry-After. Each holds a temporary file
         * on disk (up to maxBytes), not memory.
         */
        maxConcurrentUploads: z.number().int().min(1).max(1_000).default(16),
      })
      .strict()
      .default({
        maxBytes: 20 * 1024 * 1024,
        noticeMaxBytes: 10 * 1024 * 1024,
        types: ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar'],
        maxConcurrentUploads: 16,
      }),
    dispatcher: z
      .object({
        /**
         * `false`: this process accepts and stores requests but sends nothing (an API-only process, or a held
         * queue); another process with the dispatcher on delivers them. @default true
         */
        enabled: z.boolean().default(true),
        /**
         * Sends in flight at most. Default: 8, or one per configured custom robot when there are more, so every
         * robot's budget window can open at once (a robot waiting for a free worker starts its window late).
         */
        workers: z.number().int().positive().max(256).optional(),
        /** How long a claimed delivery stays this worker's; renewed while its send runs. */
        leaseMs: z.number().int().positive().default(30_000),
        /**
         * HTTP timeout of one DingTalk call made by a worker. Must stay below `leaseMs` (checked here and in
         * `startHub`), see {@link checkSendTimeout}.
         * @default min(10_000, 0.8 × leaseMs)
         */
        sendTimeoutMs: z.number().int().positive().optional(),
        pollMs: z.number().int().positive().default(200),
        /** `hold`: park unknown outcomes for an operator (no duplicates); `retry`: retry them. */
        ambiguous: z.enum(['hold', 'retry']).default('hold'),
        maxAttempts: z.number().int().positive().max(50).default(8),
        /** First retry delay; each further attempt doubles it (±20 % jitter, at most 5 min). */
        retryBaseMs: z.number().int().positive().default(1_000),
        robotBudget: budget.default({ limit: 19, windowMs: 60_000 }),
        /**
         * Extra span each budget hit occupies (claim-to-send delay plus clock skew between hub hosts). Default:
         * window / 50 (25 ms..1 s) on SQLite (one host), window / 12 (at most 5 s) on PostgreSQL (docs/hub.md).
         */
        guardMs: z.number().int().min(0).max(60_000).optional(),
        /**
         * Count a finished send's budget hit from its completion (DingTalk counts arrivals). `false` keeps the claim
         * time, for side-by-side comparisons only (docs/store.md). @default true
         */
        stampArrival: z.boolean().optional(),
        /**
         * How long an app-robot 1:1 send waits when DingTalk flow-controlled its recipient (`flowControlledStaffIdList`,
         * docs/dingtalk.md §3.1: accepted, not delivered, no reason or wait given). @default 60_000
         */
        flowControlRetryMs: z.number().int().positive().max(3_600_000).default(60_000),
      })
      .strict()
      .superRefine((d, ctx) => {
        const problem = sendTimeoutProblem(d);
        if (problem) ctx.addIssue({ code: 'custom', path: ['sendTimeoutMs'], message: problem });
      })
      .transform((d) => ({ ...d, sendTimeoutMs: sendTimeoutOf(d) }))
      .default({
        enabled: true,
        leaseMs: 30_000,
        sendTimeoutMs: 10_000,
        pollMs: 200,
        ambiguous: 'hold',
        maxAttempts: 8,
        retryBaseMs: 1_000,
        robotBudget: { limit: 19, windowMs: 60_000 },
        flowControlRetryMs: 60_000,
      }),
    /** Where app access tokens live: shared through the store (sealed) or per process (token-config.ts). */
    tokens: tokensSchema,
    /**
     * How long finished work is kept before the hub deletes it (docs/hub.md "Retention"). Both windows are at
     * least 24 h: the idempotency keys of accepted requests and the inbox's dedupe of
     * DingTalk re-pushes must keep answering for that long.
     */
    retention: z
      .object({
        /** Sent and cancelled deliveries (and their messages, once empty) this long after they finished. */
        deliveriesMs: z
          .number()
          .int()
          .min(DAY_MS, 'must be at least 86400000 (24 h, the idempotency window)')
          .default(7 * DAY_MS),
        /** Handled inbox entries (the dedupe keys of inbound pushes) this long after they arrived. */
        inboxMs: z
          .number()
          .int()
          .min(DAY_MS, 'must be at least 86400000 (24 h, the re-push dedupe window)')
          .default(7 * DAY_MS),
        /** How often one hub process (a store lock picks which) purges; 0 turns purging off. */
        everyMs: z.number().int().min(0).default(3_600_000),
      })
      .strict()
      .default({ deliveriesMs: 7 * DAY_MS, inboxMs: 7 * DAY_MS, everyMs: 3_600_000 }),
    /** Monitoring systems posting into DingTalk: `POST /hooks/<name>` (docs/gateways.md, gateways/config.ts). */
    gateways: gatewaysSchema,
  })
  .strict();

export type HubConfig = z.infer<typeof configSchema>;

const CONFIG_FILES = ['dingkit.config.json', 'dingkit.config.yaml', 'dingkit.config.yml'];

/** Replaces `${NAME}` with env values; a missing variable is an error naming the key, not the value. */
function expandEnv(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, v: string) => {
      const got = env[v];
      if (got === undefined) throw new ConfigError(`${path}: environment variable ${v} is not set`);
      return got;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/** Where a key is, for error messages: `<file>, line N` (loadConfig), or nothing for a config built in code. */
export type ConfigLocator = (path: readonly PropertyKey[]) => string | undefined;

/** The value at `path`, to keep it out of a message that might echo it. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * Parses and validates a config object. Errors name the key (and, through `locate`, the file and line), never the
 * value: a schema message that would quote it has it cut out.
 */
export function parseConfig(
  raw: unknown,
  env: Record<string, string | undefined> = process.env,
  locate?: ConfigLocator,
): HubConfig {
  const expanded = expandEnv(raw ?? {}, env, '');
  const withEnv = applyEnv(expanded as Record<string, unknown>, env);
  const r = configSchema.safeParse(withEnv);
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const value = valueAt(withEnv, i.path);
      let message = i.message;
      if (typeof value === 'string' && value.length >= 3) message = message.split(value).join('[value]');
      const where = locate?.(i.path);
      return `${where ? `${where}: ` : ''}${showPath(i.path) || '(root)'}: ${message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`);
  }
  for (const [g, def] of Object.entries(r.data.groups)) {
    if (def.app && !r.data.apps[def.app]) throw new ConfigError(`groups.${g}.app: no app named "${def.app}"`);
    if (def.robot && !r.data.robots[def.robot])
      throw new ConfigError(`groups.${g}.robot: no robot named "${def.robot}"`);
  }
  if (r.data.defaultApp && !r.data.apps[r.data.defaultApp]) {
    throw new ConfigError(`defaultApp: no app named "${r.data.defaultApp}"`);
  }
  const cards = r.data.tasks.cards;
  if (
    r.data.inbound.mode === 'http' &&
    cards.enabled &&
    cards.templateId !== undefined &&
    cards.http.apiSecret === undefined
  ) {
    // The cards would call back over HTTP (no Stream), and the route that takes the clicks needs the secret.
    throw new ConfigError(
      'tasks.cards.http.apiSecret: needed to receive card clicks with inbound.mode "http" (the apiSecret registered with the callback URL, docs/dingtalk.md §10); or set tasks.cards.enabled: false',
    );
  }
  if (r.data.tasks.mentionFallback === 'notice') {
    const app = r.data.defaultApp ?? Object.keys(r.data.apps)[0];
    if (app !== undefined && r.data.apps[app]?.agentId === undefined) {
      throw new ConfigError(
        `tasks.mentionFallback: "notice" needs apps.${app}.agentId (work notifications are sent by agent)`,
      );
    }
  }
  return r.data;
}

/** Environment variables layered over the file (twelve-factor style). */
function applyEnv(
  cfg: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  const out = { ...cfg };
  if (env['DINGKIT_DATABASE_URL'])
    out['database'] = { ...(out['database'] as object), url: env['DINGKIT_DATABASE_URL'] };
  if (env['DINGKIT_PORT']) {
    out['server'] = { ...(out['server'] as object), port: Number(env['DINGKIT_PORT']) };
  }
  const dt: Record<string, unknown> = { ...(out['dingtalk'] as object) };
  if (env['DINGTALK_OAPI_BASE']) dt['oapiBase'] = env['DINGTALK_OAPI_BASE'];
  if (env['DINGTALK_API_BASE']) dt['apiBase'] = env['DINGTALK_API_BASE'];
  if (env['DINGTALK_LOGIN_BASE']) dt['loginBase'] = env['DINGTALK_LOGIN_BASE'];
  out['dingtalk'] = dt;
  if (env['DINGTALK_APP_KEY'] && env['DINGTALK_APP_SECRET']) {
    const apps = { ...(out['apps'] as object) } as Record<string, unknown>;
    apps['default'] = {
      appKey: env['DINGTALK_APP_KEY'],
      appSecret: env['DINGTALK_APP_SECRET'],
      ...(env['DINGTALK_AGENT_ID'] ? { agentId: env['DINGTALK_AGENT_ID'] } : {}),
      ...(env['DINGTALK_ROBOT_CODE'] ? { robotCode: env['DINGTALK_ROBOT_CODE'] } : {}),
    };
    out['apps'] = apps;
    out['defaultApp'] ??= 'default';
  }
  return out;
}

/** Loads the config file from `dir` (or the explicit path) and the environment. No file = defaults. */
export function loadConfig(
  opts: { path?: string; dir?: string; env?: Record<string, string | undefined> } = {},
): { config: HubConfig; source: string | undefined } {
  const env = opts.env ?? process.env;
  const dir = opts.dir ?? process.cwd();
  const explicit = opts.path ?? env['DINGKIT_CONFIG'];
  const file = explicit
    ? resolve(dir, explicit)
    : CONFIG_FILES.map((f) => resolve(dir, f)).find((f) => existsSync(f));
  if (!file) return { config: parseConfig({}, env), source: undefined };
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  const text = readFileSync(file, 'utf8');
  // A syntax error names the file, line and key, and never quotes the line (config-source.ts).
  const source = readConfigSource(file, text);
  const locate: ConfigLocator = (path) => {
    const line = source.lineOf(path);
    return line === undefined ? file : `${file}, line ${line}`;
  };
  return { config: parseConfig(source.raw, env, locate), source: file };
}

/** Whether the SQLite file's directory may be created: asked for, or the demo's default path. */
export function mayCreateDatabase(cfg: HubConfig): boolean {
  return cfg.database.create === true || cfg.database.url === DEFAULT_DATABASE_URL;
}

/** Whether the hub has real DingTalk credentials, or should run against the emulator. */
export function usesEmulator(cfg: HubConfig): boolean {
  if (cfg.emulator.mode === 'on') return true;
  if (cfg.emulator.mode === 'off') return false;
  return Object.keys(cfg.apps).length === 0 && Object.keys(cfg.robots).length === 0;
}
