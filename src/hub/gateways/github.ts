/**
 * The `github` kind: a repository's (or organisation's) webhook (docs/gateways.md "GitHub"). GitHub names the
 * event in `X-GitHub-Event` and the delivery in `X-GitHub-Delivery` (a GUID that a redelivery keeps), and signs
 * the raw body (the route's hmac auth, config.ts `githubAuth`). What each event becomes:
 *
 * | event / action                                                 | item                                                        |
 * | -------------------------------------------------------------- | ----------------------------------------------------------- |
 * | `ping`                                                         | nothing (200)                                               |
 * | `pull_request` opened, reopened (not drafts), ready_for_review | a message                                                   |
 * | `pull_request` review_requested                                | a message @mentioning the requested reviewer (mapped login) |
 * | `pull_request` closed                                          | a message: merged, or closed without merging                |
 * | `issues` assigned, unassigned, closed, reopened                | a task change (github-tasks.ts), not a message              |
 * | `workflow_run` completed, failing conclusion                   | a firing alert per workflow and branch, linking the run     |
 * | `workflow_run` completed, `success`                            | resolves that alert (only if it fired)                      |
 * | `push` (route `github.push: true`)                             | a summary: commits, pusher, compare link                    |
 * | anything else                                                  | nothing (200, counted as ignored)                           |
 *
 * Dedupe: the delivery id. Logins become people only through the directory (`people.<key>.github`); an unknown
 * login is written as text, never matched to a name that looks alike.
 */

import type { z } from 'zod';
import type { Locale } from '../locale.js';
import {
  type IssuesEvent,
  issuesEvent,
  type PullRequestEvent,
  type PushEvent,
  pullRequestEvent,
  pushEvent,
  type WorkflowRunEvent,
  workflowRunEvent,
} from './github-events.js';
import { firstLine, GITHUB_TEXTS, type GithubTexts, oneLine } from './github-texts.js';
import type { HookItem, IssueTaskOp } from './items.js';
import type { KindRefusal, KindResult } from './kind-contract.js';

export interface GithubInput {
  body: unknown;
  event: string | undefined;
  delivery: string | undefined;
  /** Directory key of a GitHub login, case-insensitive; undefined when no person has it. */
  person: (login: string) => string | undefined;
  locale: Locale;
  push: boolean;
  /** Epoch ms now, and the age past which a delivery's event is refused (the dedupe rows' retention). */
  now: number;
  maxAgeMs: number;
}

/** Failing conclusions of a completed run (GitHub's check-run conclusions); others are not news. */
const FAILED = new Set(['failure', 'timed_out', 'startup_failure']);
const PR_ACTIONS = new Set(['opened', 'reopened', 'ready_for_review', 'review_requested', 'closed']);
const ISSUE_OPS: Record<string, IssueTaskOp['op']> = {
  assigned: 'assign',
  unassigned: 'unassign',
  closed: 'close',
  reopened: 'reopen',
};
/** Commits listed in a push summary; the rest are counted. */
const PUSH_LINES = 10;

const bad = (code: string, message: string): KindResult => ({ ok: false, refusal: { code, message } });

