/**
 * `gateways.routes`: where monitoring systems post (docs/gateways.md). Each route is one door, `POST /hooks/<name>`,
 * with its own secret (never the API token: a monitoring system's config leaks more easily than an operator's
 * token, and one leaked route secret must open nothing else), its own payload kind and its own rules.
 *
 * Secrets are written `${ENV}` like the rest of the config (config.ts expands them before this schema runs).
 */

import { isIP } from 'node:net';
import { z } from 'zod';

const routeName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ - (max 64)');
const alias = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (max 64)');
/** Long enough that guessing is hopeless; a short secret is a config mistake, refused at start. */
const secret = z.string().min(16, 'at least 16 characters').max(512);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name')
  .transform((h) => h.toLowerCase());

/**
 * How a sender proves it is the configured one. `bearer`: `Authorization: Bearer <token>` (what Alertmanager's
 * `http_config.authorization` sends); `basic`: `Authorization: Basic`; `token`: a secret in a header of your choice
 * (never the query string, which ends up in access logs); `hmac`: a signature of the raw body (and, with
 * `timestampHeader`, of `<timestamp>.<body>`, which refuses old replays).
 * @example { type: 'bearer', token: '${AM_HOOK_TOKEN}' }
 */
export const hookAuthSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('bearer'),
      token: secret,
      /**
       * The `Authorization` scheme before the token. Grafana's contact point lets it be set ("Authentication
       * Header Scheme"), so a route can take `Authorization: Token <token>`. Compared case-insensitively.
       * @default 'Bearer'
       */
      scheme: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,31}$/, 'an HTTP auth scheme (a token, no spaces)')
        .default('Bearer'),
    })
    .strict(),
  z
    .object({
      type: z.literal('basic'),
      username: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[^:]+$/, 'no ":"'),
      password: secret,
    })
    .strict(),
  z.object({ type: z.literal('token'), header: headerName, token: secret }).strict(),
  z
    .object({
      type: z.literal('hmac'),
      secret,
      /** @default 'x-signature-256' */
      header: headerName.default('x-signature-256'),
      /** @default 'sha256' */
      algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
      /** @default 'hex' */
      encoding: z.enum(['hex', 'base64']).default('hex'),
      /** Written before the signature, e.g. `sha256=`. @default '' */
      prefix: z.string().max(32).default(''),
      /** Header holding the send time (epoch seconds); then `<timestamp>.<raw body>` is what is signed. */
      timestampHeader: headerName.optional(),
      /**
       * What joins the timestamp and the body in the signed text: `.` (`<timestamp>.<body>`, the common scheme) or
       * `:` (Grafana's contact point signs `<unix seconds>:<body>`, hex, no prefix: grafana/alerting's HMAC round
       * tripper; docs/gateways.md "Grafana"). @default '.'
       */
      timestampSeparator: z.enum(['.', ':']).default('.'),
      /** How old a signed timestamp may be. @default 300_000 */
      toleranceMs: z.number().int().positive().max(3_600_000).default(300_000),
    })
    .strict(),
]);
export type HookAuth = z.infer<typeof hookAuthSchema>;

/** Who hears of it, as the hub's messages API names them (a group alias, people by name, a forced channel). */
export const hookTargetsSchema = z
  .object({
    groups: z.array(alias).max(20).default([]),
    people: z.array(z.string().min(1).max(128)).max(50).default([]),
    via: z.enum(['robot', 'app', 'notice']).optional(),
  })
  .strict();
export type HookTargets = z.infer<typeof hookTargetsSchema>;

const labelValues = z.record(z.string().min(1).max(128), z.string().max(256));

/**
 * A rule: all of `match` equal and all of `matchRe` matching (anchored, like Alertmanager's own matchers), then
 * its targets. The first matching rule wins unless it says `continue`. An item no rule matches goes to the route's
 * own `targets`, or nowhere (counted as `unrouted`).
 * @example { match: { severity: 'critical' }, matchRe: { service: 'db-.*' }, targets: { groups: ['ops'] }, mentionAll: true }
 */
export const hookRuleSchema = z
  .object({
    match: labelValues.default({}),
    matchRe: z
      .record(
        z.string().min(1).max(128),
        z
          .string()
          .max(256)
          .superRefine((v, ctx) => {
            try {
              new RegExp(`^(?:${v})$`, 'u');
            } catch {
              ctx.addIssue({ code: 'custom', message: 'not a valid regular expression' });
            }
          }),
      )
      .default({}),
    targets: hookTargetsSchema,
    /** An item may @all (when its labels or annotations ask for `all`, see `mentions`). @default false */
    mentionAll: z.boolean().default(false),
    /** Keep looking at later rules after this one matched. @default false */
    continue: z.boolean().default(false),
  })
  .strict();
