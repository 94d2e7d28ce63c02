/**
 * From "send this text to that group / those people" to the jobs that carry it: which channel, how mentions are
 * written, how a long text is cut. Pure (the people are resolved beforehand), so every rule is unit-tested.
 *
 * Channel choice (docs/hub.md "Routing"):
 * - a group: its custom robot when it has one (the only channel whose @mentions notify people, docs/dingtalk.md §2.5;
 *   app-robot sends do not support @, §3.1), else its app robot; `via` forces one;
 * - people: the default app's robot 1:1 message (§3.1), or a work notification with `via: 'notice'` (§5);
 *   custom robots are group-only (§2), so `via: 'robot'` to people is refused.
 *
 * Size caps are the library's (webhook body, §2.6; app-robot msgParam, §3.1; work-notification msg, §5.1), and so are
 * the message builders and the keyword check: the hub holds DingTalk's message types end to end and restates none
 * of DingTalk's rules. A text over the cap is split into ordered parts sharing one order key, so the dispatcher
 * delivers them in order. Appended mentions land in the last part, so that part carries the `at` object.
 *
 * Ordering (docs/hub.md "Ordering"): an ordered conversation's jobs share its key (`group:<alias>`,
 * `person:<name>`), so its messages go out one at a time in acceptance order. Otherwise a message has no key, or,
 * when it was split, a key of its own (scope `message`), so its parts stay in order without holding anyone back.
 */

import { NOTICE_MAX_BYTES, type NoticeMessage, noticeMessage } from '../../api/notice/notice-messages.js';
import { appMessage, MSG_PARAM_MAX_BYTES, type TemplateMessage } from '../../api/robot/app-templates.js';
import { type WebhookAt, type WebhookMessage, webhookMessage } from '../../api/robot/webhook-messages.js';
import { checkKeywords, WEBHOOK_MAX_BYTES } from '../../api/robot/webhook-validate.js';
import { ValidationError } from '../../core/errors.js';
import type { HubConfig } from '../config.js';
import type { Job, JobChannel, JobPayload } from '../delivery/jobs.js';
import { byteLength, numberParts, splitMessage } from './split.js';

/**
 * Room kept in a webhook body for the `msgUuid` the sender adds (the job id, docs/dingtalk.md §2.1), so a part that
 * fits here still fits the library's cap on the wire.
 */
const MSG_UUID_ROOM = 64;

export interface MentionTarget {
  name: string;
  userId?: string | undefined;
  mobile?: string | undefined;
}

interface PlanInput {
  group?: string | undefined;
  /** Resolved people (for `to`). */
  to?: readonly MentionTarget[] | undefined;
  via?: JobChannel | undefined;
  text: string;
  format: 'text' | 'markdown';
  title?: string | undefined;
  mention?: readonly MentionTarget[] | undefined;
  mentionAll?: boolean | undefined;
  /**
   * Hub-written texts (announcements, reminders, replies): a keyword robot gets its first keyword as a prefix
   * instead of a refusal. Caller texts are refused, so nobody's words are changed without asking.
   */
  addKeyword?: boolean | undefined;
  /** Per-request ordering; absent: the conversation's setting (`groups.<alias>.ordered`, `ordering.*`). */
  ordered?: boolean | undefined;
  /**
   * Key for an unordered conversation, e.g. `task:42`: the messages of one task stay in order among themselves
   * (assigned before finished) while other traffic of the group is not held back.
   */
  sequence?: string | undefined;
}

/** Whether a group's messages are delivered strictly in order (request override, the group's, the default). */
export function groupOrdered(cfg: HubConfig, alias: string, override?: boolean): boolean {
  return override ?? cfg.groups[alias]?.ordered ?? cfg.ordering.groups;
}

/** Whether 1:1 messages and notices to people are delivered strictly in order. */
export function peopleOrdered(cfg: HubConfig, override?: boolean): boolean {
  return override ?? cfg.ordering.people;
}

/**
 * The order fields of `parts` jobs for a conversation: its own key when ordered, else the caller's sequence, else
 * a key scoped to this message when there is more than one part (or `always`, for a comment and its file), else
 * none.
 */
/**
 * The conversation key of a 1:1 chat: the person's userId, the one id every path knows (a send by name resolves
 * it; a chat command arrives with it), so replies and hub messages to one person share a key.
 */
export function personConversation(userId: string): string {
  return `person:${userId}`;
}

export function orderFields(
  conversation: string,
  ordered: boolean,
  parts: number,
  o: { sequence?: string | undefined; always?: boolean } = {},
): Pick<Job, 'orderKey' | 'orderScope'> {
  if (ordered) return { orderKey: conversation };
  if (o.sequence !== undefined) return { orderKey: o.sequence };
  if (parts > 1 || o.always) return { orderKey: conversation, orderScope: 'message' };
  return {};
}

/** The app used for people, todos and users: `defaultApp`, else the only/first app. */
export function defaultAppName(cfg: HubConfig): string | undefined {
  return cfg.defaultApp ?? Object.keys(cfg.apps)[0];
}

const OP = 'messages.send';