export function parseGithub(input: GithubInput, zodRefusal: (e: z.ZodError) => KindRefusal): KindResult {
  const { event, delivery } = input;
  if (delivery === undefined) return bad('missing_delivery', 'X-GitHub-Delivery is required');
  if (!/^[A-Za-z0-9-]{1,100}$/.test(delivery))
    return bad('invalid_delivery', 'X-GitHub-Delivery must be 1-100 letters, digits or -');
  if (event === undefined) return bad('missing_event', 'X-GitHub-Event is required');
  if (!/^[a-z_]{1,64}$/.test(event)) return bad('invalid_event', 'X-GitHub-Event is not an event name');
  if (!input.body || typeof input.body !== 'object' || Array.isArray(input.body)) {
    return bad('invalid_payload', '(body): expected a JSON object');
  }
  const dedupKey = `gh:${delivery}`;
  const ignored = (why: string): KindResult => ({ ok: true, parsed: { dedupKey, items: [], ignored: why } });
  const t = GITHUB_TEXTS[input.locale];
  const parsed = <T>(
    schema: z.ZodType<T>,
    at: (v: T) => string | undefined,
    f: (v: T) => HookItem[] | string,
  ): KindResult => {
    const r = schema.safeParse(input.body);
    if (!r.success) return { ok: false, refusal: zodRefusal(r.error) };
    // GitHub's signature carries no time, so a captured delivery verifies for ever; its delivery id dedupes it
    // only while the dedupe row is kept (retention). Past that, the event's own time refuses it.
    const stale = staleness(at(r.data), input.now, input.maxAgeMs);
    if (stale !== undefined) return bad(stale.code, stale.message);
    const out = f(r.data);
    return typeof out === 'string' ? ignored(out) : { ok: true, parsed: { dedupKey, items: out } };
  };
  switch (event) {
    case 'ping':
      return ignored('ping');
    case 'pull_request':
      return parsed(
        pullRequestEvent,
        (e) => e.pull_request.updated_at,
        (e) => pullRequestItems(e, t, input.person),
      );
    case 'issues':
      return parsed(
        issuesEvent,
        (e) => e.issue.updated_at,
        (e) => issueItems(e, input.person),
      );
    case 'workflow_run':
      return parsed(
        workflowRunEvent,
        (e) => e.workflow_run.updated_at,
        (e) => workflowItems(e, t, input.person),
      );
    case 'push':
      if (!input.push) return ignored('push summaries are off for this route');
      // A push's commits may be old; `repository.pushed_at` (epoch seconds) is when this push happened.
      return parsed(
        pushEvent,
        (e) =>
          e.repository.pushed_at !== undefined
            ? new Date(e.repository.pushed_at * 1000).toISOString()
            : undefined,
        (e) => pushItems(e, t),
      );
    default:
      return ignored(`event ${event}`);
  }
}

function staleness(
  at: string | undefined,
  now: number,
  maxAgeMs: number,
): { code: string; message: string } | undefined {
  if (at === undefined) return { code: 'invalid_payload', message: 'the event carries no time' };
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) return { code: 'invalid_payload', message: 'the event time is not a date' };
  if (now - ms > maxAgeMs) {
    return {
      code: 'stale_delivery',
      message: 'the event is older than the hub remembers deliveries (a replay?)',
    };
  }
  return undefined;
}

/** Labels for rules, and listed by the alert templates: each value one line, without markdown link syntax. */
function labels(event: string, action: string, repo: string, extra: Record<string, string>) {
  const all: Record<string, string> = { event, action, repo, ...extra };
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, oneLine(v, 256)]));
}

function pullRequestItems(
  e: PullRequestEvent,
  t: GithubTexts,
  person: GithubInput['person'],
): HookItem[] | string {
  if (!PR_ACTIONS.has(e.action)) return `pull_request ${e.action}`;
  const pr = e.pull_request;
  // A draft is not ready for anyone's eyes: it is announced by `ready_for_review` instead.
  if (pr.draft && (e.action === 'opened' || e.action === 'reopened'))
    return `pull_request ${e.action} (draft)`;
  const repo = e.repository.full_name;
  const lines = [
    t.prLine({
      repo,
      number: e.number,
      title: oneLine(pr.title),
      url: pr.html_url,
      author: oneLine(pr.user.login, 100),
      head: oneLine(pr.head.ref, 100),
      base: oneLine(pr.base.ref, 100),
    }),
  ];
  const mentions: string[] = [];
  if (e.action === 'review_requested') {
    const login = e.requested_reviewer?.login;
    const key = login === undefined ? undefined : person(login);
    if (key !== undefined) mentions.push(key);
    else if (login !== undefined) lines.push(t.reviewersUnknown(oneLine(login, 100)));
    if (e.requested_team) lines.push(t.team(oneLine(e.requested_team.name, 100)));
  }
  lines.push(`[${t.view}](${pr.html_url})`);
  const state = e.action === 'closed' ? (pr.merged ? 'merged' : 'closed') : e.action;
  const title = `${t.pr[state as keyof GithubTexts['pr']]}: ${repo}#${e.number}`;
  return [
    {
      kind: 'event',
      labels: labels('pull_request', e.action, repo, {
        number: String(e.number),
        author: pr.user.login,
        branch: pr.base.ref,
        state,
      }),
      annotations: {},
      body: {
        title,
        text: lines.join('\n\n'),
        github: { event: 'pull_request', action: e.action, state, repo, number: e.number, url: pr.html_url },
      },
      mentions,
    },
  ];
}