export type HookRule = z.infer<typeof hookRuleSchema>;

/**
 * Template overrides: file names inside `dir` (the only directory templates may read; `{% include %}` and
 * `{% render %}` cannot leave it). Missing ones use the built-in template of the hub's `locale`.
 * @example { dir: './templates/alerts', firing: 'firing.liquid', digest: 'digest.liquid' }
 */
export const hookTemplatesSchema = z
  .object({
    dir: z.string().min(1).max(1024),
    firing: z.string().min(1).max(128).optional(),
    resolved: z.string().min(1).max(128).optional(),
    event: z.string().min(1).max(128).optional(),
    digest: z.string().min(1).max(128).optional(),
  })
  .strict();

/** An IPv4 or IPv6 address, or a CIDR range no wider than /8 (IPv4) or /32 (IPv6): "everyone" is not an allow-list. */
const peerRange = z
  .string()
  .max(64)
  .superRefine((v, ctx) => {
    const [addr = '', bits, extra] = v.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const min = family === 4 ? 8 : 32;
    const n = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
    if (family === 0 || extra !== undefined || n < 0 || n > max) {
      ctx.addIssue({
        code: 'custom',
        message: 'an IP address or CIDR range (10.0.3.7, 10.0.4.0/24, fd00::/64)',
      });
    } else if (n < min) {
      ctx.addIssue({
        code: 'custom',
        message: `a range wider than /${min} lets nearly anyone in; name the senders`,
      });
    }
  });

export const hookAliasSchema = z
  .object({
    /** The `<target>` of `/dingtalk/<target>/send` (the old tool's target name). */
    target: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'a letter, then letters, digits, _ - (max 64)'),
    /** Sender addresses that may post to the alias without credentials. @default [] (credentials required) */
    allowFrom: z.array(peerRange).max(100).default([]),
  })
  .strict();
export type HookAlias = z.infer<typeof hookAliasSchema>;

/**
 * GitHub routes: what beyond pull requests, issues and failed workflow runs becomes a message.
 * @default { push: false }
 */
export const githubOptionsSchema = z
  .object({
    /** A summary of each push (commits, author, compare link). @default false */
    push: z.boolean().default(false),
  })
  .strict()
  .default({ push: false });

/** GitHub's signature (docs/gateways.md "GitHub"): HMAC-SHA256 of the raw body, `X-Hub-Signature-256: sha256=<hex>`. */
export function githubAuth(secret: string): Extract<HookAuth, { type: 'hmac' }> {
  return {
    type: 'hmac',
    secret,
    header: 'x-hub-signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
    timestampSeparator: '.',
    toleranceMs: 300_000,
  };
}

/** `kind: github` with `secret:` stands for the hmac auth GitHub signs with; the two cannot both be given. */
function githubShorthand(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const r = v as Record<string, unknown>;
  if (r['kind'] !== 'github' || r['secret'] === undefined || r['auth'] !== undefined) return v;
  const { secret: s, ...rest } = r;
  // The auth schema then checks the secret (a short one is refused as `auth.secret`, never echoed).
  return { ...rest, auth: { ...githubAuth(''), secret: s } };
}

const hookRouteObject = z
  .object({
    name: routeName,
    kind: z.enum(['alertmanager', 'generic', 'grafana', 'github']),
    auth: hookAuthSchema,
    /** Targets of items no rule matched; absent, such items are dropped from sending but counted. */
    targets: hookTargetsSchema.optional(),
    rules: z.array(hookRuleSchema).max(100).default([]),
    templates: hookTemplatesSchema.optional(),
    /**
     * Label and annotation names whose values name people to @mention (`owner: 张三`), comma-separated values
     * allowed. A name the directory does not know is written as text, never guessed. @default { from: ['owner'] }
     */
    mentions: z
      .object({
        from: z.array(z.string().min(1).max(128)).max(10).default(['owner']),
        /**
         * People (directory names) mentioned on every firing message of this route, and `all` for @all: the
         * operator's own choice, so no rule's `mentionAll` is needed (what prometheus-webhook-dingtalk's
         * `mention.all` / `mention.mobiles` did per target). Every name must exist at start. @default []
         */
        always: z.array(z.string().min(1).max(128)).max(50).default([]),
      })
      .strict()
      .default({ from: ['owner'], always: [] }),
    /** Message language. @default the hub's `locale` */
    locale: z.enum(['en', 'zh-CN']).optional(),
    /** Largest body accepted on this route (413 beyond). @default 1_048_576 */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .default(1_048_576),
    /**
     * prometheus-webhook-dingtalk's URL for this route: `POST /dingtalk/<target>/send` reaches it too, so
     * Alertmanager configs written for that tool keep working (docs/gateways.md "Moving from
     * prometheus-webhook-dingtalk"). The alias asks for the route's credentials like `/hooks/<name>`, except from
     * the addresses in `allowFrom` (the TCP peer, never a forwarded header), which old configs need as they send none.
     * @example { target: 'webhook1', allowFrom: ['10.0.3.7', '10.0.4.0/24'] }
     */
    alias: hookAliasSchema.optional(),
    /** Generic routes: the header whose value dedupes a delivery (else the body's SHA-256). @default 'idempotency-key' */
    idempotencyHeader: headerName.default('idempotency-key'),
    /** GitHub routes only (`kind: github`). */
    github: githubOptionsSchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    // GitHub signs every delivery when the webhook has a secret: a GitHub route without the signature check would
    // take anyone's word for a pull request or an issue.
    if (r.kind === 'github' && (r.auth.type !== 'hmac' || r.auth.header !== 'x-hub-signature-256')) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message:
          'a github route checks X-Hub-Signature-256: write `secret:` (or an hmac auth on that header)',
      });
    }
  });

