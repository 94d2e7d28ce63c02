/**
 * Who may change (or see) a task on a person's behalf: one rule for the chat commands, the Todo-done sync, the
 * people's pages and any API route that acts for a person. Pure, so the whole table is tested without I/O
 * (task-access.test.ts). Callers that hold an API token or run the CLI are operators: their scopes govern them,
 * not this rule.
 *
 * Checked top to bottom; the first row that matches decides.
 *
 * | actor                                              | task            | action                     | decision                    |
 * |----------------------------------------------------|-----------------|----------------------------|-----------------------------|
 * | not identified (no `senderStaffId`, not in people) | any             | any                        | refused `unidentified`      |
 * | identified                                         | does not exist  | any                        | refused `no_task`           |
 * | one of `tasks.access.admins`                       | any             | any                        | allowed `admin`             |
 * | a lead of the task's group (`leads.<group>`)       | in that group   | any                        | allowed `lead`              |
 * | the task's creator                                 | any             | any                        | allowed `creator`           |
 * | an assignee                                        | any             | view, start, done, cancel  | allowed `assignee`          |
 * | shown to be in the task's group, policy `group`/`org` | has a group  | view, start, done, cancel  | allowed `group_member`      |
 * | anyone identified, policy `org`                    | any             | view, start, done, cancel  | allowed `org_member`        |
 * | anyone else (and assignees asking to edit/reopen)  |                 |                            | refused `not_permitted`     |
 *
 * `edit` and `reopen` stay with the creator, admins and leads whatever the policy: an assignee finishes work,
 * reshaping it or reviving it after it was closed is the owner's call (and `reopen` is no chat command, so a stray
 * message cannot resurrect finished work, tasks/state.ts).
 *
 * Identity is the directory key the hub found for DingTalk's verified sender id (`senderStaffId`, docs/dingtalk.md §9a;
 * for a Todo event its `operatorUnionId`), never a name in the text. Group membership is not looked up: an actor
 * is "shown to be in" a group when the request came from that group's conversation, which only its members can
 * write in (the emulator enforces the same, src/emulator/acting.ts). A 1:1 chat shows no membership.
 *
 * `no_task` and `not_permitted` must look the same to the person (inbound/replies.ts): telling them apart would
 * tell an outsider which ids exist.
 */

import { ConfigError, DingTalkError } from '../../core/errors.js';
import type { TaskAction } from './state.js';

export type AccessPolicy = 'assignees' | 'group' | 'org';
export type TaskAccessAction = TaskAction | 'edit' | 'view';

/** The person asking, as far as the hub could verify. */
export interface AccessActor {
  /** Directory key (`people.<key>`); undefined when DingTalk did not say who it is or the hub does not know them. */
  person: string | undefined;
  /** Group aliases the request showed membership of (the group conversation a command was written in). */
  groups: readonly string[];
}

/** What the rule needs to know about the task. */
export interface AccessSubject {
  assignees: readonly string[];
  /** Directory key of the person who created it; undefined when an operator (token, CLI) did. */
  creator: string | undefined;
  group: string | undefined;
}

/** `tasks.access` with every name resolved to a directory key. */
export interface AccessRules {
  policy: AccessPolicy;
  admins: readonly string[];
  /** Group alias → keys of the people who lead that group's tasks. */
  leads: Readonly<Record<string, readonly string[]>>;
}

export type AllowReason = 'admin' | 'lead' | 'creator' | 'assignee' | 'group_member' | 'org_member';
export type RefuseReason = 'unidentified' | 'no_task' | 'not_permitted';
export type AccessDecision =
  | { allowed: true; reason: AllowReason }
  | { allowed: false; reason: RefuseReason };

export const DEFAULT_ACCESS: AccessRules = { policy: 'assignees', admins: [], leads: {} };

/** Actions any policy may widen; the others stay with the task's owners. */
const WIDENABLE: ReadonlySet<TaskAccessAction> = new Set(['view', 'start', 'done', 'cancel']);

export function decideTaskAccess(
  actor: AccessActor,
  task: AccessSubject | undefined,
  action: TaskAccessAction,
  rules: AccessRules,
): AccessDecision {
  const who = actor.person;
  if (who === undefined) return { allowed: false, reason: 'unidentified' };
  if (task === undefined) return { allowed: false, reason: 'no_task' };
  if (rules.admins.includes(who)) return { allowed: true, reason: 'admin' };
  if (task.group !== undefined && rules.leads[task.group]?.includes(who))
    return { allowed: true, reason: 'lead' };
  if (task.creator === who) return { allowed: true, reason: 'creator' };
  if (!WIDENABLE.has(action)) return { allowed: false, reason: 'not_permitted' };
  if (task.assignees.includes(who)) return { allowed: true, reason: 'assignee' };
  if (rules.policy !== 'assignees' && task.group !== undefined && actor.groups.includes(task.group)) {
    return { allowed: true, reason: 'group_member' };
  }
  if (rules.policy === 'org') return { allowed: true, reason: 'org_member' };
  return { allowed: false, reason: 'not_permitted' };
}

/**
 * Resolves the configured names (key, display name or userId, as everywhere in the config) to directory keys.
 * An unknown person or group is a ConfigError at start-up: a typo in an admin list must not pass silently.
 */
export function resolveAccessRules(
  cfg: {
    policy: AccessPolicy;
    admins: readonly string[];
    leads: Readonly<Record<string, readonly string[]>>;
  },
  keyOf: (name: string) => string | undefined,
  hasGroup: (alias: string) => boolean,
): AccessRules {
  const key = (name: string, at: string): string => {
    const k = keyOf(name);
    if (k === undefined) throw new ConfigError(`${at}: no person "${name}" under people`);
    return k;
  };
  const leads: Record<string, string[]> = {};
  for (const [alias, names] of Object.entries(cfg.leads)) {
    if (!hasGroup(alias)) throw new ConfigError(`tasks.access.leads.${alias}: no group named "${alias}"`);
    leads[alias] = names.map((n, i) => key(n, `tasks.access.leads.${alias}[${i}]`));
  }
  return {
    policy: cfg.policy,
    admins: cfg.admins.map((n, i) => key(n, `tasks.access.admins[${i}]`)),
    leads,
  };
}

/**
 * A person asked to change a task they may not (or one that does not exist: the same error, so an answer built
 * from it cannot tell the two apart). `reason` is for logs and metrics, not for the person.
 */
export class TaskAccessError extends DingTalkError {
  override readonly name: string = 'TaskAccessError';
  readonly reason: RefuseReason;
  constructor(taskId: number, reason: RefuseReason) {
    super('TASK_ACCESS', `task #${taskId}: no such task, or not yours to change`, {
      outcome: 'not_sent',
      retryable: false,
    });
    this.reason = reason;
  }
}

export function isTaskAccessError(e: unknown): e is TaskAccessError {
  return e instanceof TaskAccessError;
}
