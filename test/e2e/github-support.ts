/**
 * Shared set-up of the GitHub hook tests: a hub on the emulator with two GitHub routes (one with push summaries,
 * one without), people whose GitHub logins are mapped (张三 is `zs-octo`, 李四 is `ls-octo`), the fixtures of
 * test/fixtures/github/, and a poster that signs as GitHub does (X-Hub-Signature-256 over the raw body).
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/emulator.js';
import { signHook } from '../../src/hub/gateways/auth.js';
import { githubAuth } from '../../src/hub/gateways/config.js';
import type { RunningHub } from '../../src/hub/hub.js';
import { hookApp } from './gateways-support.js';
import { testConfig } from './hub-helpers.js';

export const GITHUB_SECRET = 'github-secret-0123456789abcdef';
export const ZHANGSAN_UNION = 'unionZhangSan0001';
export const LISI_UNION = 'unionLiSi00000002';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'github');

export type GithubFixture =
  | 'pull_request.review_requested'
  | 'issues.assigned'
  | 'workflow_run.failure'
  | 'push'
  | 'ping';

/**
 * A fixture with its event's time moved to `now` (the hub refuses events older than it keeps delivery ids).
 */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are GitHub's JSON, patched freely by the tests.
export function ghFixture(name: GithubFixture, now = Date.now()): any {
  const body = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
  const iso = new Date(now).toISOString();
  if (body.pull_request) body.pull_request.updated_at = iso;
  if (body.issue) body.issue.updated_at = iso;
  if (body.workflow_run) body.workflow_run.updated_at = iso;
  if (name === 'push') body.repository.pushed_at = Math.floor(now / 1000);
  return body;
}

/** `github` (push summaries on) and `github-quiet` (off), both to `ops` unless a rule says otherwise. */
export function githubConfig(extra: Record<string, unknown> = {}) {
  return testConfig({
    people: {
      zhangsan: { userId: 'zhangsan', github: 'zs-octo' },
      lisi: { userId: 'lisi', github: 'LS-Octo' },
    },
    gateways: {
      flushMs: 20,
      flapWindowMs: 0,
      routes: [
        {
          name: 'github',
          kind: 'github',
          secret: GITHUB_SECRET,
          rules: [{ match: { event: 'push' }, targets: { groups: ['engineering'] } }],
          targets: { groups: ['ops'] },
          github: { push: true },
        },
        { name: 'github-quiet', kind: 'github', secret: GITHUB_SECRET, targets: { groups: ['ops'] } },
      ],
    },
    ...extra,
  });
}

export interface GithubPost {
  event: string;
  body: unknown;
  delivery?: string;
  /** Replaces the computed signature (tampering tests); null sends none. */
  signature?: string | null;
  secret?: string;
  /** Sent instead of the signed body (the signature stays that of `body`). */
  sendRaw?: string;
  headers?: Record<string, string>;
}

export function githubPoster(hub: RunningHub<Emulator>) {
  const { post } = hookApp(hub);
  return async (path: string, p: GithubPost) => {
    const raw = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
    const signed = signHook(githubAuth(p.secret ?? GITHUB_SECRET), raw);
    const sig = p.signature === undefined ? signed['x-hub-signature-256'] : p.signature;
    return post(path, p.sendRaw ?? raw, {
      authorization: '',
      'x-github-event': p.event,
      'x-github-delivery': p.delivery ?? randomUUID(),
      'user-agent': 'GitHub-Hookshot/dingkit-test',
      ...(sig === null || sig === undefined ? {} : { 'x-hub-signature-256': sig }),
      ...p.headers,
    });
  };
}
