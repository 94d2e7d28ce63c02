/**
 * A custom group robot (自定义机器人, docs/dingtalk.md §2): a webhook URL with a per-robot `access_token`, optionally a
 * signing secret (`SEC...`) and keywords. It needs no app credentials, so it works standalone
 * (`new CustomRobot({ webhook, secret })`) or from a client (`dt.webhook({...})`, sharing its transport, limiter
 * and logger).
 *
 * Each robot may send 20 messages a minute and is blocked for 10 minutes past that (§2.6); sends go through the
 * limiter under `webhook:<name>` and a throttle answer penalises that key only. The robot token and secret are
 * registered with the client's redactor and never appear in the limiter key, logs or errors.
 */

import { createHash } from 'node:crypto';
import { DingTalkCore, type DingTalkOptions } from '../../core/client-core.js';
import type { ApiContext } from '../../core/context.js';
import { ConfigError, ValidationError } from '../../core/errors.js';
import type { DingTalkRequest, QueryValue } from '../../core/pipeline.js';
import { type CallOptions, callFields } from '../shared/response.js';
import {
  type ActionCardMulti,
  type ActionCardSingle,
  type FeedCardLink,
  type Mention,
  type WebhookMessage,
  webhookMessage,
} from './webhook-messages.js';
import { signWebhook } from './webhook-sign.js';
import { checkAccessToken, parseWebhookUrl } from './webhook-url.js';
import {
  checkKeywords,
  checkWebhookSize,
  validateWebhookMessage,
  WEBHOOK_MAX_BYTES,
} from './webhook-validate.js';

export interface CustomRobotOptions {
  /**
   * The webhook URL as shown in DingTalk (`https://oapi.dingtalk.com/robot/send?access_token=...`), or its token
   * alone. Give this or `accessToken`. Read by `parseWebhookUrl`: a malformed one is a ValidationError that never
   * holds the token.
   */
  webhook?: string | undefined;
  /** The robot's `access_token` alone; the URL is then built on the client's `oapiBase`. */
  accessToken?: string | undefined;
  /** Signing secret (starts with `SEC`), when the robot uses the sign security setting (§2.2). */
  secret?: string | undefined;
  /**
   * Keywords configured on the robot: a message containing none of them fails locally with a ValidationError
   * instead of DingTalk's 310000.
   */
  keywords?: readonly string[] | undefined;
  /**
   * Name used in the limiter key (`webhook:<name>`) and logs.
   * @default 'robot-' + the first 12 hex characters of SHA-256(access_token)
   */
  name?: string | undefined;
  /**
   * Largest JSON body sent, in bytes (§2.6).
   * @default 20_000
   */
  maxBytes?: number | undefined;
  /**
   * This robot's send budget (a client's `rateLimit.overrides['webhook:<name>']` still wins).
   * @default the client's robot budget: 20 per 61 s
   * @example { limit: 18, windowMs: 60_000 }
   */
  budget?: { limit: number; windowMs: number } | undefined;
}

/** Options of a robot built without a client: the robot options plus the client-level transport settings. */
export type StandaloneCustomRobotOptions = CustomRobotOptions &
  Pick<
    DingTalkOptions,
    | 'oapiBase'
    | 'timeoutMs'
    | 'retry'
    | 'rateLimit'
    | 'errors'
    | 'middleware'
    | 'transport'
    | 'logger'
    | 'now'
    | 'env'
  >;

export interface WebhookSendOptions extends CallOptions {
  /**
   * `msgUuid`: DingTalk's idempotency key for webhook sends (§2.1). With it, a send whose outcome is unknown
   * (timeout, reset) may be retried safely, and the retry layer does so.
   */
  msgUuid?: string | undefined;
}

export interface WebhookSendResult {
  /** The request id DingTalk returned, when it returned one. */
  requestId: string | undefined;
}

const OP = 'webhook.send';