export function planMessage(input: PlanInput, cfg: HubConfig): Job[] {
  if (input.text.trim() === '') throw new ValidationError('must not be empty', 'text');
  const hasGroup = input.group !== undefined;
  const hasTo = input.to !== undefined && input.to.length > 0;
  if (hasGroup === hasTo) throw new ValidationError('give exactly one of group or to', 'group');
  if (hasGroup) return planGroup(input, input.group!, cfg);
  return input.to!.flatMap((p) => planPerson(input, p, cfg));
}

/** How people @mentioned in a group that cannot notify them are reached (config `tasks.mentionFallback`). */
export type MentionFallback = 'app' | 'notice' | 'none';

/**
 * A group message that @mentions people, planned so that the mentions reach them. Through the group's custom robot
 * they are real (`at.atUserIds`, docs/dingtalk.md §2.5) and DingTalk notifies each one. An app-robot group send
 * carries no `at` (§3.1): the text names them, nobody is notified, so each mentioned person with a userId also gets
 * the same text 1:1 (`fallback` 'app': the app robot's chat with them, §3.2) or as a work notification ('notice',
 * §5), unless `fallback` is 'none'. All in one plan, so they are enqueued together.
 */
export function planGroupMentions(
  input: PlanInput & { group: string },
  cfg: HubConfig,
  fallback: MentionFallback,
): Job[] {
  const jobs = planMessage(input, cfg);
  if (fallback === 'none' || jobs.some((j) => j.channel === 'robot')) return jobs;
  const reach = (input.mention ?? []).filter((m) => m.userId !== undefined);
  if (reach.length === 0) return jobs;
  const { group: _g, mention: _m, mentionAll: _a, via: _v, ordered: _o, sequence: _s, ...text } = input;
  return [...jobs, ...planMessage({ ...text, to: reach, via: fallback }, cfg)];
}

function planGroup(input: PlanInput, alias: string, cfg: HubConfig): Job[] {
  const g = cfg.groups[alias];
  if (!g) throw new ValidationError(`no group named "${alias}" in the config`, 'group');
  const via = input.via ?? (g.robot ? 'robot' : 'app');
  const ordered = groupOrdered(cfg, alias, input.ordered);
  const order = (n: number) => orderFields(`group:${alias}`, ordered, n, { sequence: input.sequence });
  if (via === 'notice') throw new ValidationError('work notifications go to people, not groups', 'via');
  if (via === 'robot') {
    if (!g.robot) throw new ValidationError(`group "${alias}" has no custom robot`, 'via');
    const robot = cfg.robots[g.robot]!;
    const { text, at } = robotMentions(input);
    if (!input.addKeyword) checkKeywords(webhookBody(input, text, undefined, 0, 1), robot.keywords ?? [], OP);
    const parts = fitParts(text, WEBHOOK_MAX_BYTES - MSG_UUID_ROOM, (t, k, n) =>
      webhookBody(input, withKeyword(t, robot.keywords), k === n - 1 ? at : undefined, k, n),
    );
    return parts.map((body, k) => ({
      channel: 'robot' as const,
      target: alias,
      payload: { t: 'webhook', robot: g.robot!, body } satisfies JobPayload,
      ...order(parts.length),
      part: parts.length > 1 ? { index: k + 1, count: parts.length } : undefined,
      rateKey: `webhook:${g.robot}`,
    }));
  }
  if (!g.app) throw new ValidationError(`group "${alias}" has no app robot`, 'via');
  if (!g.openConversationId) {
    throw new ValidationError(`group "${alias}" needs an openConversationId for app-robot sends`, 'group');
  }
  const app = g.app;
  const text = nameMentions(input);
  const parts = fitParts(text, MSG_PARAM_MAX_BYTES, (t, k, n) => appParam(input, t, k, n));
  return parts.map((p, k) => ({
    channel: 'app' as const,
    target: alias,
    payload: { t: 'group', app, openConversationId: g.openConversationId!, ...p } satisfies JobPayload,
    ...order(parts.length),
    part: parts.length > 1 ? { index: k + 1, count: parts.length } : undefined,
  }));
}

function planPerson(input: PlanInput, person: MentionTarget, cfg: HubConfig): Job[] {
  const app = defaultAppName(cfg);
  if (!app) throw new ValidationError('sending to people needs an app in the config (apps.<name>)', 'to');
  const via = input.via ?? 'app';
  if (via === 'robot') throw new ValidationError('custom robots post to their group only', 'via');
  if (!person.userId) throw new ValidationError(`no userId known for "${person.name}"`, 'to');
  const text = nameMentions(input);
  const ordered = peopleOrdered(cfg, input.ordered);
  const order = (n: number) =>
    orderFields(personConversation(person.userId!), ordered, n, { sequence: input.sequence });
  if (via === 'notice') {
    if (cfg.apps[app]?.agentId === undefined) {
      throw new ValidationError(`work notifications need apps.${app}.agentId`, 'via');
    }
    const parts = fitParts(text, NOTICE_MAX_BYTES, (t, k, n) => noticeMsg(input, t, k, n));
    return parts.map((msg, k) => ({
      channel: 'notice' as const,
      target: person.name,
      payload: { t: 'notice', app, userIds: [person.userId!], msg } satisfies JobPayload,
      ...order(parts.length),
      part: parts.length > 1 ? { index: k + 1, count: parts.length } : undefined,
    }));
  }
  const parts = fitParts(text, MSG_PARAM_MAX_BYTES, (t, k, n) => appParam(input, t, k, n));
  return parts.map((p, k) => ({
    channel: 'app' as const,
    target: person.name,
    payload: { t: 'oto', app, userIds: [person.userId!], ...p } satisfies JobPayload,
    ...order(parts.length),
    part: parts.length > 1 ? { index: k + 1, count: parts.length } : undefined,
  }));
}

