/**
 * The parts of GitHub's webhook payloads the `github` kind reads (GitHub docs, "Webhook events and payloads":
 * `pull_request`, `issues`, `workflow_run`, `push`; docs/gateways.md "GitHub"). Only the fields used are
 * described; GitHub sends many more, which are ignored. A missing or mistyped field used here is a 400 naming
 * it (`pull_request.number: Required`).
 */

import { z } from 'zod';

const text = (max: number) => z.string().max(max);
const url = z.string().max(2_048).url();
const login = z.string().min(1).max(100);
const user = z.object({ login });

/** GitHub's owner and repository names are letters, digits, `-`, `_` and `.`. */
export const repository = z.object({
  full_name: z
    .string()
    .max(300)
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name'),
  html_url: url,
});
const common = { repository, sender: user.optional() };

export const pullRequestEvent = z.object({
  action: text(64),
  number: z.number().int().positive(),
  pull_request: z.object({
    title: text(1_024),
    html_url: url,
    user,
    updated_at: text(64),
    draft: z.boolean().default(false),
    merged: z.boolean().nullable().default(false),
    base: z.object({ ref: text(256) }),
    head: z.object({ ref: text(256) }),
  }),
  /** `review_requested` / `review_request_removed` name one reviewer, or a team instead. */
  requested_reviewer: user.optional(),
  requested_team: z.object({ name: text(256) }).optional(),
  ...common,
});
export type PullRequestEvent = z.infer<typeof pullRequestEvent>;

export const issuesEvent = z.object({
  action: text(64),
  issue: z.object({
    number: z.number().int().positive(),
    title: text(1_024),
    html_url: url,
    user,
    updated_at: text(64),
    /** GitHub's issues API also lists pull requests; an issue has no `pull_request` key. */
    pull_request: z.unknown().optional(),
  }),
  /** `assigned` / `unassigned`: the person the event is about. */
  assignee: user.nullable().optional(),
  ...common,
});
export type IssuesEvent = z.infer<typeof issuesEvent>;

export const workflowRunEvent = z.object({
  action: text(64),
  workflow_run: z.object({
    id: z.number().int().nonnegative(),
    name: text(256).nullable(),
    workflow_id: z.number().int().nonnegative(),
    head_branch: text(256).nullable(),
    head_sha: text(64),
    html_url: url,
    run_number: z.number().int().nonnegative(),
    event: text(64),
    status: text(64).nullable(),
    /** `success`, `failure`, `timed_out`, `startup_failure`, `cancelled`, ...; null until it completes. */
    conclusion: text(64).nullable(),
    run_started_at: text(64).optional(),
    updated_at: text(64),
    actor: user.optional(),
    head_commit: z
      .object({ message: text(65_536) })
      .nullable()
      .optional(),
  }),
  ...common,
});
export type WorkflowRunEvent = z.infer<typeof workflowRunEvent>;

export const pushEvent = z.object({
  repository: repository.extend({ pushed_at: z.number().int().nonnegative() }),
  ref: text(512),
  before: text(64),
  after: text(64),
  compare: url,
  created: z.boolean().default(false),
  deleted: z.boolean().default(false),
  forced: z.boolean().default(false),
  pusher: z.object({ name: text(256) }),
  commits: z
    .array(
      z.object({
        id: text(64),
        message: text(65_536),
        url,
        author: z.object({ name: text(256), username: login.optional() }),
      }),
    )
    .max(2_048),
  sender: user.optional(),
});
export type PushEvent = z.infer<typeof pushEvent>;