export class CustomRobot {
  /** Name used in the limiter key and logs (never the token). */
  readonly name: string;
  readonly #ctx: ApiContext;
  readonly #own: DingTalkCore | undefined;
  readonly #target: { host: 'oapi' | 'url'; path: string; token: string };
  readonly #secret: string | undefined;
  readonly #keywords: readonly string[];
  readonly #maxBytes: number;
  readonly #budget: { limit: number; windowMs: number } | undefined;

  /**
   * @example
   * const robot = new CustomRobot({ webhook: process.env.ROBOT_URL, secret: process.env.ROBOT_SECRET });
   * await robot.text('deploy finished', { mobiles: ['13800000000'] });
   */
  constructor(options: StandaloneCustomRobotOptions, context?: ApiContext) {
    this.#target = resolveTarget(options);
    if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length === 0)) {
      throw new ConfigError('CustomRobot: secret must be a non-empty string');
    }
    this.#secret = options.secret;
    this.#keywords = (options.keywords ?? []).filter((k) => typeof k === 'string' && k.length > 0);
    this.#maxBytes = options.maxBytes ?? WEBHOOK_MAX_BYTES;
    if (
      options.budget !== undefined &&
      !(
        Number.isInteger(options.budget.limit) &&
        options.budget.limit > 0 &&
        Number.isFinite(options.budget.windowMs) &&
        options.budget.windowMs > 0
      )
    ) {
      throw new ConfigError('CustomRobot: budget needs a positive integer limit and a positive windowMs');
    }
    this.#budget = options.budget ? { ...options.budget } : undefined;
    this.name =
      options.name ?? `robot-${createHash('sha256').update(this.#target.token).digest('hex').slice(0, 12)}`;
    if (context) {
      this.#ctx = context;
    } else {
      this.#own = new DingTalkCore(standaloneCoreOptions(options));
      this.#ctx = this.#own.context;
    }
    this.#ctx.redactor.add(this.#target.token);
    this.#ctx.redactor.add(this.#secret);
  }

  /**
   * Sends one message. Checks it locally first (type, required fields, mentions, keywords, 20,000 bytes).
   * @example
   * await robot.send(webhookMessage.markdown('Release', '### v1.2 is out'), { msgUuid: 'release-1.2' });
   */
  async send(message: WebhookMessage, options: WebhookSendOptions = {}): Promise<WebhookSendResult> {
    const req = this.buildRequest(message, options);
    const res = await this.#ctx.request(req);
    return { requestId: res.requestId };
  }

  /**
   * The exact request `send` would make, without sending it (inspection, batching by a caller's own queue).
   * The signature is computed now; DingTalk accepts it for one hour (§2.3).
   */
  buildRequest(message: WebhookMessage, options: WebhookSendOptions = {}): DingTalkRequest {
    const m = validateWebhookMessage(message, OP);
    checkKeywords(m, this.#keywords, OP);
    let body: Record<string, unknown> = { ...m };
    if (options.msgUuid !== undefined) {
      if (typeof options.msgUuid !== 'string' || options.msgUuid.length === 0) {
        throw new ValidationError('must be a non-empty string', 'msgUuid', { operation: OP });
      }
      body = { ...body, msgUuid: options.msgUuid };
    }
    checkWebhookSize(body, this.#maxBytes, OP);
    // The token is already in the path (encoded once at construction); only the signature changes per call.
    let query: Record<string, QueryValue> | undefined;
    if (this.#secret !== undefined) {
      const s = signWebhook(this.#secret, this.#ctx.now());
      query = { timestamp: s.timestamp, sign: s.sign };
    }
    return {
      operation: OP,
      host: this.#target.host,
      method: 'POST',
      path: this.#target.path,
      ...(query ? { query } : {}),
      body,
      auth: 'none',
      idempotent: options.msgUuid !== undefined,
      rateKey: `webhook:${this.name}`,
      ...(this.#budget ? { rateBudget: this.#budget } : {}),
      ...callFields(options),
    };
  }

  /**
   * Text message; `who` is @-mentioned (written into the text so the mention renders, §2.5).
   * @example
   * await robot.text('build #42 failed', { userIds: ['manager4220'] });
   */
  async text(content: string, who?: Mention, options?: WebhookSendOptions): Promise<WebhookSendResult> {
    return this.send(webhookMessage.text(content, who), options);
  }

  /**
   * Markdown message; `title` shows in the conversation list only.
   * @example
   * await robot.markdown('Weather', '#### Hangzhou\n> 9°C, sunny');
   */
  async markdown(
    title: string,
    text: string,
    who?: Mention,
    options?: WebhookSendOptions,
  ): Promise<WebhookSendResult> {
    return this.send(webhookMessage.markdown(title, text, who), options);
  }

  /**
   * Link card.
   * @example
   * await robot.link({ title: 'Runbook', text: 'Disk full on db-1', messageUrl: 'https://wiki/runbook' });
   */
  async link(
    link: { title: string; text: string; messageUrl: string; picUrl?: string },
    options?: WebhookSendOptions,
  ): Promise<WebhookSendResult> {
    return this.send(webhookMessage.link(link), options);
  }

  /**
   * Action card with one button (`singleTitle`/`singleURL`) or several (`btns`).
   * @example
   * await robot.actionCard({ title: 'Approve?', text: 'Deploy v2', btns: [{ title: 'Yes', actionURL: 'https://x/y' }] });
   */
  async actionCard(
    card: ActionCardSingle | ActionCardMulti,
    options?: WebhookSendOptions,
  ): Promise<WebhookSendResult> {
    return this.send(webhookMessage.actionCard(card), options);
  }

  /**
   * Feed card (a list of links).
   * @example
   * await robot.feedCard([{ title: 'News', messageURL: 'https://x', picURL: 'https://x/p.png' }]);
   */
  async feedCard(links: FeedCardLink[], options?: WebhookSendOptions): Promise<WebhookSendResult> {
    return this.send(webhookMessage.feedCard(links), options);
  }

  /** Releases the sockets of a standalone robot; a robot made by a client shares (and leaves) the client's. */
  async close(): Promise<void> {
    await this.#own?.close();
  }
}

function resolveTarget(o: CustomRobotOptions): { host: 'oapi' | 'url'; path: string; token: string } {
  if (o.webhook !== undefined && o.accessToken !== undefined) {
    throw new ConfigError('CustomRobot: give either webhook or accessToken, not both');
  }
  if (o.webhook === undefined && o.accessToken === undefined) {
    throw new ConfigError('CustomRobot: webhook or accessToken is required');
  }
  const target =
    o.accessToken !== undefined
      ? { accessToken: checkAccessToken(o.accessToken, 'accessToken', OP), url: undefined, onOapi: true }
      : parseWebhookUrl(o.webhook, OP);
  const token = target.accessToken;
  if (target.onOapi || !target.url) {
    // DingTalk's own webhook URL follows the client's oapiBase (DINGTALK_OAPI_BASE), so pointing a client at the
    // emulator also points its robots there; in production oapiBase is this same origin.
    return { host: 'oapi', path: `/robot/send?access_token=${encodeURIComponent(token)}`, token };
  }
  // The token goes last-but-signature so the wire URL reads like DingTalk's own (…?access_token=…&timestamp=…&sign=…).
  const url = new URL(target.url);
  url.searchParams.append('access_token', token);
  return { host: 'url', path: url.toString(), token };
}

function standaloneCoreOptions(o: StandaloneCustomRobotOptions): DingTalkOptions {
  const out: DingTalkOptions = {};
  if (o.oapiBase !== undefined) out.oapiBase = o.oapiBase;
  if (o.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs;
  if (o.retry !== undefined) out.retry = o.retry;
  if (o.rateLimit !== undefined) out.rateLimit = o.rateLimit;
  if (o.errors !== undefined) out.errors = o.errors;
  if (o.middleware !== undefined) out.middleware = o.middleware;
  if (o.transport !== undefined) out.transport = o.transport;
  if (o.logger !== undefined) out.logger = o.logger;
  if (o.now !== undefined) out.now = o.now;
  if (o.env !== undefined) out.env = o.env;
  return out;
}