export const hookRouteSchema = z.preprocess(githubShorthand, hookRouteObject);
export type HookRoute = z.infer<typeof hookRouteObject>;

/**
 * Alert cards (alert-cards.ts, docs/gateways.md "Firing and resolved"): in a group its app robot serves, a single
 * firing alert is posted as an interactive card (docs/dingtalk.md §10) that its resolve updates in place. The card
 * binds the variables of the task card (`title`, `status`, `state`, `content`, `lastAction`, `buttons`), so one
 * template serves both: `templateId` here, else `tasks.cards.templateId` (the built-in emulator's in demo mode).
 * No template known, or `enabled: false`: alerts stay markdown messages and resolve by reply.
 * @default { enabled: true }
 * @example { templateId: '5d1e…7c.schema' }
 */
export const alertCardsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The card template's id (`cardTemplateId`, §10). @default tasks.cards.templateId */
    templateId: z.string().min(1).max(255).optional(),
  })
  .strict()
  .default({ enabled: true });
export type AlertCardsConfig = z.infer<typeof alertCardsSchema>;

/**
 * @default { routes: [], flapWindowMs: 300_000, flushMs: 500, maxInFlight: 1, budgetShare: 0.5, cards: { enabled: true } }
 */
export const gatewaysSchema = z
  .object({
    routes: z
      .array(hookRouteSchema)
      .max(100)
      .default([])
      .superRefine((rs, ctx) => {
        const seen = new Set<string>();
        const aliases = new Set<string>();
        rs.forEach((r, i) => {
          if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'used twice' });
          seen.add(r.name);
          if (r.alias && aliases.has(r.alias.target)) {
            ctx.addIssue({ code: 'custom', path: [i, 'alias', 'target'], message: 'used twice' });
          }
          if (r.alias) aliases.add(r.alias.target);
        });
      }),
    /**
     * A resolved alert is held this long before its reply goes out; if it fires again meanwhile, neither is sent
     * and the alert is counted as flapping instead (shown on its next message).
     */
    flapWindowMs: z.number().int().min(0).max(86_400_000).default(300_000),
    /** How often pending items are looked at (each accepted request also triggers a look at once). */
    flushMs: z.number().int().positive().max(60_000).default(500),
    /**
     * Gateway messages queued but not yet sent per conversation before new items wait and are gathered into one
     * digest: what keeps a storm within the robot's budget (the outbox limiter paces the messages themselves).
     */
    maxInFlight: z.number().int().min(1).max(10_000).default(1),
    /**
     * Share of a conversation's robot budget (`robots.<name>.budget`, else `dispatcher.robotBudget`) the gateway
     * may use per window; past it, new items wait and go out together as a digest when the window moves. The rest
     * is left for the hub's own messages (task announcements, replies). 1: all of it; more than 1 turns this gate
     * off (the outbox limiter still paces the robot, but a storm then queues up behind it instead of in digests).
     */
    budgetShare: z.number().gt(0).max(1_000).default(0.5),
    cards: alertCardsSchema,
  })
  .strict()
  .default({
    routes: [],
    flapWindowMs: 300_000,
    flushMs: 500,
    maxInFlight: 1,
    budgetShare: 0.5,
    cards: { enabled: true },
  });
export type GatewaysConfig = z.infer<typeof gatewaysSchema>;