/**
 * Custom-robot mentions (docs/dingtalk.md §2.5): the `at` object notifies, but the @ renders only where the text holds
 * `@<userId>` or `@<mobile>`. A `@Name` already in the text is rewritten in place; others are appended.
 */
export function robotMentions(input: PlanInput): {
  text: string;
  at: WebhookAt | undefined;
} {
  const people = input.mention ?? [];
  if (people.length > 50)
    throw new ValidationError('at most 50 people per message (docs/dingtalk.md §2.5)', 'mention');
  if (people.length === 0 && !input.mentionAll) return { text: input.text, at: undefined };
  let text = input.text;
  const atUserIds: string[] = [];
  const atMobiles: string[] = [];
  const tail: string[] = [];
  for (const p of people) {
    const handle = p.userId ?? p.mobile;
    if (!handle) throw new ValidationError(`no userId or mobile known for "${p.name}"`, 'mention');
    if (p.userId) atUserIds.push(p.userId);
    else atMobiles.push(p.mobile!);
    const byName = `@${p.name}`;
    if (text.includes(byName)) text = text.split(byName).join(`@${handle}`);
    else if (!text.includes(`@${handle}`)) tail.push(`@${handle}`);
  }
  if (tail.length > 0) text = `${text}\n${tail.join(' ')}`;
  return {
    text,
    at: {
      ...(atUserIds.length ? { atUserIds } : {}),
      ...(atMobiles.length ? { atMobiles } : {}),
      isAtAll: input.mentionAll === true,
    },
  };
}

/** App robots and notices cannot @ (§3.1): names are written so readers still see who is meant. */
function nameMentions(input: PlanInput): string {
  const tail = (input.mention ?? []).map((p) => `@${p.name}`).filter((h) => !input.text.includes(h));
  return tail.length > 0 ? `${input.text}\n${tail.join(' ')}` : input.text;
}

/**
 * A split part that lost the keyword, or a hub-written text, gets the robot's first keyword as a prefix, so every
 * part passes the robot's check (docs/dingtalk.md §2.2).
 */
export function withKeyword(text: string, keywords: readonly string[] | undefined): string {
  if (!keywords || keywords.length === 0 || keywords.some((k) => text.includes(k))) return text;
  return `[${keywords[0]}] ${text}`;
}

function partTitle(input: PlanInput, text: string, k: number, n: number): string {
  const base = input.title ?? (text.split('\n')[0] ?? '').slice(0, 32);
  return n > 1 ? `${base} (${k + 1}/${n})` : base;
}

/** The `at` object is set as given: `robotMentions` has already written the handles into the text. */
function webhookBody(
  input: PlanInput,
  text: string,
  at: WebhookAt | undefined,
  k: number,
  n: number,
): WebhookMessage {
  const m =
    input.format === 'markdown'
      ? webhookMessage.markdown(partTitle(input, text, k, n), text)
      : webhookMessage.text(text);
  return at ? { ...m, at } : m;
}

function appParam(input: PlanInput, text: string, k: number, n: number): TemplateMessage {
  return input.format === 'markdown'
    ? appMessage.markdown(partTitle(input, text, k, n), text)
    : appMessage.text(text);
}

function noticeMsg(input: PlanInput, text: string, k: number, n: number): NoticeMessage {
  return input.format === 'markdown'
    ? noticeMessage.markdown(partTitle(input, text, k, n), text)
    : noticeMessage.text(text);
}

/**
 * Splits `text` so that each built object, JSON-encoded, is within `cap` bytes. The text budget starts at the cap
 * minus the envelope and shrinks while JSON escaping (quotes, line breaks) pushes a part over.
 */
function fitParts<T>(text: string, cap: number, build: (t: string, k: number, n: number) => T): T[] {
  const overhead = byteLength(JSON.stringify(build('', 0, 99))) + 64;
  let budget = cap - overhead;
  for (let round = 0; round < 12 && budget >= 64; round++) {
    const raw = splitMessage(text, budget);
    const parts = numberParts(raw, budget);
    const built = parts.map((t, k) => build(t, k, parts.length));
    if (built.every((b) => byteLength(JSON.stringify(b)) <= cap)) return built;
    budget = Math.floor(budget * 0.85);
  }
  throw new ValidationError(`cannot fit the message within ${cap} bytes`, 'text');
}