function issueItems(e: IssuesEvent, person: GithubInput['person']): HookItem[] | string {
  const op = ISSUE_OPS[e.action];
  if (op === undefined) return `issues ${e.action}`;
  const repo = e.repository.full_name;
  const logins = op === 'assign' || op === 'unassign' ? (e.assignee ? [e.assignee.login] : []) : [];
  const people: string[] = [];
  const unknown: string[] = [];
  for (const l of logins) {
    const key = person(l);
    if (key !== undefined) people.push(key);
    else unknown.push(l);
  }
  const task: IssueTaskOp = {
    op,
    repo,
    number: e.issue.number,
    // A task's title is plain text (a text announcement, a Todo's subject), so it is kept as written.
    title: firstLine(e.issue.title, 900),
    url: e.issue.html_url,
    people,
    unknown,
  };
  return [
    {
      kind: 'event',
      labels: labels('issues', e.action, repo, { number: String(e.issue.number) }),
      annotations: {},
      task,
    },
  ];
}

function workflowItems(
  e: WorkflowRunEvent,
  t: GithubTexts,
  person: GithubInput['person'],
): HookItem[] | string {
  const run = e.workflow_run;
  if (e.action !== 'completed' || run.conclusion === null) return `workflow_run ${e.action}`;
  const failed = FAILED.has(run.conclusion);
  if (!failed && run.conclusion !== 'success') return `workflow_run ${run.conclusion}`;
  const repo = e.repository.full_name;
  const branch = run.head_branch ?? '';
  const name = oneLine(run.name ?? `workflow ${run.workflow_id}`, 100);
  const actor = run.actor?.login ?? e.sender?.login ?? '';
  const key = actor === '' ? undefined : person(actor);
  const summary = [
    t.runSummary(
      run.run_number,
      oneLine(run.conclusion, 64),
      oneLine(run.event, 64),
      oneLine(actor, 100) || '?',
    ),
    run.head_commit ? `${run.head_sha.slice(0, 7)} ${oneLine(run.head_commit.message)}` : '',
  ]
    .filter((s) => s !== '')
    .join(' · ');
  return [
    {
      kind: failed ? 'firing' : 'resolved',
      // One alert per workflow and branch: a later green run of the same resolves it, and further red runs while
      // it is red are repeats of the same incident (folded, as Alertmanager's repeats are).
      fingerprint: `gh-run:${repo}:${run.workflow_id}:${branch}`,
      labels: {
        alertname: t.runFailed(name, oneLine(repo, 300), oneLine(branch, 100)),
        ...labels('workflow_run', e.action, repo, { branch, workflow: name, conclusion: run.conclusion }),
      },
      annotations: { summary },
      startsAt: run.run_started_at ?? run.updated_at,
      ...(failed ? {} : { endsAt: run.updated_at }),
      generatorURL: run.html_url,
      ...(failed ? { mentions: key !== undefined ? [key] : [] } : { onlyIfFiring: true }),
    },
  ];
}

function pushItems(e: PushEvent, t: GithubTexts): HookItem[] | string {
  if (e.deleted) return 'push deleting a ref';
  if (e.commits.length === 0) return 'push without commits';
  const repo = e.repository.full_name;
  const branch = e.ref.replace(/^refs\/(heads|tags)\//, '');
  const shown = e.commits.slice(-PUSH_LINES).map((c) => {
    const who = c.author.username ?? c.author.name;
    return `- [${c.id.slice(0, 7)}](${c.url}) ${oneLine(c.message, 120)} · ${oneLine(who, 60)}`;
  });
  const more = e.commits.length - shown.length;
  const text = [
    `**${repo}** ${oneLine(branch, 100)} · ${t.pushBy(oneLine(e.pusher.name, 60), e.forced)}`,
    [...(more > 0 ? [t.more(more)] : []), ...shown].join('\n'),
    `[${t.compare}](${e.compare})`,
  ].join('\n\n');
  return [
    {
      kind: 'event',
      labels: labels('push', 'push', repo, { branch, pusher: e.pusher.name }),
      annotations: {},
      body: {
        title: t.pushTitle(repo, oneLine(branch, 100), e.commits.length),
        text,
        github: { event: 'push', repo, branch, commits: e.commits.length, compare: e.compare },
      },
    },
  ];
}
