/**
 * GitHub webhook bodies (GitHub docs, "Webhook events and payloads"), trimmed to what the `github` kind reads and
 * a little around it. The event is in `headers`; the delivery id differs per post (`headersFor`), so posting a
 * sample twice is two deliveries. Numbers carry the post number, so each post is a new pull request or issue.
 */
import type { HookSample } from './sample.js';

const repository = {
  full_name: 'octo-org/hello-world',
  html_url: 'https://github.com/octo-org/hello-world',
};
const sender = { login: 'octocat' };

function delivery(n: number, now: Date): Record<string, string> {
  // A GUID-like id, as GitHub sends (the hub only needs it unique per delivery).
  const hex = `${now.getTime().toString(16)}${n.toString(16).padStart(8, '0')}`.padStart(32, '0').slice(-32);
  return {
    'x-github-delivery': `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

export const githubSamples: readonly HookSample[] = [
  {
    name: 'pull_request.review_requested',
    headers: { 'x-github-event': 'pull_request' },
    headersFor: delivery,
    body: (n, now) => ({
      action: 'review_requested',
      number: 1000 + n,
      pull_request: {
        updated_at: now.toISOString(),
        title: 'Retry the upload when the token expires (a test PR)',
        html_url: `https://github.com/octo-org/hello-world/pull/${1000 + n}`,
        user: { login: 'octocat' },
        draft: false,
        merged: false,
        head: { ref: 'retry-upload' },
        base: { ref: 'main' },
      },
      requested_reviewer: { login: 'octocat' },
      repository,
      sender,
    }),
  },
  {
    name: 'issues.assigned',
    headers: { 'x-github-event': 'issues' },
    headersFor: delivery,
    body: (n, now) => ({
      action: 'assigned',
      issue: {
        updated_at: now.toISOString(),
        number: 2000 + n,
        title: 'Uploads fail after an hour (a test issue)',
        html_url: `https://github.com/octo-org/hello-world/issues/${2000 + n}`,
        user: { login: 'octocat' },
      },
      assignee: { login: 'octocat' },
      repository,
      sender,
    }),
  },
  {
    name: 'workflow_run.failure',
    headers: { 'x-github-event': 'workflow_run' },
    headersFor: delivery,
    body: (n, now) => ({
      action: 'completed',
      workflow_run: {
        id: 30_000_000 + n,
        name: 'CI (a test run)',
        workflow_id: 159038,
        head_branch: `test-${n}`,
        head_sha: 'acb5820ced9479c074f688cc328bf03f341a511d',
        html_url: `https://github.com/octo-org/hello-world/actions/runs/${30_000_000 + n}`,
        run_number: n,
        event: 'push',
        status: 'completed',
        conclusion: 'failure',
        run_started_at: new Date(now.getTime() - 5 * 60_000).toISOString(),
        updated_at: now.toISOString(),
        actor: { login: 'octocat' },
        head_commit: { message: 'Retry the upload when the token expires' },
      },
      repository,
      sender,
    }),
  },
  {
    name: 'push',
    headers: { 'x-github-event': 'push' },
    headersFor: delivery,
    body: (n, now) => ({
      ref: 'refs/heads/main',
      before: '9049f1265b7d61be4a8904a9a27120d2064dab3b',
      after: 'acb5820ced9479c074f688cc328bf03f341a511d',
      compare: 'https://github.com/octo-org/hello-world/compare/9049f1265b7d...acb5820ced94',
      created: false,
      deleted: false,
      forced: false,
      pusher: { name: 'octocat' },
      commits: [
        {
          id: 'acb5820ced9479c074f688cc328bf03f341a511d',
          message: `Retry the upload when the token expires (test push ${n})`,
          url: 'https://github.com/octo-org/hello-world/commit/acb5820ced9479c074f688cc328bf03f341a511d',
          author: { name: 'The Octocat', username: 'octocat' },
        },
      ],
      repository: { ...repository, pushed_at: Math.floor(now.getTime() / 1000) },
      sender,
    }),
  },
];
